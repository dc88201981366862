import type { ClusterConfig, NodeConfig } from '../config/types';
import type { ZoneInputs } from '../zone/inputs';

/** A service as a Sentinel "master": the node its name answers first, the others as replicas. */
export interface Master {
  readonly name: string;
  readonly port: number;
  readonly node: NodeConfig;
  readonly replicas: readonly NodeConfig[];
}

/**
 * The masters this node may tell: none unless it serves the zone (minority, before quorum), and a
 * service whose name answers nobody is not known — Sentinel's "I don't know" sends a client to the
 * next sentinel, where a stale address would send it to a dead node.
 */
export function knownMasters(config: ClusterConfig, inputs: ZoneInputs): Master[] {
  if (!inputs.serving) return [];
  const byName = new Map(config.nodes.map((n) => [n.name, n]));
  // A node that is not up is never told, even where DNS answers it (`whenAllDown: all`).
  const up = new Set(inputs.upNodes);
  const out: Master[] = [];
  for (const s of config.services) {
    const nodes = (inputs.services.get(s.name) ?? []).filter((n) => up.has(n)).map((n) => byName.get(n)).filter((n): n is NodeConfig => n !== undefined);
    if (nodes.length === 0) continue;
    // first-healthy answers one node; all-healthy answers every healthy one: the first is the
    // master, the others are what a client may read from. Over replicated Redis checked with
    // `role: master`, the service's other nodes that are up are its replicas: their check fails
    // because ROLE says replica (or because their Redis is down: the check cannot tell the
    // agent which, and a client that reads from one finds out).
    const replicas =
      s.policy === 'all-healthy'
        ? nodes.slice(1)
        : s.check?.type === 'redis' && s.check.role === 'master'
          ? s.nodes.filter((n) => n !== nodes[0].name && up.has(n)).map((n) => byName.get(n)).filter((n): n is NodeConfig => n !== undefined)
          : [];
    out.push({ name: s.name, port: s.port, node: nodes[0], replicas });
  }
  return out;
}
