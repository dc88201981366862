/**
 * Replay protection, per sender: the latest (incarnation, sequence) accepted. Incarnations are
 * ordered (boot time in the high bits, see `newIncarnation`), so a message from an older boot is a
 * replay too; with purely random boot ids a recorded heartbeat of a previous boot could be replayed
 * forever.
 */
export interface ReplayMark {
  readonly incarnation: bigint;
  readonly sequence: number;
}

/** Whether a message may be accepted after `last` (undefined: nothing accepted from that sender yet). */
export function isNewer(last: ReplayMark | undefined, incarnation: bigint, sequence: number): boolean {
  if (!last) return true;
  if (incarnation !== last.incarnation) return incarnation > last.incarnation;
  return sequence > last.sequence;
}

/**
 * A boot id: milliseconds since the epoch in the high 44 bits, 20 random bits below, so a restart
 * gets a larger id than the previous boot (unless the wall clock went back across the restart).
 */
export function newIncarnation(wallClockMs: number, random20Bits: number): bigint {
  return (BigInt(Math.floor(wallClockMs)) << 20n) | BigInt(random20Bits & 0xfffff);
}
