import type { Observation } from './messages';
import { isFresh, type MembershipState } from './state';
import { voteOf, type Ballot } from './verdict';

/**
 * The who-heard-whom matrix as this agent sees it now: its own row from its own receive times, and
 * every peer's latest row if that peer was heard within downAfter. A stale row is no vote at all: a
 * peer we cannot hear may be partitioned, and what it heard long ago says nothing about now.
 */
export interface MatrixRow {
  readonly rowAgeMs: number;
  readonly heard: ReadonlyMap<string, Observation>;
}
export type Matrix = ReadonlyMap<string, MatrixRow | undefined>;

export function ownRow(state: MembershipState, now: number): Map<string, Observation> {
  const row = new Map<string, Observation>();
  for (const n of state.config.nodes) {
    const verdict = state.verdicts.get(n.name)?.state ?? 'unknown';
    const at = n.name === state.self ? now : state.peers.get(n.name)?.lastHeardAt;
    row.set(n.name, at === undefined ? { everHeard: false, ageMs: now - state.startedAt, verdict } : { everHeard: true, ageMs: now - at, verdict });
  }
  return row;
}

export function currentMatrix(state: MembershipState, now: number): Matrix {
  const { downAfterMs } = state.config.peer;
  const m = new Map<string, MatrixRow | undefined>();
  for (const n of state.config.nodes) {
    if (n.name === state.self) m.set(n.name, { rowAgeMs: 0, heard: ownRow(state, now) });
    else {
      const row = state.peers.get(n.name)?.row;
      m.set(n.name, row && isFresh(state.peers.get(n.name), now, downAfterMs) ? { rowAgeMs: now - row.receivedAt, heard: row.heard } : undefined);
    }
  }
  return m;
}

/** The ballots about `target`, in config order. A node always hears itself. */
export function ballotsFor(matrix: Matrix, target: string, downAfterMs: number): Ballot[] {
  const ballots: Ballot[] = [];
  for (const [voter, row] of matrix) {
    if (!row) continue;
    const obs = voter === target ? { everHeard: true, ageMs: 0 } : row.heard.get(target);
    ballots.push({ voter, vote: voteOf(obs, downAfterMs), rowAgeMs: row.rowAgeMs, ageMs: obs?.ageMs ?? 0 });
  }
  return ballots;
}

/**
 * Fresh peers (not this agent) whose own verdict still holds `target` down, the node itself
 * included: a node comes up in this agent's answers only once none of them does.
 */
export function holdersDown(matrix: Matrix, self: string, target: string): string[] {
  const holders: string[] = [];
  for (const [voter, row] of matrix) if (row && voter !== self && row.heard.get(target)?.verdict === 'down') holders.push(voter);
  return holders;
}

/**
 * A peer link that does not carry heartbeats: `to` has not heard `from` for downAfter although
 * `from` is alive: its row here, or another node's, heard it within `recentMs`. (Not merely within
 * downAfter: a node that just died is silent to one observer a moment before the others, and that
 * is no broken link.) No verdict changes for
 * it (the majority still hears both), which is why it is reported on its own: an operator should
 * learn of a broken link before a second fault turns it into a failover.
 */
export interface LinkFault {
  readonly from: string;
  readonly to: string;
  /** Whether `from` hears `to`: true a one-way fault, false both ways, undefined not known here. */
  readonly reverseHeard: boolean | undefined;
  readonly message: string;
}

export function linkFaults(matrix: Matrix, downAfterMs: number, recentMs: number): LinkFault[] {
  const faults: LinkFault[] = [];
  const hears = (row: MatrixRow | undefined, node: string) => {
    const o = row?.heard.get(node);
    return o === undefined ? undefined : o.everHeard && o.ageMs < downAfterMs;
  };
  // Who shows `from` alive, found once per node (a node down is silent in every row: asked once
  // per row, the question cost O(nodes³) a tick).
  const witnesses = new Map<string, string[]>();
  const witnessesOf = (from: string) => {
    let w = witnesses.get(from);
    if (w) return w;
    w = [];
    for (const [other, r] of matrix) {
      if (!r) continue;
      if (other === from ? r.rowAgeMs <= recentMs : isRecent(r, r.heard.get(from), recentMs)) w.push(other);
      if (w.length === 2) break; // enough for any `to`
    }
    witnesses.set(from, w);
    return w;
  };
  for (const [to, row] of matrix) {
    if (!row) continue;
    for (const [from, obs] of row.heard) {
      if (from === to || obs.ageMs < downAfterMs) continue;
      const fromRow = matrix.get(from);
      if (!witnessesOf(from).some((other) => other !== to)) continue;
      const reverseHeard = hears(fromRow, to);
      const message =
        reverseHeard === true
          ? `${from} hears ${to}, ${to} does not hear ${from}: the link ${from} → ${to} drops heartbeats`
          : reverseHeard === false
            ? `${from} and ${to} do not hear each other: the link between them drops heartbeats both ways`
            : `${to} does not hear ${from}, which others hear: the link ${from} → ${to} drops heartbeats`;
      faults.push({ from, to, reverseHeard, message });
    }
  }
  return faults;
}

function isRecent(r: MatrixRow, o: Observation | undefined, recentMs: number): boolean {
  return o !== undefined && o.everHeard && r.rowAgeMs + o.ageMs <= recentMs;
}

/** The node's own fresh row says its checks fail, and that counts (failoverOnCheckFailure). */
export function reportsUnhealthy(state: MembershipState, node: string, now: number): boolean {
  if (!state.config.failoverOnCheckFailure) return false;
  if (node === state.self) return !state.localHealth.nodeHealthy;
  const peer = state.peers.get(node);
  return isFresh(peer, now, state.config.peer.downAfterMs) && peer!.row?.nodeHealthy === false;
}
