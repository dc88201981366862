import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectSoon, Collector, gcArguments, REST_CHECK_MS, REST_GROWTH_BYTES, REST_MAX_UTILIZATION } from '../../src/threads/collect';

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

describe('Collector at rest', () => {
  afterEach(() => vi.useRealTimers());

  it('collects again only once the heap has grown by REST_GROWTH_BYTES since the last collection, at most once a check', () => {
    vi.useFakeTimers();
    let used = 10e6;
    const gc = vi.fn(() => (used = 5e6)); // what a collection leaves
    const c = new Collector(gc, () => used, [], () => 0.01);
    c.soon(10_000);
    vi.advanceTimersByTime(10_000);
    expect(gc).toHaveBeenCalledTimes(1);
    used += REST_GROWTH_BYTES - 1; // garbage, but not enough
    vi.advanceTimersByTime(3 * REST_CHECK_MS);
    expect(gc).toHaveBeenCalledTimes(1);
    used += 1;
    vi.advanceTimersByTime(REST_CHECK_MS);
    expect(gc).toHaveBeenCalledTimes(2);
    // Growing fast (a flood): still one per check, never more.
    const fast = setInterval(() => (used += 1e6), 1000);
    vi.advanceTimersByTime(5 * REST_CHECK_MS);
    clearInterval(fast);
    expect(gc).toHaveBeenCalledTimes(7);
    c.stop();
    used += 100e6;
    vi.advanceTimersByTime(5 * REST_CHECK_MS);
    expect(gc).toHaveBeenCalledTimes(7);
  });

  it('does not collect at a check while the collection after a start or reload is pending', () => {
    vi.useFakeTimers();
    let used = 50e6;
    const gc = vi.fn(() => (used = 5e6));
    const c = new Collector(gc, () => used, [], () => 0);
    c.soon(REST_CHECK_MS + 5000); // a reload's collection, due after the first check
    vi.advanceTimersByTime(REST_CHECK_MS);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(5000);
    expect(gc).toHaveBeenCalledTimes(1);
    c.stop();
  });

  it('leaves a busy thread to V8: no collection at a check after a minute its event loop was busy', () => {
    vi.useFakeTimers();
    let used = 5e6;
    let busy = 0.6; // a flood
    const gc = vi.fn(() => (used = 5e6));
    const c = new Collector(gc, () => used, [], () => busy);
    c.soon(1);
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledTimes(1);
    used += 50e6;
    vi.advanceTimersByTime(5 * REST_CHECK_MS);
    expect(gc).toHaveBeenCalledTimes(1);
    busy = REST_MAX_UTILIZATION; // not under it
    vi.advanceTimersByTime(REST_CHECK_MS);
    expect(gc).toHaveBeenCalledTimes(1);
    busy = 0.01; // the flood is over
    vi.advanceTimersByTime(REST_CHECK_MS);
    expect(gc).toHaveBeenCalledTimes(2);
    c.stop();
  });

  it('passes gc the arguments for this V8', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    const c = new Collector(gc, () => 0, gcArguments('12.4.254.21-node.57'), () => 0);
    c.soon(1);
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledWith({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    c.stop();
  });
});

describe('gcArguments', () => {
  it('asks V8 12 and later for the last-resort collection, and V8 11 (Node 20) for a plain one', () => {
    expect(gcArguments('11.3.244.8-node.38')).toEqual([]);
    for (const v of ['12.4.254.21-node.57', '13.6.233.17-node.34', '14.6.202.34-node.40']) expect(gcArguments(v)).toEqual([{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
  });

  it('the collection it asks for is a full one on the Node that runs the tests', () => {
    // A child with --expose-gc (as installed): 20 MB made unreachable, then gc called as collectSoon does.
    const script = `
      let junk = Array.from({ length: 200 }, () => new Array(10000).fill(0).map((_, i) => ({ i })));
      const before = process.memoryUsage().heapUsed;
      junk = null;
      gc(...${JSON.stringify(gcArguments())});
      process.stdout.write(JSON.stringify({ before, after: process.memoryUsage().heapUsed }));`;
    const { before, after } = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' }));
    expect(before).toBeGreaterThan(20e6);
    expect(after).toBeLessThan(before / 4);
  });
});
