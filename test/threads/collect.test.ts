import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectSoon, gcArguments } from '../../src/threads/collect';

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
