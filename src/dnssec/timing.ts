/**
 * The signer's times, shared by the signer, the agent's re-sign timer and the config rule that
 * keeps them consistent (src/config/signature-times.ts).
 */

/** Signatures start this long before the signing time, for resolvers whose clock is behind. */
export const INCEPTION_SKEW = 3600;

/** The longest between two looks for signatures due to be remade. */
const RESIGN_CHECK_MAX = 3600;

/**
 * Seconds between two looks for signatures due to be remade: a quarter of `refresh`, at most an
 * hour. A signature due at `refresh` age is remade at the first look after that, so it can be served
 * up to this much longer.
 */
export function resignCheckSeconds(refresh: number): number {
  return Math.min(refresh / 4, RESIGN_CHECK_MAX);
}
