import { describe, expect, it } from 'vitest';
import { statusDocument } from '../../src/api/status';
import { clusterHealth, renderStatus } from '../../src/api/status-text';
import type { StatusDocument } from '../../src/api/status-types';
import { zoneInputs } from '../../src/failover/zone-inputs';
import type { NodeView } from '../../src/membership/view';
import { config, source, view } from './fixtures';

/** `clusterdns status`'s exit code and table, from documents of known clusters. No sockets. */

const WALL = Date.UTC(2030, 0, 1, 12, 0, 30);

function doc(opts: { nodes?: Record<string, Partial<NodeView>>; minority?: boolean; witness?: boolean; mismatch?: boolean; privateAddresses?: boolean } = {}): StatusDocument {
  const cfg = config({ witness: opts.witness, privateAddresses: opts.privateAddresses });
  const nodes = { ...opts.nodes, ...(opts.mismatch ? { node3: { configHash: 'ffffffffffffffff' } } : {}) };
  let v = view(cfg, 10_000, nodes, opts.minority ? { minority: true, serving: false } : {});
  if (opts.minority) {
    // Cut off: the asked agent has heard no one else for 5 s.
    const self = opts.witness ? 'tie' : 'node1';
    const heard = Object.fromEntries(cfg.nodes.map((n) => [n.name, { everHeard: true, ageMs: n.name === self ? 0 : 5000, verdict: 'up' as const }]));
    v = { ...v, matrix: { ...v.matrix, [self]: { rowAgeMs: 0, fresh: true, heard } } };
  }
  const src = source(cfg, v, { inputs: zoneInputs(cfg, v, 5) });
  return statusDocument(opts.witness ? { ...src, node: cfg.nodes.find((n) => n.role === 'witness')! } : src, WALL, '1.2.3');
}
const down = { state: 'down' as const, up: false, reason: 'node3 down: not heard by node1, node2 for 1.0 s' };

describe('clusterHealth: the exit code', () => {
  it.each([
    ['all up', 0, 'healthy: all 3 nodes up', doc()],
    ['a node late but still up (suspect) does not change it', 0, 'healthy: all 3 nodes up', doc({ nodes: { node2: { healthy: false } } })],
    ['a node down and failed over', 1, /^degraded: node3 down; node3 → node[12] failed over$/, doc({ nodes: { node3: down } })],
    ['a node not decided yet', 1, /^degraded: node2 not decided yet; node2 → node[13] failed over$/, doc({ nodes: { node2: { state: 'unknown', up: false } } })],
    // internal.<zone> names fail over with the public ones: one move, said once.
    ['a node down, with private addresses', 1, /^degraded: node3 down; node3 → node[12] failed over$/, doc({ nodes: { node3: down }, privateAddresses: true })],
    ['configs differ', 1, 'degraded: nodes run different configs', doc({ mismatch: true })],
    ['the asked node is in the minority', 2, 'node1 is not answering cluster.test: in the minority: hears node1 (1 of 3, needs 2)', doc({ minority: true })],
    ['a witness that hears a majority', 0, 'healthy: all 4 nodes up', doc({ witness: true })],
    ['a witness in the minority', 2, 'tie is not voting: in the minority: hears tie (1 of 4, needs 3)', doc({ witness: true, minority: true })],
  ])('%s → exit %i', (_what, code, summary, d) => {
    const h = clusterHealth(d);
    expect(h.exitCode).toBe(code);
    if (typeof summary === 'string') expect(h.summary).toBe(summary);
    else expect(h.summary).toMatch(summary);
  });
});

describe('renderStatus', () => {
  it('aligned columns, down nodes in capitals, failed-over names marked, the verdict last', () => {
    const text = renderStatus(doc({ nodes: { node3: down } }), { color: false, source: 'http://192.0.2.1:8053/v1/status' });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^cluster\.test {2}asked node1 at http:\/\/192\.0\.2\.1:8053\/v1\/status · v1\.2\.3 · serial 5 · config [0-9a-f]{16}$/);
    expect(lines[1]).toBe('serving · hears 3 of 3 (majority 2) · failovers 0 · up 30 s');
    const nodeHeader = lines.indexOf('NODE   STATE  ADDRESS    HEARD      REASON');
    expect(nodeHeader).toBe(3);
    expect(lines[nodeHeader + 1]).toBe('node1  up     192.0.2.1  self       node1 up: heard by node1, node2');
    expect(lines[nodeHeader + 3]).toBe('node3  DOWN   192.0.2.3  0.1 s ago  node3 down: not heard by node1, node2 for 1.0 s');
    expect(text).toMatch(/^node3\.cluster\.test {2}192\.0\.2\.[12] +node[12] \(failed over from node3\)$/m);
    expect(text).toMatch(/^node1\.cluster\.test {2}192\.0\.2\.1, 2001:db8::1 +node1$/m);
    expect(lines.at(-2)).toMatch(/^degraded: node3 down/);
    expect(text).not.toMatch(/\x1b/);
  });

  it('colour only when asked, and padding ignores the escapes', () => {
    const plain = renderStatus(doc({ nodes: { node3: down } }), { color: false, source: 'x' });
    const coloured = renderStatus(doc({ nodes: { node3: down } }), { color: true, source: 'x' });
    expect(coloured).toMatch(/\x1b\[31mDOWN \x1b\[0m/);
    expect(coloured.replace(/\x1b\[[0-9]+m/g, '')).toBe(plain);
  });
});

describe('private addresses in the status document', () => {
  it('nodes carry their private addresses; internal names are listed with them and marked internal', () => {
    const d = doc({ nodes: { node3: down }, privateAddresses: true });
    expect(d.nodes.map((n) => n.privateAddress)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const n3 = d.answers.find((a) => a.name === 'node3.internal.cluster.test')!;
    const pub = d.answers.find((a) => a.name === 'node3.cluster.test')!;
    expect(n3).toMatchObject({ internal: true, failedOver: true, servedBy: pub.servedBy });
    expect(n3.a).toEqual([pub.a[0].replace('192.0.2.', '10.0.0.')]);
    expect(pub.internal).toBe(false);
  });
});
