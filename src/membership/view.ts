import type { NodeRole } from '../config/types';
import { deepFreeze } from '../freeze';
import type { NodeState } from './holddown';
import { ownRow, type LinkFault } from './matrix';
import type { Observation } from './messages';
import { isFresh, type MembershipState } from './state';

/** One node as this agent sees it. */
export interface NodeView {
  readonly name: string;
  readonly role: NodeRole;
  readonly state: NodeState;
  readonly up: boolean;
  /** Why it is in this state, for logs and the status page. */
  readonly reason: string;
  /** Clock ms when the state was entered (compare with `ClusterView.at`). */
  readonly since: number;
  /** The hold-down it must pass to come back (grown if it flaps). */
  readonly holdDownMs: number;
  /** What the node last reported about its own checks; undefined: nothing heard from it. */
  readonly healthy: boolean | undefined;
  readonly services: Readonly<Record<string, boolean>>;
  readonly configHash: string | undefined;
}

/** One row of the matrix: what `observer` heard of every node, as of its last heartbeat. */
export interface MatrixRow {
  /** How old the row is here (0 for this agent's own row). */
  readonly rowAgeMs: number;
  /** Whether it is recent enough to vote. */
  readonly fresh: boolean;
  readonly heard: Readonly<Record<string, Observation>>;
}

/** An immutable snapshot of the cluster as one agent sees it. */
export interface ClusterView {
  readonly self: string;
  /** Clock ms when the snapshot was taken. */
  readonly at: number;
  /** Config order. */
  readonly nodes: readonly NodeView[];
  /** Has heard a majority at least once since it started. */
  readonly quorum: boolean;
  /** Hears fewer than a majority of the configured nodes right now. */
  readonly minority: boolean;
  /** May answer the zone with data: quorum reached and not in the minority. */
  readonly serving: boolean;
  readonly configHash: string;
  /** The config hash every heard node reported; differing ones are a rollout in progress or a mistake. */
  readonly configHashes: Readonly<Record<string, string>>;
  /** The SOA serial this agent and each fresh peer announce (none yet: absent). */
  readonly serials: Readonly<Record<string, number>>;
  /** Peer links that drop heartbeats though both ends are alive (one-way or both ways), as of the last heartbeat. */
  readonly links: readonly LinkFault[];
  /** Observer → its row; null when nothing was heard from the observer yet. */
  readonly matrix: Readonly<Record<string, MatrixRow | null>>;
}

export function buildView(state: MembershipState, now: number): ClusterView {
  const { config, self } = state;
  const nodes: NodeView[] = config.nodes.map((n) => {
    const v = state.verdicts.get(n.name)!;
    const p = state.published.get(n.name);
    const row = n.name === self ? undefined : state.peers.get(n.name)?.row;
    const isSelf = n.name === self;
    return {
      name: n.name,
      role: n.role,
      // Not assessed yet but answered as up (fail open): `up` says how it is answered, `state` what is known.
      state: p?.unassessed ? 'unknown' : p ? (p.up ? 'up' : 'down') : v.state,
      up: p?.up === true,
      reason: p?.reason ?? v.reason,
      since: p?.since ?? v.since,
      holdDownMs: v.holdDownMs,
      healthy: isSelf ? state.localHealth.nodeHealthy : row?.nodeHealthy,
      services: isSelf ? { ...state.localHealth.services } : Object.fromEntries(row?.services ?? []),
      configHash: isSelf ? config.hash : row?.configHash,
    };
  });
  const configHashes: Record<string, string> = {};
  for (const n of nodes) if (n.configHash !== undefined) configHashes[n.name] = n.configHash;

  const serials: Record<string, number> = {};
  if (state.zoneSerial) serials[self] = state.zoneSerial;
  for (const [name, p] of state.peers) if (p.row?.zoneSerial && isFresh(p, now, config.peer.downAfterMs)) serials[name] = p.row.zoneSerial;

  const matrix: Record<string, MatrixRow | null> = {};
  for (const n of config.nodes) {
    if (n.name === self) {
      matrix[n.name] = { rowAgeMs: 0, fresh: true, heard: Object.fromEntries(ownRow(state, now)) };
      continue;
    }
    const p = state.peers.get(n.name);
    matrix[n.name] = p?.row
      ? { rowAgeMs: now - p.row.receivedAt, fresh: isFresh(p, now, config.peer.downAfterMs), heard: Object.fromEntries(p.row.heard) }
      : null;
  }

  return deepFreeze({
    self,
    at: now,
    nodes,
    quorum: state.reachedQuorum,
    minority: !state.hasMajority,
    serving: state.reachedQuorum && state.hasMajority,
    configHash: config.hash,
    configHashes,
    serials,
    links: state.linkFaults ?? [],
    matrix,
  });
}
