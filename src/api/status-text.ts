import type { StatusDocument } from './status-types';

/** `clusterdns status` exit codes: scripts and monitors branch on them. */
const EXIT_HEALTHY = 0;
const EXIT_DEGRADED = 1;
export const EXIT_UNAVAILABLE = 2;

export interface Health {
  readonly exitCode: 0 | 1 | 2;
  readonly summary: string;
}

/**
 * 2: the asked agent does not do its job (a node not answering the zone, a witness in the minority);
 * 1: it does, but a node is down or undecided, a name is failed over, configs differ, or a peer
 *    link drops heartbeats (no failover yet, but one more fault may make one);
 * 0: all up. A `suspect` node (late heartbeats) is shown but does not change the code: it is a
 * timing observation, and a script's exit code should not flicker with scheduling noise.
 */
export function clusterHealth(s: StatusDocument): Health {
  if (s.role === 'witness' ? s.minority || !s.quorum : !s.serving) {
    const why = s.minority ? `in the minority: hears ${s.hears.join(', ')} (${s.hears.length} of ${s.nodes.length}, needs ${s.majority})` : 'no quorum yet';
    return { exitCode: EXIT_UNAVAILABLE, summary: `${s.node} is not ${s.role === 'witness' ? 'voting' : `answering ${s.zone}`}: ${why}` };
  }
  const problems: string[] = [];
  const down = s.nodes.filter((n) => n.state === 'down').map((n) => n.name);
  const unknown = s.nodes.filter((n) => n.state === 'unknown').map((n) => n.name);
  const moved = s.answers.filter((a) => a.failedOver && a.kind === 'node' && !a.internal);
  if (down.length) problems.push(`${down.join(', ')} down`);
  if (unknown.length) problems.push(`${unknown.join(', ')} not decided yet`);
  if (moved.length) problems.push(`${moved.map((a) => `${a.owner} → ${a.servedBy.join(', ')}`).join(', ')} failed over`);
  if (s.config.mismatch) problems.push('nodes run different configs');
  // Older agents' documents have no `links`.
  for (const l of s.links ?? []) problems.push(l.message);
  if (problems.length) return { exitCode: EXIT_DEGRADED, summary: `degraded: ${problems.join('; ')}` };
  return { exitCode: EXIT_HEALTHY, summary: `healthy: all ${s.nodes.length} nodes up` };
}

export interface RenderOptions {
  /** ANSI colours (a terminal without NO_COLOR). */
  readonly color: boolean;
  /** Where the document came from, for the first line. */
  readonly source: string;
}

/** The status document as a terminal report: header, nodes, answers, the verdict line. */
export function renderStatus(s: StatusDocument, opts: RenderOptions): string {
  const paint = (code: string) => (t: string) => (opts.color ? `\x1b[${code}m${t}\x1b[0m` : t);
  const green = paint('32');
  const red = paint('31');
  const yellow = paint('33');
  const bold = paint('1');
  const dim = paint('2');
  const stateColor: Record<string, (t: string) => string> = { up: green, suspect: yellow, down: red, unknown: dim };

  const health = clusterHealth(s);
  const out: string[] = [];
  out.push(`${bold(s.zone)}  ${dim(`asked ${s.node} at ${opts.source} · v${s.version} · serial ${s.serial} · config ${s.configHash}${s.config.mismatch ? ' (MISMATCH)' : ''}`)}`);
  out.push(
    `${s.serving ? green('serving') : s.role === 'witness' ? 'witness' : red(`not serving (${s.unavailableRcode})`)} · hears ${s.hears.length} of ${s.nodes.length} (majority ${s.majority}) · failovers ${s.failovers} · up ${s.uptimeSeconds} s`,
  );
  out.push('');
  out.push(
    ...table(
      ['NODE', 'STATE', 'ADDRESS', 'HEARD', 'REASON'],
      s.nodes.map((n) => [
        `${n.name}${n.role === 'witness' ? ' (witness)' : ''}`,
        { text: n.condition === 'up' ? 'up' : n.condition.toUpperCase(), paint: stateColor[n.condition] },
        n.address ?? n.address6 ?? '',
        n.self ? 'self' : n.heardAgoMs === null ? 'never' : `${(n.heardAgoMs / 1000).toFixed(1)} s ago`,
        n.reason,
      ]),
    ),
  );
  out.push('');
  out.push(
    ...table(
      ['NAME', 'ANSWER', 'NODE'],
      s.answers.map((a) => {
        const addrs = [...a.a, ...a.aaaa];
        return [
          a.name,
          addrs.length ? addrs.join(', ') : { text: 'no address', paint: red },
          a.failedOver ? { text: `${a.servedBy.join(', ')} (failed over from ${a.owner})`, paint: yellow } : a.servedBy.join(', ') || '-',
        ];
      }),
    ),
  );
  out.push('');
  out.push(health.exitCode === EXIT_HEALTHY ? green(health.summary) : health.exitCode === EXIT_DEGRADED ? yellow(health.summary) : red(health.summary));
  return `${out.join('\n')}\n`;
}

type Cell = string | { readonly text: string; readonly paint: (t: string) => string };

/** Columns padded to their widest cell; colour is applied after padding so escapes do not count. */
function table(head: string[], rows: Cell[][]): string[] {
  const text = (c: Cell) => (typeof c === 'string' ? c : c.text);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i]).length)));
  const line = (cells: Cell[]) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? text(c) : text(c).padEnd(widths[i]);
        return typeof c === 'string' ? padded : c.paint(padded);
      })
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}
