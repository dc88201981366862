/**
 * Time comes in through this interface so the protocol runs on virtual time in tests and on the
 * monotonic clock in production. `now()` never goes backwards.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque to callers; each clock knows what its handles are. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A heartbeat timer must not keep a CLI command or a test process alive.
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface FakeTimer {
  readonly due: number;
  /** Ties on `due` run in scheduling order, as real timers do. */
  readonly order: number;
  readonly fn: () => void;
}

/** Virtual time: nothing happens until `advance()`, which runs due timers in time order. */
export class FakeClock implements Clock {
  private time: number;
  private order = 0;
  private readonly timers = new Set<FakeTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { due: this.time + Math.max(0, ms), order: this.order++, fn };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as FakeTimer);
  }

  /** Moves time forward by `ms`, running every timer that falls due, including ones they schedule. */
  advance(ms: number): void {
    const end = this.time + Math.max(0, ms);
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > end) break;
      this.timers.delete(next);
      this.time = next.due;
      next.fn();
    }
    this.time = end;
  }

  /** Timers still scheduled; tests use it to check that stop() leaves nothing behind. */
  pending(): number {
    return this.timers.size;
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (!best || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t;
    }
    return best;
  }
}
