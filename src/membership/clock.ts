/**
 * Time comes in through this interface so the protocol runs on virtual time in tests and on the
 * monotonic clock in production. `now()` never goes backwards.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences mean anything. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /**
   * Where now falls in a period of `periodMs` that every node's clock shares (the wall clock modulo
   * the period), in [0, periodMs). Only lines heartbeats up (see runtime.ts tickDelay); it orders
   * nothing, so a clock that is off or steps costs alignment, never correctness. Optional: virtual
   * clocks leave it out and tick every interval from their start.
   */
  phase?(periodMs: number): number;
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
  phase: (periodMs) => ((Date.now() % periodMs) + periodMs) % periodMs,
};

interface FakeTimer {
  readonly due: number;
  /** Ties on `due` run in scheduling order, as real timers do. */
  readonly order: number;
  readonly fn: () => void;
}

/**
 * Virtual time: nothing happens until `advance()`, which runs due timers in time order. Timers sit
 * in a binary heap ordered by (due, order): a simulated cluster of 65 nodes keeps thousands of
 * deliveries in flight, and a linear search per timer made the simulation itself the bottleneck.
 */
export class FakeClock implements Clock {
  private time: number;
  private order = 0;
  private readonly heap: FakeTimer[] = [];
  private readonly cancelled = new Set<FakeTimer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /**
   * This clock as real agents see theirs: with a wall clock's phase (virtual time itself, read as
   * wall time), so heartbeats go out on common interval boundaries as in production (runtime.ts).
   */
  withWallPhase(): Clock {
    return { now: () => this.now(), setTimeout: (fn, ms) => this.setTimeout(fn, ms), clearTimeout: (h) => this.clearTimeout(h), phase: (p) => this.now() % p };
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { due: this.time + Math.max(0, ms), order: this.order++, fn };
    this.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    const t = handle as FakeTimer;
    if (this.heap.includes(t)) this.cancelled.add(t);
  }

  /** Moves time forward by `ms`, running every timer that falls due, including ones they schedule. */
  advance(ms: number): void {
    const end = this.time + Math.max(0, ms);
    while (this.heap.length && this.heap[0].due <= end) {
      const next = this.pop();
      if (this.cancelled.delete(next)) continue;
      this.time = next.due;
      next.fn();
    }
    this.time = end;
  }

  /** Timers still scheduled; tests use it to check that stop() leaves nothing behind. */
  pending(): number {
    return this.heap.length - this.cancelled.size;
  }

  private push(t: FakeTimer): void {
    const h = this.heap;
    h.push(t);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): FakeTimer {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: FakeTimer, b: FakeTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}
