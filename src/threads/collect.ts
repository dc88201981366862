/**
 * One full garbage collection a while after a thread has started, or after the agent applied a
 * reload, so that what starting left behind (the config's clone, the first compiles, the module
 * top levels run once) is freed and its pages given back while the agent sits at rest (issue 17,
 * memory: about 1 MB on Node 20). V8 would do it only at its next full collection, which an agent at
 * rest may not reach for hours. Needs `gc`, which the installed command's `--expose-gc` gives
 * (bin/clusterdns.js); without it, nothing. Several calls within the delay make one collection.
 * A full collection of a heap this size takes a few ms on the calling thread.
 */
let pending: ReturnType<typeof setTimeout> | undefined;

export const COLLECT_AFTER_MS = 10_000;

export function collectSoon(delayMs = COLLECT_AFTER_MS): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  if (pending) clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    gc();
  }, delayMs);
  pending.unref();
  return true;
}
