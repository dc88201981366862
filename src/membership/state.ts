import type { PeerConfig } from './peer-config';
import type { NodeVerdict } from './holddown';
import type { LinkFault } from './matrix';
import type { Echo, Heartbeat, RejectReason } from './messages';
import type { ReplayMark } from './replay';
import type { Settled } from './settled';

/** What the local node reports about itself; its checks (src/health/) produce it. */
export interface LocalHealth {
  readonly nodeHealthy: boolean;
  readonly services: Readonly<Record<string, boolean>>;
}

/** A peer's latest accepted heartbeat: its row of the matrix plus what it says about itself. */
export interface Row extends Pick<Heartbeat, 'heard' | 'nodeHealthy' | 'services' | 'configHash' | 'zoneSerial'> {
  readonly receivedAt: number;
}

export interface Published {
  readonly up: boolean;
  readonly reason: string;
  readonly since: number;
  /** While this agent's own verdict is up: the fresh peers that still hold the node down. */
  readonly heldBy?: readonly string[];
  /** Published up because this agent has not assessed the node yet (fail open, see reducer publish()). */
  readonly unassessed?: true;
}

export interface PeerState {
  readonly lastHeardAt?: number;
  readonly row?: Row;
  readonly mark?: ReplayMark;
  /** The peer's latest (boot, sequence) that was not a replay: echoed back in every heartbeat. */
  readonly echo?: Echo;
}

export interface Counters {
  readonly sent: number;
  readonly received: number;
  readonly rejected: Readonly<Record<RejectReason, number>>;
  /** Heartbeats that could not be encoded (a bug: the config is bounded to what the wire carries). */
  readonly unsent: number;
}

export interface MembershipState {
  readonly config: PeerConfig;
  readonly self: string;
  /** Random boot id; see replay.ts for why it is not ordered. */
  readonly incarnation: bigint;
  /** The last sequence number sent (u32, random start each boot, wraps). */
  readonly sequence: number;
  readonly startedAt: number;
  readonly localHealth: LocalHealth;
  /** Every configured node but self. */
  readonly peers: ReadonlyMap<string, PeerState>;
  /** Every configured node, self included: this agent's own verdicts (its votes, in its rows). */
  readonly verdicts: ReadonlyMap<string, NodeVerdict>;
  /**
   * What this agent answers with: a node is published up when its own verdict is up and no fresh
   * peer still holds it down. Hold-downs grow with each agent's own flap history, which differs
   * after restarts; waiting for the longest keeps every agent's answers the same. A node not
   * assessed yet is published up under the same condition (fail open).
   */
  readonly published: ReadonlyMap<string, Published>;
  /** Hears a majority of the configured nodes (itself included) right now. */
  readonly hasMajority: boolean;
  /** Has heard a majority at least once since start: before that the agent never serves. */
  readonly reachedQuorum: boolean;
  readonly counters: Counters;
  /** Peer links that drop heartbeats, as of the last tick (see matrix.ts linkFaults); absent: none yet. */
  readonly linkFaults?: readonly LinkFault[];
  /** Since when each link (from\u0000to) has looked broken, reported or not yet. */
  readonly linkSeenSince?: ReadonlyMap<string, number>;
  /** Set while the cluster is settled: lets an event that changes nothing skip the verdicts (settled.ts). */
  readonly settled?: Settled;
  /** The SOA serial this agent serves (the agent sets it); heartbeats carry it. */
  readonly zoneSerial: number;
}

/** Whether a peer's row is recent enough to vote: heard from within downAfter. */
export function isFresh(p: PeerState | undefined, now: number, downAfterMs: number): boolean {
  return p?.lastHeardAt !== undefined && now - p.lastHeardAt < downAfterMs;
}

/** The local health `get` gives, or unhealthy when it throws. */
export function safeHealth(get: () => LocalHealth): LocalHealth {
  try {
    const h = get();
    return { nodeHealthy: h.nodeHealthy !== false, services: { ...h.services } };
  } catch {
    // A broken health source must not stop heartbeats; reporting unhealthy fails the node over safely.
    return { nodeHealthy: false, services: {} };
  }
}
