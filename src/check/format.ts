import type { Report } from './report';
import type { Severity } from './types';

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `  ${r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ')}`.trimEnd();
  return [line(head), ...rows.map(line)];
}

const ttl = (t: number | undefined) => (t === undefined ? '-' : `${t}`);
const secs = (x: number) => `${Number(x.toFixed(2))} s`;
const MARK: Record<Severity, string> = { ok: 'ok', warn: 'WARN', degraded: 'DEGRADED', broken: 'BROKEN' };

/** The report as a person reads it: the delegation, the servers, the names, the TTLs, then what to do. */
export function formatReport(r: Report): string {
  const m = r.model;
  const out: string[] = [];
  const p = m.parent;
  out.push(`Delegation of ${m.zone}. ${p ? `from ${p.label}` : '(no parent referral)'}`);
  for (const x of m.parents.filter((x) => x !== p)) out.push(`  ${p ? 'also asked' : 'asked'} ${x.label}: ${x.ok ? 'its referral is compared below' : x.problem}`);
  if (p) {
    out.push(
      ...table(
        ['name server', 'parent glue', 'cluster answers', 'TTL parent/child'],
        p.ns.map((host) => {
          const n = m.names.find((x) => x.name === host);
          const answers = n ? [...new Set(n.answers.values())].join(' | ') : '-';
          return [host, (p.glue.get(host) ?? ['(none)']).join(' '), answers || '-', `${ttl(p.nsTtl)}/${ttl(r.staleness.childNsTtl)}`];
        }),
      ),
    );
  }
  out.push('', 'Name servers');
  out.push(
    ...table(
      ['address', 'node', 'glue names', 'UDP', 'TCP', 'AA', 'EDNS', 'serial', 'NS set'],
      m.servers.map((s) => [
        s.label,
        s.identity ?? s.node ?? '-',
        s.glueNames.map((n) => n.split('.')[0]).join(',') || '-',
        s.udp,
        s.tcp,
        s.aa === undefined ? '-' : s.aa ? 'yes' : 'no',
        s.edns === undefined ? '-' : s.edns ? 'yes' : 'no',
        s.serial === undefined ? '-' : `${s.serial}`,
        s.ns?.map((n) => n.split('.')[0]).join(',') ?? '-',
      ]),
    ),
  );
  out.push('', 'Names');
  const failed = new Map(r.failedOver.map((f) => [f.name, f]));
  out.push(
    ...table(
      ['name', 'answer', 'own address', 'TTL', 'state'],
      m.names.map((n) => {
        const answers = [...new Set(n.answers.values())];
        const f = failed.get(n.name);
        const state = answers.length > 1 ? 'DISAGREE' : f ? `failed over to ${f.to.join(', ')}` : answers.length === 0 ? 'no server answered' : 'own';
        return [n.name, answers.join(' | ') || '-', n.expected.join(' ') || '?', ttl(n.ttl), state];
      }),
    ),
  );
  const st = r.staleness;
  out.push(
    '',
    'Time a client may keep a dead address',
    `  detection ${secs(st.detectionSeconds)} (peer.downAfter + peer.interval${st.detectionFrom === 'defaults' ? ', defaults: no --config' : ''})`,
    `  node name:        detection + answer TTL ${ttl(st.answerTtl)} = ${secs(st.nameWorstSeconds)}`,
    `  via NS and glue:  + parent TTL ${ttl(Math.max(st.parentNsTtl ?? 0, st.glueTtl ?? 0))} = ${secs(st.nsPathWorstSeconds)} (threshold ${st.maxStaleSeconds} s)`,
  );
  const dnssec = r.findings.filter((f) => f.severity === 'ok' && f.code.startsWith('dnssec-'));
  if (dnssec.length) out.push('', 'DNSSEC', ...dnssec.map((f) => `  ${f.message}`));
  const problems = r.findings.filter((f) => f.severity !== 'ok');
  out.push('');
  if (problems.length === 0) out.push('No problems found.');
  else {
    out.push('Problems');
    for (const f of problems) {
      out.push(`  ${MARK[f.severity].padEnd(8)} ${f.message}`);
      if (f.fix) out.push(`           fix: ${f.fix}`);
    }
  }
  const verdictLine: Record<Report['verdict'], string> = {
    healthy: 'healthy',
    degraded: `degraded: ${r.failedOver.map((f) => f.owner ?? f.name).filter((x, i, a) => a.indexOf(x) === i).join(', ') || 'a node'} down, failed over`,
    broken: 'broken',
  };
  out.push('', `${m.zone}: ${verdictLine[r.verdict]} (exit ${r.exitCode})${r.reasked ? ' — asked twice, the first answers looked like a change in progress' : ''}`);
  return `${out.join('\n')}\n`;
}

/** The same for programs: stable keys, plain values. */
export function reportToJson(r: Report): unknown {
  const m = r.model;
  return {
    zone: m.zone,
    verdict: r.verdict,
    exitCode: r.exitCode,
    reasked: r.reasked,
    parent: m.parents.map((p) => ({ server: p.label, ok: p.ok, problem: p.problem ?? null, ns: p.ns, nsTtl: p.nsTtl ?? null, glue: Object.fromEntries(p.glue), glueTtl: p.glueTtl ?? null })),
    servers: m.servers.map((s) => ({
      address: s.endpoint.host,
      port: s.endpoint.port,
      node: s.node ?? null,
      identity: s.identity ?? null,
      glueNames: s.glueNames,
      udp: s.udp,
      tcp: s.tcp,
      serving: s.serving,
      aa: s.aa ?? null,
      edns: s.edns ?? null,
      serial: s.serial ?? null,
      ns: s.ns ?? null,
    })),
    names: m.names.map((n) => ({ name: n.name, owner: n.owner ?? null, expected: n.expected, ttl: n.ttl ?? null, answers: Object.fromEntries(n.answers) })),
    failedOver: r.failedOver,
    staleness: r.staleness,
    findings: r.findings,
  };
}
