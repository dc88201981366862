import type { PeerConfig } from './peer-config';
import { reportsUnhealthy } from './matrix';
import type { Observation } from './messages';
import { isFresh, type MembershipState, type Row } from './state';
import { majorityOf, voteOf } from './verdict';

/**
 * Which verdicts an event can change (reducer.ts evaluate). Every agent receives nodes − 1
 * heartbeats an interval, so re-running every verdict on each (O(nodes²)) was its main cost, at rest
 * and, worse, with a node down (issue 10: 28 % of a core per agent at 64 nodes with one node down).
 *
 * The record keeps, per fresh peer, a signature of its row (per cell ever-heard, the vote class
 * heard / silent / abstain as voteOf gives it, and whether it holds the node down; and the row's
 * node health), the same classes for this agent's own row, and from them, per node, the count of
 * silent votes, of heard votes (a fresh row counting for its own sender) and of fresh rows holding
 * it down. A heartbeat updates the counts for the cells whose class it changed; a node is then
 * evaluated only unless it is *settled*: no hold-down running (heardSince) and
 *   up: published up and assessed, fewer silent votes than a majority of the configured nodes,
 *       no holder, and not reporting itself unhealthy (failoverOnCheckFailure);
 *   down: published down with the verdict's reason, fewer heard votes than a majority;
 *   unknown: published up unassessed, fewer silent and fewer heard votes than a majority, no
 *       holder, not unhealthy.
 * So at rest, with nodes down or not, a heartbeat costs O(nodes), and formation or a failure
 * costs a column (O(nodes)) per node that changes, not every column per heartbeat.
 *
 * Why skipping a settled node gives what a full evaluation gives (reducer({ skipSettled: false }),
 * which the lockstep test in test/membership/settled.test.ts compares after every event), while
 * the fresh peers are the same ones (or one more that leaves the quorum as it was), this agent's
 * own row classes, its node health and the config are what they were:
 * - quorum: the same count, so no quorum effect and no rejoin re-derivation;
 * - up: down needs a majority of silent ballots with a common stretch (verdict.ts commonSilence)
 *   or a fresh row reporting unhealthy, and there are fewer silent ballots than a majority and no
 *   such row; 'heard' or 'undecided' leave an up verdict without heardSince as it is (holddown.ts
 *   applyAssessment); publish with no holder, published up and assessed: the same object;
 * - down: fewer heard ballots than a majority → 'down' or 'undecided', which leave a down verdict
 *   without heardSince as it is; publish of a down verdict published with its reason: the same;
 * - unknown: neither a silent nor a heard majority and not unhealthy → 'undecided', which leaves
 *   it unknown; publish with no holder keeps it published up unassessed.
 * Counts of vote classes are all that is used: the stretches and row ages (which move with time)
 * only decide between outcomes that change nothing here. Time alone changes the classes only by a
 * fresh peer going stale, or a never-heard peer's abstention (this agent younger than downAfter)
 * turning silent; `until` is the first moment either can happen, and past it every node is
 * evaluated.
 *
 * Broken links (matrix.ts linkFaults) need a silent cell about a node some row heard within
 * recentMs (< downAfter, so a heard vote) or whose own row is fresh: when no node has both silent
 * and heard votes (`linksQuiet`) the tick need not look for them either.
 */
export interface Settled {
  readonly config: PeerConfig;
  readonly nodeHealthy: boolean;
  /** Per fresh peer (and only those): the signature of its row (`signature`). */
  readonly rows: ReadonlyMap<string, Uint8Array>;
  /** This agent's own row, classified as its ballots are (`ownClasses`). */
  readonly own: Uint8Array;
  /** Before this moment no fresh peer goes stale and no never-heard peer's vote turns silent. */
  readonly until: number;
  /** Per node, config order: silent votes, heard votes, fresh rows holding it down. */
  readonly silent: Int32Array;
  readonly heard: Int32Array;
  readonly held: Int32Array;
  /** The nodes not settled after the evaluation that left this record (config indices, in order). */
  readonly pending: readonly number[];
}

/** What an event needs evaluated: the nodes (config indices, in order), and the record after it. */
export interface Plan {
  readonly nodes: readonly number[];
  readonly settled: Settled;
}

const ABSENT = 0x80;
const VOTE_CLASS = { heard: 0, silent: 1, abstain: 2 } as const;
const DOWN = 8;

/** Of a row's verdict only "down" counts (matrix.ts holdersDown): unknown → up changes nothing here. */
function cell(obs: Observation | undefined, downAfterMs: number): number {
  if (!obs) return ABSENT;
  return (obs.everHeard ? 1 : 0) | (VOTE_CLASS[voteOf(obs, downAfterMs)] << 1) | (obs.verdict === 'down' ? DOWN : 0);
}

