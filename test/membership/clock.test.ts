import { describe, expect, it } from 'vitest';
import { FakeClock, realClock } from '../../src/membership/clock';

describe('FakeClock', () => {
  it('runs due timers in time order, ties in scheduling order, and timers they schedule', () => {
    const c = new FakeClock(100);
    const ran: string[] = [];
    c.setTimeout(() => ran.push(`b@${c.now()}`), 20);
    c.setTimeout(() => ran.push(`a@${c.now()}`), 10);
    c.setTimeout(() => ran.push(`c@${c.now()}`), 20);
    c.setTimeout(() => {
      ran.push(`d@${c.now()}`);
      c.setTimeout(() => ran.push(`e@${c.now()}`), 5);
    }, 25);
    c.setTimeout(() => ran.push('late'), 100);
    c.advance(50);
    expect(ran).toEqual(['a@110', 'b@120', 'c@120', 'd@125', 'e@130']);
    expect(c.now()).toBe(150);
    expect(c.pending()).toBe(1);
  });

  it('cancels timers', () => {
    const c = new FakeClock();
    let ran = false;
    const h = c.setTimeout(() => (ran = true), 1);
    c.clearTimeout(h);
    c.advance(10);
    expect(ran).toBe(false);
    expect(c.pending()).toBe(0);
  });
});

describe('realClock', () => {
  it('is monotonic and fires timers', async () => {
    const a = realClock.now();
    await new Promise<void>((resolve) => realClock.setTimeout(resolve, 5));
    expect(realClock.now()).toBeGreaterThanOrEqual(a + 4);
  });
});
