import type { Observation } from './probe';
import type { DemoNode, Snapshot } from './demo';

/** The demo's table: one row per name, one column per name server, failed-over answers marked. */
export function renderTable(s: Snapshot, nodes: readonly DemoNode[], color: boolean, running: (name: string) => boolean = () => true): string {
  const byAddress = new Map(nodes.map((n) => [n.address, n.name]));
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const cell = (name: string, o: Observation): { text: string; style: string } => {
    if (o === 'no answer') return { text: 'no answer (down)', style: '2' };
    if (o.rcode !== 'NOERROR') return { text: o.rcode, style: '33' };
    if (o.addresses.length === 0) return { text: 'no data', style: '33' };
    const own = nodes.find((n) => name.startsWith(`${n.name}.`));
    if (own && o.addresses[0] !== own.address) return { text: `${o.addresses[0]} (→ ${byAddress.get(o.addresses[0]) ?? '?'})`, style: '1;35' };
    return { text: o.addresses.join(' '), style: '32' };
  };
  const header = ['name', ...nodes.map((n) => `asked ${n.name}`)];
  const body = s.rows.map((r) => [{ text: r.name, style: '1' }, ...r.answers.map((o) => cell(r.name, o))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].text.length)));
  const line = (cells: { text: string; style: string }[]) => cells.map((c, i) => paint(c.style, c.text.padEnd(widths[i]))).join('  ');
  // The nodes as the cluster itself judges them (an agent's status API), else by process state.
  const states = nodes.map((n) => {
    const v = s.view?.nodes.find((x) => x.name === n.name);
    const killed = !running(n.name);
    const state = v ? (v.state === 'down' ? `DOWN (${v.reason.replace(/^\S+ down: /, '')})` : v.state) : killed ? 'agent killed' : 'starting';
    return paint(v?.state === 'down' || killed ? '1;31' : v?.state === 'up' ? '32' : '33', `${n.name} ${n.address}: ${state}${killed ? ', agent killed' : ''}`);
  });
  return [
    `nodes${s.view ? ` (as ${s.view.from} sees them)` : ''}: ${states.join('   ')}`,
    line(header.map((h) => ({ text: h, style: '4' }))),
    ...body.map(line),
  ].join('\n');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
