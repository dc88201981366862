/** One answer thread as the status API shows it (see answer/pool.ts). */
export interface AnswerThreadStatus {
  readonly index: number;
  readonly where: 'main' | 'worker';
  readonly state: 'serving' | 'starting' | 'failed';
  /** The version of the answer table it answers from; every thread shows the same one once a change has reached them all. */
  readonly tableVersion: number;
  /** ms from control posting the newest table to this thread answering from it (null: not yet, or the main thread's own). */
  readonly tableAppliedMs: number | null;
  readonly queries: number;
  /** How late it last read the watchdog's ping (event-loop lag), ms; null for the main thread. */
  readonly lagMs: number | null;
  readonly restarts: number;
}

/**
 * The shape of `GET /v1/status`. The agent writes it (src/api/status.ts); `clusterdns status` and the
 * status page read it. Append fields, never rename or retype one: scripts parse this document.
 * Times are ISO 8601 (UTC) or durations in milliseconds; everything is as this agent sees it.
 */

/** How a node looks from here. `suspect`: still up, but its heartbeats are late or it reports failing checks. */
export type NodeCondition = 'up' | 'suspect' | 'down' | 'unknown';

export interface NodeStatus {
  readonly name: string;
  readonly role: 'node' | 'witness';
  /** null for an IPv6-only node. */
  readonly address: string | null;
  readonly address6: string | null;
  /** The addresses internal.<zone> names answer with (null: none; the public ones stand in). */
  readonly privateAddress: string | null;
  readonly privateAddress6: string | null;
  readonly rack: string | null;
  /** The membership verdict: `unknown` until a majority has spoken about the node. */
  readonly state: 'unknown' | 'up' | 'down';
  readonly up: boolean;
  readonly condition: NodeCondition;
  /** Why it is in this state (the verdict's reason). */
  readonly reason: string;
  /** When it entered the state. */
  readonly since: string;
  /** The hold-down it must pass to come back, grown when it flaps. */
  readonly holdDownMs: number;
  /** What the node last reported about its own checks; null: nothing heard from it. */
  readonly healthy: boolean | null;
  readonly services: Readonly<Record<string, boolean>>;
  /** How long ago this agent last heard it (0 for itself); null: never. */
  readonly heardAgoMs: number | null;
  readonly configHash: string | null;
  /** This agent is this node. */
  readonly self: boolean;
}

/** What one node heard of another, as of that node's latest heartbeat. */
export interface HeardCell {
  readonly everHeard: boolean;
  readonly ageMs: number;
}

/** One observer's row of the who-heard-whom matrix. */
export interface MatrixRowStatus {
  /** Age of the row here (0 for this agent's own row). */
  readonly rowAgeMs: number;
  /** Recent enough to vote. */
  readonly fresh: boolean;
  readonly heard: Readonly<Record<string, HeardCell>>;
}

/** One name of the zone and what this agent answers for it right now. */
export interface AnswerStatus {
  /** Fully qualified, no trailing dot. */
  readonly name: string;
  readonly kind: 'apex' | 'ns' | 'node' | 'service';
  /** The node the name belongs to (ns/node), or the service name. */
  readonly owner: string;
  /** The nodes whose addresses are answered, in order; empty: no data (NODATA). */
  readonly servedBy: readonly string[];
  readonly a: readonly string[];
  readonly aaaa: readonly string[];
  /** ns/node names: answered with another node's addresses because its own node is down. */
  readonly failedOver: boolean;
  /** Service names: the SRV port. */
  readonly port?: number;
  /** Under internal.<zone>: answered with private addresses. */
  readonly internal: boolean;
}

/** A broken peer link: `to` does not hear `from`. */
export interface LinkStatus {
  readonly from: string;
  readonly to: string;
  /** Whether `from` hears `to` (a one-way fault); null: not known here. */
  readonly reverseHeard: boolean | null;
  /** E.g. "node2 hears node1, node1 does not hear node2: ...". */
  readonly message: string;
}

export interface CheckStatus {
  readonly kind: 'node' | 'service';
  /** The node name for node checks, the service name for service checks. */
  readonly name: string;
  readonly type: string;
  readonly target: string;
  readonly verdict: string;
  /** Latest probe result; null before the first one finished. */
  readonly lastOk: boolean | null;
  readonly reason: string;
  readonly latencyMs: number | null;
  readonly ageMs: number | null;
}

export interface EventStatus {
  readonly at: string;
  readonly type: string;
  readonly message: string;
}

export interface StatusDocument {
  /** Bumped only if a field changes meaning. */
  readonly apiVersion: 1;
  /** This agent's node. */
  readonly node: string;
  readonly role: 'node' | 'witness';
  readonly version: string;
  readonly now: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly zone: string;
  readonly serial: number;
  readonly configHash: string;
  /** Answers the zone with data (false in the minority, before quorum, and on witnesses). */
  readonly serving: boolean;
  /** Has heard a majority at least once since it started. */
  readonly quorum: boolean;
  /** Hears fewer than a majority of the configured nodes right now. */
  readonly minority: boolean;
  /** Votes needed: a majority of the configured nodes. */
  readonly majority: number;
  /** Nodes this agent hears now, itself included. */
  readonly hears: readonly string[];
  /** What the zone gets while not serving. */
  readonly unavailableRcode: 'REFUSED' | 'SERVFAIL';
  /** Heartbeat timings from the config, to read the matrix ages against. */
  readonly peer: { readonly intervalMs: number; readonly downAfterMs: number; readonly upAfterMs: number };
  /** Node names declared down since this agent started. */
  readonly failovers: number;
  readonly nodes: readonly NodeStatus[];
  /** Observer → its row; null when nothing was heard from it yet. */
  readonly matrix: Readonly<Record<string, MatrixRowStatus | null>>;
  readonly config: {
    /** The config hash each heard node reports. */
    readonly hashes: Readonly<Record<string, string>>;
    /** Some node runs a different config: a rollout in progress or a mistake. */
    readonly mismatch: boolean;
  };
  readonly answers: readonly AnswerStatus[];
  /** Peer links that drop heartbeats while both ends are alive, as this agent sees the matrix. */
  readonly links: readonly LinkStatus[];
  readonly checks: readonly CheckStatus[];
  readonly dns: {
    readonly queries: number;
    readonly truncated: number;
    readonly dropped: number;
    /** Each answer thread (one on the main thread, or N worker threads: dns.workers). */
    readonly threads: readonly AnswerThreadStatus[];
  };
  /** Newest first. */
  readonly events: readonly EventStatus[];
}
