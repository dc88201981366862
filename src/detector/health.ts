import type { LocalHealth } from '../membership/state';

/**
 * How old control's last word on this node's health may be before the detector stops believing it:
 * four `downAfter`s, and never under 2 s.
 *
 * Control sends the check results on every change and at least every half `downAfter`, so at rest
 * they are never older than that. They grow old only when control cannot run: a reload compiling
 * and signing a large zone (about 0.4 s at 150 signed nodes), a flood of discovery or HTTP work, a
 * bug that wedges the main thread. The detector keeps beating through all of that (its own thread),
 * so peers keep this node up — right for a busy node. But a control thread that stays stuck also
 * stops the checks: the node would go on reporting services healthy that may have died. Past the
 * bound, this node reports itself unhealthy and every service down: its names fail over (when
 * `failoverOnCheckFailure`) and no service answer points at it, until control speaks again.
 * Four `downAfter`s is well above any reload seen, yet a dead service behind a wedged control thread
 * stops being answered within about as long as a dead node (downAfter) plus that.
 */
export const STALE_AFTER_DOWN_AFTERS = 4;
export const STALE_AFTER_MIN_MS = 2000;

export function staleAfterMs(downAfterMs: number): number {
  return Math.max(STALE_AFTER_MIN_MS, STALE_AFTER_DOWN_AFTERS * downAfterMs);
}

/** `health` taken at `at`, as the detector reports it at `now` (all on the sharedNow scale). */
export function healthAsOf(health: LocalHealth, at: number, now: number, downAfterMs: number): LocalHealth {
  if (!isStale(at, now, downAfterMs)) return health;
  return { nodeHealthy: false, services: Object.fromEntries(Object.keys(health.services).map((s) => [s, false])) };
}

export function isStale(at: number, now: number, downAfterMs: number): boolean {
  return now - at > staleAfterMs(downAfterMs);
}