/** A row's classes in config order, then its node health. */
function signature(row: Row, config: PeerConfig): Uint8Array {
  const { nodes } = config;
  const sig = new Uint8Array(nodes.length + 1);
  for (let i = 0; i < nodes.length; i++) sig[i] = cell(row.heard.get(nodes[i].name), config.peer.downAfterMs);
  sig[nodes.length] = row.nodeHealthy ? 1 : 0;
  return sig;
}

function matches(row: Row, sig: Uint8Array, config: PeerConfig): boolean {
  const { nodes } = config;
  if (sig[nodes.length] !== (row.nodeHealthy ? 1 : 0)) return false;
  for (let i = 0; i < nodes.length; i++) if (sig[i] !== cell(row.heard.get(nodes[i].name), config.peer.downAfterMs)) return false;
  return true;
}

interface Counts {
  silent: Int32Array;
  heard: Int32Array;
  held: Int32Array;
}

/** Adds (`sign` 1) or removes (−1) a peer row's cell about node `i`; `sender`: the row is node i's own (its vote about itself is heard, matrix.ts ballotsFor). */
function tally(c: Counts, i: number, code: number, sender: boolean, sign: number): void {
  if (code !== ABSENT && code & DOWN) c.held[i] += sign;
  if (sender) c.heard[i] += sign;
  else if (code !== ABSENT) {
    const cls = (code >> 1) & 3;
    if (cls === VOTE_CLASS.silent) c.silent[i] += sign;
    else if (cls === VOTE_CLASS.heard) c.heard[i] += sign;
  }
}

/** This agent's own vote about node `i` (never a holder: holdersDown counts peers only). */
function tallyOwn(c: Counts, i: number, cls: number, sign: number): void {
  if (cls === VOTE_CLASS.silent) c.silent[i] += sign;
  else if (cls === VOTE_CLASS.heard) c.heard[i] += sign;
}

/** This agent's own votes (matrix.ts ownRow, ballotsFor), per node: heard, silent or abstain. */
function ownClasses(state: MembershipState, now: number): Uint8Array {
  const { nodes, peer } = state.config;
  const own = new Uint8Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const name = nodes[i].name;
    if (name === state.self) continue; // always heard
    const at = state.peers.get(name)?.lastHeardAt;
    const ageMs = now - (at ?? state.startedAt);
    own[i] = VOTE_CLASS[voteOf({ everHeard: at !== undefined, ageMs }, peer.downAfterMs)];
  }
  return own;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The first moment time alone could change a vote class or the fresh peers (see `Settled`). */
function nextChange(state: MembershipState, now: number): number {
  const { downAfterMs } = state.config.peer;
  let until = Infinity;
  let neverHeard = false;
  for (const p of state.peers.values()) {
    if (p.lastHeardAt === undefined) neverHeard = true;
    else if (now - p.lastHeardAt < downAfterMs) until = Math.min(until, p.lastHeardAt + downAfterMs);
  }
  if (neverHeard && now - state.startedAt < downAfterMs) until = Math.min(until, state.startedAt + downAfterMs);
  return until;
}

/**
 * The record of `state` as it is (after a full evaluation), in O(nodes²). Undefined when a fresh
 * peer has no row (never: a peer is fresh from its first accepted row).
 */
export function settle(state: MembershipState, now: number, plan?: Plan): Settled | undefined {
  // After a partial evaluation only the nodes evaluated can have become settled or not: the others
  // were settled, and neither their counts nor their verdicts changed.
  if (plan) return { ...plan.settled, pending: unsettled(state, plan.settled, now, plan.nodes) };
  const { config } = state;
  const n = config.nodes.length;
  const rows = new Map<string, Uint8Array>();
  const c: Counts = { silent: new Int32Array(n), heard: new Int32Array(n), held: new Int32Array(n) };
  for (const [name, p] of state.peers) {
    if (!isFresh(p, now, config.peer.downAfterMs)) continue;
    if (!p.row) return undefined;
    const sig = signature(p.row, config);
    rows.set(name, sig);
    for (let i = 0; i < n; i++) tally(c, i, sig[i], config.nodes[i].name === name, 1);
  }
  const own = ownClasses(state, now);
  for (let i = 0; i < n; i++) tallyOwn(c, i, own[i], 1);
  const record = { config, nodeHealthy: state.localHealth.nodeHealthy, rows, own, until: nextChange(state, now), ...c, pending: [] };
  return { ...record, pending: unsettled(state, record, now, config.nodes.keys()) };
}

/**
 * Which nodes an event requires evaluating, in O(nodes) plus a column per changed cell: after a
 * heartbeat from `sender` the counts follow its row, and every node not settled under them is
 * listed. Undefined: evaluate every node (no record, another config or node health, past `until`,
 * a new voter that changes the quorum, or at a tick other fresh peers or own classes).
 */
