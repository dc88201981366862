import { performance } from 'node:perf_hooks';

/**
 * The monitor's only source of time, so its scheduling can be driven step by step in tests. Probes
 * themselves measure and bound real time: their I/O is real.
 */
export interface HealthClock {
  /** Monotonic milliseconds: a wall-clock jump must not stall or bunch up the checks. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: HealthClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
