import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectSoon } from '../../src/threads/collect';

describe('collectSoon', () => {
  const g = globalThis as { gc?: () => void };
  const had = g.gc;
  afterEach(() => {
    vi.useRealTimers();
    if (had) g.gc = had;
    else delete g.gc;
  });

  it('does nothing without gc (node run without --expose-gc)', () => {
    delete g.gc;
    expect(collectSoon(10)).toBe(false);
  });

  it('collects once, after the delay, however often it is asked meanwhile', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    g.gc = gc;
    expect(collectSoon(1000)).toBe(true);
    vi.advanceTimersByTime(600);
    collectSoon(1000);
    collectSoon(1000);
    vi.advanceTimersByTime(999);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(gc).toHaveBeenCalledTimes(1);
  });
});
