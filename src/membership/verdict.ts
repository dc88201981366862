import type { Observation } from './messages';

/**
 * The verdict kernel: one node's column of the who-heard-whom matrix → down, heard, or undecided.
 * Pure and small so it is tested from tables; hold-down is applied afterwards (holddown.ts).
 */

/** A voter's opinion of one node. Voters without a fresh row are absent, not silent. */
export type Vote = 'heard' | 'silent' | 'abstain';

export interface Ballot {
  readonly voter: string;
  readonly vote: Vote;
  /** How old the voter's row is here (0 for this agent's own). */
  readonly rowAgeMs: number;
  /** As of its row: how long ago the voter last heard the node (or started listening, if never). */
  readonly ageMs: number;
}

export type Assessment =
  | { readonly kind: 'down'; readonly reason: string }
  /** `stale`: heard within downAfter, but not by a majority within `recentMs`: not enough to end a hold-down. */
  | { readonly kind: 'heard'; readonly reason: string; readonly stale?: true }
  | { readonly kind: 'undecided' };

/** Never heard, within an uptime shorter than downAfter: the voter cannot tell yet. */
export function voteOf(obs: Pick<Observation, 'everHeard' | 'ageMs'> | undefined, downAfterMs: number): Vote {
  if (!obs) return 'abstain';
  if (obs.ageMs >= downAfterMs) return 'silent';
  return obs.everHeard ? 'heard' : 'abstain';
}

export function majorityOf(configuredNodes: number): number {
  return Math.floor(configuredNodes / 2) + 1;
}

/**
 * `majority` is of the configured nodes, so absent voters count against both outcomes: without a
 * majority of fresh rows nothing changes. `reportsUnhealthy`: the node's own fresh row says its
 * checks fail (only passed when failoverOnCheckFailure is on). `recentMs`: "heard" within
 * downAfter keeps a node up, but a node killed a moment ago is still heard for downAfter; ending a
 * hold-down on that would publish a dead address (and count its failure as a flap), so a 'heard'
 * without a majority that heard it within `recentMs` (about two intervals) is marked stale.
 */
export function assess(
  node: string,
  ballots: readonly Ballot[],
  majority: number,
  downAfterMs: number,
  reportsUnhealthy: boolean,
  recentMs = Infinity,
): Assessment {
  const silence = commonSilence(ballots.filter((b) => b.vote === 'silent'), majority, downAfterMs);
  if (silence) return { kind: 'down', reason: `${node} down: not heard by ${names(silence.voters)} for ${seconds(silence.ms)}` };
  if (reportsUnhealthy) return { kind: 'down', reason: `${node} down: its own checks fail` };
  const heard = ballots.filter((b) => b.vote === 'heard');
  if (heard.length < majority) return { kind: 'undecided' };
  const reason = `${node} up: heard by ${names(heard)}`;
  const recent = heard.filter((b) => b.rowAgeMs + b.ageMs <= recentMs).length;
  return recent >= majority ? { kind: 'heard', reason } : { kind: 'heard', reason, stale: true };
}

/**
 * A majority must have been silent over one common stretch of at least downAfter, not merely each
 * at some time: a voter's row says nothing about what it heard after it was sent, so a row that
 * lingers (its successors lost) would otherwise add to someone else's later, unrelated silence.
 * Each voter was silent from `rowAge + age` ago until `rowAge` ago; the best common stretch
 * ends at one of the voters' row times.
 */
function commonSilence(silent: readonly Ballot[], majority: number, downAfterMs: number): { voters: Ballot[]; ms: number } | undefined {
  let best: { voters: Ballot[]; ms: number } | undefined;
  for (const end of new Set(silent.map((b) => b.rowAgeMs))) {
    const voters = silent.filter((b) => b.rowAgeMs <= end && b.rowAgeMs + b.ageMs >= end + downAfterMs);
    if (voters.length < majority) continue;
    const ms = Math.min(...voters.map((b) => b.rowAgeMs + b.ageMs)) - end;
    if (!best || ms > best.ms) best = { voters, ms };
  }
  return best;
}

function names(ballots: readonly Ballot[]): string {
  return ballots.map((b) => b.voter).join(', ');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
