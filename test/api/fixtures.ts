import type { StatusSource } from '../../src/api/status';
import { parseConfig } from '../../src/config/load';
import type { ClusterConfig } from '../../src/config/types';
import { allUpInputs, type ZoneInputs } from '../../src/zone/inputs';
import type { ClusterView, NodeView } from '../../src/membership/view';
import { QueryStats } from '../../src/server/stats';
import { SECRET } from '../helpers/cluster';

/** A real, validated config: node1–3 (node1 with IPv6), optional witness and service. */
export function config(opts: { witness?: boolean; service?: boolean; privateAddresses?: boolean } = {}): ClusterConfig {
  const text = [
      'zone: cluster.test',
      `secret: "${SECRET}"`,
      'nodes:',
      '  - { name: node1, address: 192.0.2.1, address6: "2001:db8::1" }',
      '  - { name: node2, address: 192.0.2.2 }',
      ...(opts.witness ? ['  - { name: tie, address: 192.0.2.9, role: witness }'] : []),
      '  - { name: node3, address: 192.0.2.3 }',
      ...(opts.service ? ['services:', '  - { name: web, port: 8443, nodes: [node2, node1], policy: first-healthy }'] : []),
    ].join('\n');
  // privateAddresses: node1–3 also have 10.0.0.1–3 (internal.<zone> names).
  return parseConfig(opts.privateAddresses ? text.replace(/address: 192\.0\.2\.([123])([ ,])/g, 'address: 192.0.2.$1, privateAddress: 10.0.0.$1$2') : text);
}

/** A view as node1 would take it at monotonic `at`; `nodes` overrides per node. */
export function view(cfg: ClusterConfig, at: number, nodes: Record<string, Partial<NodeView>> = {}, extra: Partial<ClusterView> = {}): ClusterView {
  const all = cfg.nodes.map(
    (n): NodeView => ({
      name: n.name,
      role: n.role,
      state: 'up',
      up: true,
      reason: `${n.name} up: heard by node1, node2`,
      since: at - 5000,
      holdDownMs: 3000,
      healthy: true,
      services: {},
      configHash: cfg.hash,
      ...nodes[n.name],
    }),
  );
  const heard = Object.fromEntries(cfg.nodes.map((n) => [n.name, { everHeard: true, ageMs: n.name === 'node1' ? 0 : 100, verdict: 'up' as const }]));
  return {
    self: 'node1',
    at,
    nodes: all,
    quorum: true,
    minority: false,
    serving: true,
    configHash: cfg.hash,
    configHashes: Object.fromEntries(all.map((n) => [n.name, n.configHash ?? cfg.hash])),
    serials: {},
    links: [],
    matrix: Object.fromEntries(cfg.nodes.map((n) => [n.name, { rowAgeMs: n.name === 'node1' ? 0 : 50, fresh: true, heard }])),
    ...extra,
  };
}

export function source(cfg: ClusterConfig, v: ClusterView | undefined, opts: { inputs?: ZoneInputs; startedAt?: number } = {}): StatusSource {
  return {
    node: cfg.nodes[0],
    currentConfig: cfg,
    currentInputs: opts.inputs ?? allUpInputs(cfg, 42),
    startedAt: opts.startedAt ?? Date.UTC(2030, 0, 1, 12, 0, 0),
    events: [
      { at: Date.UTC(2030, 0, 1, 12, 0, 1), type: 'majority', message: 'first' },
      { at: Date.UTC(2030, 0, 1, 12, 0, 2), type: 'serving', message: 'second' },
    ],
    failovers: 0,
    stats: new QueryStats(),
    view: () => v,
    healthDetails: () => undefined,
  };
}
