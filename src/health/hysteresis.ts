/**
 * Rise/fall damping of one check, as a pure step function.
 *
 * A check starts `unknown`: not checked yet, or passing but fewer than `rise` times. Membership
 * counts that as healthy (see `HealthMonitor.current`), so a cold start does not publish every node
 * down; to keep that from hiding a real failure, the first failure settles it unhealthy at once,
 * sooner than `fall` failures would. From there `rise` consecutive successes make it healthy. Once settled, it flips to healthy
 * after `rise` consecutive successes and to unhealthy after `fall` consecutive failures.
 */
export type Verdict = 'unknown' | 'healthy' | 'unhealthy';

export interface Hysteresis {
  readonly verdict: Verdict;
  /** Consecutive successes / failures up to and including the latest result. */
  readonly successes: number;
  readonly failures: number;
}

export const initialHysteresis: Hysteresis = { verdict: 'unknown', successes: 0, failures: 0 };

export function observe(h: Hysteresis, ok: boolean, rise: number, fall: number): Hysteresis {
  if (ok) {
    const successes = h.successes + 1;
    return { verdict: successes >= rise ? 'healthy' : h.verdict, successes, failures: 0 };
  }
  const failures = h.failures + 1;
  const verdict = h.verdict === 'unknown' || failures >= fall ? 'unhealthy' : h.verdict;
  return { verdict, successes: 0, failures };
}

/** A group (the node's checks, or a service's) is healthy only when every check in it is. */
export function combine(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes('unhealthy')) return 'unhealthy';
  if (verdicts.includes('unknown')) return 'unknown';
  return 'healthy';
}