export function plan(state: MembershipState, settled: Settled | undefined, now: number, cause: { readonly sender?: string; readonly tick?: true }): Plan | undefined {
  if (!settled || settled.config !== state.config || settled.nodeHealthy !== state.localHealth.nodeHealthy || now >= settled.until) return undefined;
  const { config } = state;
  const { nodes } = config;
  let record = settled;
  if (cause.sender !== undefined) {
    const sender = cause.sender;
    const row = state.peers.get(sender)?.row;
    if (!row) return undefined;
    const old = settled.rows.get(sender);
    // The common case, a row that classifies as before: checked without building its signature.
    if (old && matches(row, old, config)) return { nodes: settled.pending, settled };
    const sig = signature(row, config);
    const c: Counts = { silent: settled.silent.slice(), heard: settled.heard.slice(), held: settled.held.slice() };
    const changed = new Set(settled.pending);
    let own = settled.own;
    if (!old) {
      // Heard again (or for the first time): one more voter, and this agent's own vote on it turns
      // heard. The quorum must stay as it was (a rejoin re-derives every verdict).
      if (settled.rows.size + 2 >= majorityOf(nodes.length) !== state.hasMajority) return undefined;
      own = ownClasses(state, now);
      for (let i = 0; i < nodes.length; i++) {
        if (own[i] !== settled.own[i]) {
          tallyOwn(c, i, settled.own[i], -1);
          tallyOwn(c, i, own[i], 1);
          changed.add(i);
        }
        tally(c, i, sig[i], nodes[i].name === sender, 1);
        if (sig[i] !== ABSENT && (((sig[i] >> 1) & 3) !== VOTE_CLASS.abstain || sig[i] & DOWN)) changed.add(i);
      }
      changed.add(nodes.findIndex((x) => x.name === sender));
    } else {
      for (let i = 0; i < nodes.length; i++) {
        if (old[i] === sig[i]) continue;
        tally(c, i, old[i], nodes[i].name === sender, -1);
        tally(c, i, sig[i], nodes[i].name === sender, 1);
        changed.add(i);
      }
      // Its health decides whether it reports itself unhealthy (reportsUnhealthy).
      if (old[nodes.length] !== sig[nodes.length]) changed.add(nodes.findIndex((x) => x.name === sender));
    }
    record = { ...settled, rows: new Map(settled.rows).set(sender, sig), own, ...c };
    return { nodes: unsettled(state, record, now, [...changed].sort((a, b) => a - b)), settled: record };
  }
  if (cause.tick) {
    const r = renewed(state, settled, now);
    if (!r) return undefined;
    record = r;
  }
  return { nodes: settled.pending, settled: record };
}

/** Of `among` (config indices, in order), the nodes not settled under the counts of `s` (see `Settled`). */
function unsettled(state: MembershipState, s: Omit<Settled, 'pending'>, now: number, among: Iterable<number>): number[] {
  const { nodes } = state.config;
  const majority = majorityOf(nodes.length);
  const todo: number[] = [];
  for (const i of among) {
    const name = nodes[i].name;
    const v = state.verdicts.get(name);
    const p = state.published.get(name);
    let ok = false;
    if (v && p && v.heardSince === undefined) {
      if (v.state === 'up') ok = p.up && !p.unassessed && s.silent[i] < majority && s.held[i] === 0 && !reportsUnhealthy(state, name, now);
      else if (v.state === 'down') ok = !p.up && p.reason === v.reason && s.heard[i] < majority;
      else ok = p.up && p.unassessed === true && s.silent[i] < majority && s.heard[i] < majority && s.held[i] === 0 && !reportsUnhealthy(state, name, now);
    }
    if (!ok) todo.push(i);
  }
  return todo;
}

/**
 * At a tick: the same record with `until` moved on (the peers heard since go stale later), after
 * checking again, in O(nodes), that the fresh peers and this agent's own classes are what they
 * were. Undefined: evaluate every node.
 */
function renewed(state: MembershipState, settled: Settled, now: number): Settled | undefined {
  let fresh = 0;
  for (const [name, p] of state.peers) {
    if (!isFresh(p, now, state.config.peer.downAfterMs)) continue;
    if (!settled.rows.has(name)) return undefined;
    fresh++;
  }
  if (fresh !== settled.rows.size || !sameBytes(ownClasses(state, now), settled.own)) return undefined;
  const until = nextChange(state, now);
  return until === settled.until ? settled : { ...settled, until };
}

/** No node has both silent and heard votes: there is no broken link to find (see above). */
export function linksQuiet(s: Settled, downAfterMs: number, recentMs: number): boolean {
  if (recentMs >= downAfterMs) return false;
  for (let i = 0; i < s.silent.length; i++) if (s.silent[i] > 0 && s.heard[i] > 0) return false;
  return true;
}
