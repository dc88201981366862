import type { ClusterConfig } from '../config/types';
import { reportsUnhealthy, type Matrix } from './matrix';
import type { Observation } from './messages';
import { isFresh, type MembershipState, type Row } from './state';
import { majorityOf, voteOf } from './verdict';

/**
 * When a full evaluation (reducer.ts evaluate) can be skipped: the cluster is *settled*, and what
 * arrived since says what it said before. Every agent receives nodes − 1 heartbeats an interval, so
 * re-running every verdict on each (O(nodes²)) was its main cost, at rest and, worse, with a node
 * down (issue 10: 28 % of a core per agent at 64 nodes with one node down).
 *
 * Settled, as of a full evaluation: every verdict is up or down with no hold-down running, every
 * node is published as its verdict says (up, assessed; or down with the verdict's reason); each up
 * node has fewer than a majority (of the configured nodes) of silent votes among the fresh rows and
 * this agent's own, no fresh row holds it down and it does not report itself unhealthy; each down
 * node has fewer than a majority of heard votes. The record keeps, per fresh peer, a signature of
 * its row: per cell ever-heard, the vote class (heard / silent / abstain, voteOf) and the verdict,
 * plus the row's node health; and the same classes for this agent's own row.
 *
 * Why a skipped evaluation would change nothing, while the fresh peers, their signatures, this
 * agent's own row classes, its node health and the config are what they were:
 * - quorum: the same fresh peers, so the same count; so no rejoin re-derivation either;
 * - an up node: down needs a majority of silent ballots with a common stretch (verdict.ts
 *   commonSilence) or a fresh row reporting unhealthy, and there are fewer silent ballots than a
 *   majority and no such row; 'heard' or 'undecided' leave an up verdict without heardSince as it
 *   is (holddown.ts applyAssessment). publish: no holder (verdict bits unchanged), published up and
 *   assessed → the same object;
 * - a down node: fewer heard ballots than a majority → 'down' or 'undecided', which leave a down
 *   verdict without heardSince as it is; publish of a down verdict whose published reason is the
 *   verdict's → the same object.
 * Counts of vote classes are all that is used: the stretches and row ages (which move with time)
 * only decide between outcomes that change nothing here. Time alone changes the classes only by
 * a fresh peer going stale, or a never-heard peer's abstention (this agent younger than downAfter)
 * turning silent; `until` is the first moment either can happen, and past it nothing is skipped.
 *
 * Broken links (matrix.ts linkFaults) need a silent cell about a node some row heard within
 * recentMs (< downAfter, so a heard vote) or whose own row is fresh: `linksQuiet` says no silent
 * cell is of that kind, so the tick need not look for them either.
 */
export interface Settled {
  readonly config: ClusterConfig;
  readonly nodeHealthy: boolean;
  /** Per fresh peer (and only those): the signature of its row (`signature`). */
  readonly rows: ReadonlyMap<string, Uint8Array>;
  /** This agent's own row, classified as its ballots are (`ownClasses`). */
  readonly own: Uint8Array;
  /** Before this moment no fresh peer goes stale and no never-heard peer's vote turns silent. */
  readonly until: number;
  /** No broken link can be found while this record holds (see above). */
  readonly linksQuiet: boolean;
}

const ABSENT = 0x80;
const VOTE_CLASS = { heard: 0, silent: 1, abstain: 2 } as const;
const VERDICT_BITS = { unknown: 0, up: 1, down: 2 } as const;

function cell(obs: Observation | undefined, downAfterMs: number): number {
  if (!obs) return ABSENT;
  return (obs.everHeard ? 1 : 0) | (VOTE_CLASS[voteOf(obs, downAfterMs)] << 1) | (VERDICT_BITS[obs.verdict] << 3);
}

/** A row's classes in config order, then its node health. */
function signature(row: Row, config: ClusterConfig): Uint8Array {
  const { nodes } = config;
  const sig = new Uint8Array(nodes.length + 1);
  for (let i = 0; i < nodes.length; i++) sig[i] = cell(row.heard.get(nodes[i].name), config.peer.downAfterMs);
  sig[nodes.length] = row.nodeHealthy ? 1 : 0;
  return sig;
}

