import type { Echo } from './messages';

/**
 * Replay protection, per sender, without trusting anyone's wall clock. Boot ids (incarnations) are
 * random and unordered: a node whose clock went back across a restart must rejoin, so "newer boot"
 * cannot mean "larger id". Instead a receiver accepts a boot it has not accepted before only with a
 * proof that the message was made after the receiver's own recent heartbeat: the message echoes
 * the receiver's boot tag and one of its last `FRESH_WINDOW` sequence numbers. A recording from an
 * earlier boot echoes an older sequence (or another boot's tag) and never passes; sequence numbers
 * start at a random value each boot, so they say nothing across boots either. Within an accepted
 * boot the sequence must grow, as before.
 *
 * Ordering between boots of one sender comes from the receiver's own sequence: a new boot must
 * echo a later sequence than the current boot ever echoed (`ReplayMark.proof`). So a heartbeat of
 * the previous boot, recorded while this receiver was running and replayed after the sender
 * restarted, is refused even though its echo carries the right tag.
 */
export interface ReplayMark {
  readonly incarnation: bigint;
  readonly sequence: number;
  /** The latest of this receiver's sequence numbers the sender's boot has echoed (this receiver's boot). */
  readonly proof?: number;
}

/**
 * How far back (in this receiver's sequence numbers, one per heartbeat it sends) an echo still
 * proves freshness. A peer echoes the last one it heard, so a legitimate echo is at most a few
 * intervals old; prompt replies consume numbers too, hence the margin for large clusters.
 */
export const FRESH_WINDOW = 1024;

/** RFC 1982 for 32 bits: `a` comes after `b`. */
export function serialAfter(a: number, b: number): boolean {
  const d = ((a >>> 0) - (b >>> 0)) >>> 0;
  return d !== 0 && d < 0x80000000;
}

/** How many sequence numbers `older` lies behind `newer` (mod 2^32). */
function serialDistance(newer: number, older: number): number {
  return ((newer >>> 0) - (older >>> 0)) >>> 0;
}

export function bootTag(incarnation: bigint): number {
  return Number(BigInt.asUintN(32, incarnation));
}

export interface Own {
  /** This receiver's incarnation and the last sequence number it sent. */
  readonly incarnation: bigint;
  readonly sequence: number;
}

/**
 * accept: take it, with the new mark. replay: a message this receiver has already outlived (an old
 * sequence of the current boot, or an earlier boot). unproven: a boot not (yet) proven fresh — a
 * restarted peer's first heartbeats before it has heard us, or a recording from before our boot.
 */
export type Admission = { readonly verdict: 'accept'; readonly mark: ReplayMark } | { readonly verdict: 'replay' } | { readonly verdict: 'unproven' };

export function admit(last: ReplayMark | undefined, incarnation: bigint, sequence: number, echo: Echo | undefined, own: Own): Admission {
  const proof = echo && echo.boot === bootTag(own.incarnation) && serialDistance(own.sequence, echo.sequence) < FRESH_WINDOW ? echo.sequence : undefined;
  if (last && incarnation === last.incarnation) {
    if (!serialAfter(sequence, last.sequence)) return { verdict: 'replay' };
    const advanced = proof !== undefined && (last.proof === undefined || serialAfter(proof, last.proof));
    return { verdict: 'accept', mark: { incarnation, sequence, proof: advanced ? proof : last.proof } };
  }
  if (proof === undefined) return { verdict: 'unproven' };
  if (last?.proof !== undefined && !serialAfter(proof, last.proof)) return { verdict: 'replay' };
  return { verdict: 'accept', mark: { incarnation, sequence, proof } };
}
