import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/**
 * Full garbage collections that keep a thread's heap near what it holds while the agent sits at
 * rest (issue 17, memory). Needs `gc`, which the installed command's `--expose-gc` gives
 * (bin/clusterdns.js); without it, nothing.
 *
 * - One a while after a thread has started, or after the agent applied a reload: what starting left
 *   behind (the config's clone, the first compiles, the module top levels run once) is freed and its
 *   pages given back. Several calls within the delay make one collection.
 * - Then, checked once a minute: another when the heap has grown by 2 MB since the last one and the
 *   thread was at rest that minute (its event loop busy under 5 % of it). At rest a thread makes
 *   little garbage, and V8 lets it pile up in the old generation until a limit far above what the
 *   thread holds: measured on Node 20 (a 3-node cluster, 15 minutes), the detector's heap grew from
 *   5.2 to 8.1 MB, all of it garbage (4.6 MB after a collection), and RSS from 61 to 64–66 MB. A
 *   busy thread is left to V8, which collects on its own: a forced collection there costs more than
 *   its pause, as V8 then optimizes again the code whose embedded objects it freed.
 *
 * Which collection: on V8 12 and later (Node 22 on) the "last resort" one, what V8 itself does under
 * memory pressure (full collections until nothing more is freed, compaction, the young generation
 * shrunk to its least). On Node 24 a plain `gc()` leaves each worker thread's young generation and
 * sparse pages as they are, and V8's memory reducer does not come for a thread started from a file:
 * the last resort gives back about 2.5 MB per thread there (README, "Threads": memory). It takes 6 to
 * 15 ms on a heap of this size, on the calling thread. V8 11 (Node 20) reads gc's options
 * differently and makes no full collection of them: a plain `gc()` there, which its memory reducer
 * completes.
 */
export const COLLECT_AFTER_MS = 10_000;
/** How often a thread looks at its heap between collections, and by how much it may grow. */
export const REST_CHECK_MS = 60_000;
export const REST_GROWTH_BYTES = 2 * 1024 * 1024;
/** The share of the last minute a thread's event loop may have been busy and still be at rest. */
export const REST_MAX_UTILIZATION = 0.05;

/** The share of the time since the previous call that this thread's event loop was busy. */
function utilizationSinceLastCall(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

export interface GcOptions {
  readonly type: 'major';
  readonly execution: 'sync';
  readonly flavor: 'last-resort';
}

/** What to call `gc` with on this V8 (an argument list: none on V8 11). */
export function gcArguments(v8Version = process.versions.v8): [] | [GcOptions] {
  return Number(v8Version.split('.')[0]) >= 12 ? [{ type: 'major', execution: 'sync', flavor: 'last-resort' }] : [];
}

type Gc = (options?: GcOptions) => void;

/** One thread's collections; `collectSoon` uses one per thread, tests their own. */
export class Collector {
  private pending: ReturnType<typeof setTimeout> | undefined;
  private watch: ReturnType<typeof setInterval> | undefined;
  /** Heap in use right after the last collection. */
  private settled = 0;

  constructor(
    private readonly gc: Gc,
    private readonly heapUsed: () => number = () => getHeapStatistics().used_heap_size,
    private readonly args: [] | [GcOptions] = gcArguments(),
    private readonly utilization: () => number = utilizationSinceLastCall(),
  ) {}

  /** One collection `delayMs` from now (a later call within the delay moves it), then the watch at rest. */
  soon(delayMs = COLLECT_AFTER_MS): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.collect();
    }, delayMs);
    this.pending.unref();
    if (!this.watch) {
      this.watch = setInterval(() => {
        const atRest = this.utilization() < REST_MAX_UTILIZATION;
        if (atRest && !this.pending && this.heapUsed() - this.settled >= REST_GROWTH_BYTES) this.collect();
      }, REST_CHECK_MS);
      this.watch.unref();
    }
  }

  stop(): void {
    clearTimeout(this.pending);
    clearInterval(this.watch);
    this.pending = this.watch = undefined;
  }

  private collect(): void {
    this.gc(...this.args);
    this.settled = this.heapUsed();
  }
}

let collector: Collector | undefined;

export function collectSoon(delayMs = COLLECT_AFTER_MS): boolean {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== 'function') return false;
  collector ??= new Collector(gc);
  collector.soon(delayMs);
  return true;
}
