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
