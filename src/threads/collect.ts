/**
 * One full garbage collection a while after a thread has started, or after the agent applied a
 * reload, so that what starting left behind (the config's clone, the first compiles, the module
 * top levels run once) is freed and its pages given back while the agent sits at rest (issue 17,
 * memory). V8 would do it only at its next full collection, which an agent at rest may not reach for
 * hours. Needs `gc`, which the installed command's `--expose-gc` gives (bin/clusterdns.js); without
 * it, nothing. Several calls within the delay make one collection.
 *
 * Which collection: on V8 12 and later (Node 22 on) the "last resort" one, what V8 itself does under
 * memory pressure (full collections until nothing more is freed, compaction, the young generation
 * shrunk to its least). On Node 24 a plain `gc()` leaves each worker thread's young generation and
 * sparse pages as they are, and V8's memory reducer does not come for a thread started from a file:
 * the last resort gives back about 2.5 MB per thread there (README, "Threads": memory). It takes 6 to
 * 15 ms on a heap of this size, once, on the calling thread. V8 11 (Node 20) reads gc's options
 * differently and makes no full collection of them: a plain `gc()` there, which its memory reducer
 * completes.
 */
let pending: ReturnType<typeof setTimeout> | undefined;

export const COLLECT_AFTER_MS = 10_000;

export interface GcOptions {
  readonly type: 'major';
  readonly execution: 'sync';
  readonly flavor: 'last-resort';
}

/** What to call `gc` with on this V8 (an argument list: none on V8 11). */
export function gcArguments(v8Version = process.versions.v8): [] | [GcOptions] {
  return Number(v8Version.split('.')[0]) >= 12 ? [{ type: 'major', execution: 'sync', flavor: 'last-resort' }] : [];
}

export function collectSoon(delayMs = COLLECT_AFTER_MS): boolean {
  const gc = (globalThis as { gc?: (options?: GcOptions) => void }).gc;
  if (typeof gc !== 'function') return false;
  if (pending) clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    gc(...gcArguments());
  }, delayMs);
  pending.unref();
  return true;
}
