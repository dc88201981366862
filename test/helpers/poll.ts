/**
 * Calls `get` every `everyMs` until `ok` holds or `ms` have passed, and returns the last value either
 * way: the caller's assertion on it then says what was seen instead of a timeout.
 */
export async function poll<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms: number, everyMs = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until `ok` resolves true (a rejection counts as not yet), checking every 50 ms; throws naming `what` after `ms`. */
export async function until(what: string, ok: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