function sameSignature(row: Row, sig: Uint8Array, config: ClusterConfig): boolean {
  const { nodes } = config;
  if (sig[nodes.length] !== (row.nodeHealthy ? 1 : 0)) return false;
  for (let i = 0; i < nodes.length; i++) if (sig[i] !== cell(row.heard.get(nodes[i].name), config.peer.downAfterMs)) return false;
  return true;
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
 * After a full evaluation that left `state`: the record, or undefined when it is not settled.
 * O(nodes²), as the evaluation itself.
 */
export function settle(state: MembershipState, matrix: Matrix, now: number, recentMs: number): Settled | undefined {
  const { config } = state;
  const { downAfterMs } = config.peer;
  const majority = majorityOf(config.nodes.length);
  if (state.published.size !== config.nodes.length) return undefined;
  for (const n of config.nodes) {
    const v = state.verdicts.get(n.name);
    const p = state.published.get(n.name);
    if (!v || !p || v.heardSince !== undefined) return undefined;
    if (v.state === 'up' ? !p.up || p.unassessed : v.state !== 'down' || p.up || p.reason !== v.reason) return undefined;
    let silent = 0;
    let heard = 0;
    for (const [voter, row] of matrix) {
      if (!row) continue;
      const obs = row.heard.get(n.name);
      const vote = voter === n.name ? 'heard' : voteOf(obs, downAfterMs);
      if (vote === 'silent') silent++;
      else if (vote === 'heard') heard++;
      if (v.state === 'up' && voter !== state.self && obs?.verdict === 'down') return undefined;
    }
    if (v.state === 'up' ? silent >= majority || reportsUnhealthy(state, n.name, now) : heard >= majority) return undefined;
  }
  const rows = new Map<string, Uint8Array>();
  for (const [name, p] of state.peers) {
    if (!isFresh(p, now, downAfterMs)) continue;
    if (!p.row) return undefined;
    rows.set(name, signature(p.row, config));
  }
  return {
    config,
    nodeHealthy: state.localHealth.nodeHealthy,
    rows,
    own: ownClasses(state, now),
    until: nextChange(state, now),
    linksQuiet: linksQuiet(matrix, downAfterMs, recentMs),
  };
}

/** No silent cell about a node that is heard by some row or whose own row is fresh (see `Settled`). */
function linksQuiet(matrix: Matrix, downAfterMs: number, recentMs: number): boolean {
  if (recentMs >= downAfterMs) return false;
  const heard = new Set<string>();
  for (const [voter, row] of matrix) {
    if (!row) continue;
    heard.add(voter);
    for (const [node, obs] of row.heard) if (voteOf(obs, downAfterMs) === 'heard') heard.add(node);
  }
  for (const [, row] of matrix) {
    if (!row) continue;
    for (const [node, obs] of row.heard) if (obs.ageMs >= downAfterMs && heard.has(node)) return false;
  }
  return true;
}

/**
 * Whether `settled` still holds for `state` after a heartbeat from `sender` (undefined: after a
 * tick or a local health report); O(nodes). Anything else, and anything past `until`, needs the
 * full evaluation.
 */
export function stillSettled(state: MembershipState, settled: Settled | undefined, now: number, sender?: string): boolean {
  if (!settled || settled.config !== state.config || settled.nodeHealthy !== state.localHealth.nodeHealthy || now >= settled.until) return false;
  if (sender === undefined) return true;
  const sig = settled.rows.get(sender);
  const row = state.peers.get(sender)?.row;
  return sig !== undefined && row !== undefined && sameSignature(row, sig, state.config);
}

/**
 * At a tick that found `settled` still holding: the same record with `until` moved on (the peers
 * heard since went stale later), after checking again, in O(nodes), that the fresh peers and this
 * agent's own classes are what they were. Undefined: evaluate in full.
 */
export function renewed(state: MembershipState, settled: Settled, now: number): Settled | undefined {
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
