/**
 * What the answer compiler needs from the cluster's state: which node answers for each node name,
 * which nodes are up, which nodes each service answers with. `failover/` derives it from a view;
 * until membership runs, `allUp(config)` is the answer.
 */
export interface ZoneInputs {
  /** Node name → the node whose addresses answer for it (itself while up, or while failing open). */
  readonly nodeTargets: ReadonlyMap<string, string | undefined>;
  /** Nodes that are up (not witnesses; all of them while failing open), config order: the apex A/AAAA. */
  readonly upNodes: readonly string[];
  /** Service name → the nodes its name answers with, in order; empty: NODATA. */
  readonly services: ReadonlyMap<string, readonly string[]>;
  /** Whether this agent may answer the zone with data (false in the minority or before quorum). */
  readonly serving: boolean;
  /** SOA serial; must increase whenever anything above changes. */
  readonly serial: number;
  /** Serving, and no node is judged up: every node answers as if up (see failover/zone-inputs.ts). */
  readonly failOpen: boolean;
}

/** Every configured node up and serving: the zone before membership has a say (tools, tests). */
export function allUpInputs(
  config: { nodes: readonly { name: string; role: string }[]; services: readonly { name: string; nodes: readonly string[]; policy: string }[] },
  serial: number,
): ZoneInputs {
  const servers = config.nodes.filter((n) => n.role !== 'witness').map((n) => n.name);
  return {
    nodeTargets: new Map(servers.map((n) => [n, n])),
    upNodes: servers,
    services: new Map(config.services.map((s) => [s.name, s.policy === 'first-healthy' ? s.nodes.slice(0, 1) : s.nodes])),
    serving: true,
    serial,
    failOpen: false,
  };
}
