import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/membership/clock';
import { MemoryNetwork } from '../../src/membership/memory-network';

function setup(opts: ConstructorParameters<typeof MemoryNetwork>[1] = {}) {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock, opts);
  const got: Record<string, string[]> = { a: [], b: [], c: [] };
  const t = Object.fromEntries(
    ['a', 'b', 'c'].map((n) => {
      const tr = net.transport(n);
      tr.onMessage((bytes, from) => got[n].push(`${from}:${Buffer.from(bytes).toString()}`));
      return [n, tr];
    }),
  );
  const send = (from: string, to: string, text = 'x') => t[from].send(Buffer.from(text), to);
  return { clock, net, got, t, send };
}

describe('MemoryNetwork', () => {
  it('delivers after the delay', () => {
    const { clock, got, send } = setup({ delayMs: 10 });
    send('a', 'b', 'hi');
    clock.advance(9);
    expect(got.b).toEqual([]);
    clock.advance(1);
    expect(got.b).toEqual(['mem:a:hi']);
  });

  it('symmetric partition cuts both ways between groups, not within', () => {
    const { clock, net, got, send } = setup();
    net.partition(['a', 'b'], ['c']);
    for (const [f, to] of [['a', 'c'], ['c', 'a'], ['b', 'c'], ['a', 'b']]) send(f, to);
    clock.advance(5);
    expect([got.a.length, got.b.length, got.c.length]).toEqual([0, 1, 0]);
    net.heal();
    send('a', 'c');
    clock.advance(5);
    expect(got.c).toHaveLength(1);
  });

  it('one-way cut', () => {
    const { clock, net, got, send } = setup();
    net.cut('a', 'b');
    send('a', 'b');
    send('b', 'a');
    clock.advance(5);
    expect([got.a.length, got.b.length]).toEqual([1, 0]);
  });

  it('loses about the configured share, the same packets for the same seed', () => {
    const run = (seed: number) => {
      const { clock, net, got, send } = setup({ seed, lossRate: 0.2 });
      for (let i = 0; i < 5000; i++) send('a', 'b', String(i));
      clock.advance(5);
      expect(net.stats.dropped + net.stats.delivered).toBe(5000);
      return got.b;
    };
    const first = run(3);
    expect(first.length / 5000).toBeGreaterThan(0.77);
    expect(first.length / 5000).toBeLessThan(0.83);
    expect(run(3)).toEqual(first);
    expect(run(4)).not.toEqual(first);
  });

  it('per-link loss', () => {
    const { clock, net, got, send } = setup();
    net.setLoss(1, 'a', 'b');
    for (let i = 0; i < 10; i++) {
      send('a', 'b');
      send('a', 'c');
    }
    clock.advance(5);
    expect([got.b.length, got.c.length]).toEqual([0, 10]);
  });

  it('a closed transport neither sends nor receives; a new one for the name does', () => {
    const { clock, net, got, t, send } = setup();
    t.b.close();
    send('a', 'b');
    send('b', 'a');
    clock.advance(5);
    expect([got.a.length, got.b.length]).toEqual([0, 0]);
    const b2 = net.transport('b');
    const again: string[] = [];
    b2.onMessage((bytes) => again.push(Buffer.from(bytes).toString()));
    send('a', 'b', 'back');
    clock.advance(5);
    expect(again).toEqual(['back']);
  });
});

describe('MemoryNetwork: duplication, reordering, pauses', () => {
  it('duplicates about the set share of packets, each copy with its own delay', () => {
    const { clock, net, got, send } = setup({ seed: 9, delayMs: 1 });
    net.setDelay(1, 100);
    net.setDuplicate(0.3);
    for (let i = 0; i < 1000; i++) send('a', 'b', String(i));
    clock.advance(200);
    expect(got.b.length).toBe(1000 + net.stats.duplicated);
    expect(net.stats.duplicated).toBeGreaterThan(250);
    expect(net.stats.duplicated).toBeLessThan(350);
    // Jitter reorders: the arrival order is not the send order.
    const order = got.b.map((s) => Number(s.split(':')[2]));
    expect(order.some((n, i) => i > 0 && n < order[i - 1])).toBe(true);
  });

  it('a paused node sends nothing and gets what arrived when it resumes', () => {
    const { clock, net, got, send } = setup({ delayMs: 1 });
    net.pause('b', 500);
    send('a', 'b', 'queued');
    send('b', 'a', 'lost');
    clock.advance(499);
    expect(got.b).toEqual([]);
    clock.advance(1);
    expect(got.b).toEqual(['mem:a:queued']);
    clock.advance(100);
    expect(got.a).toEqual([]);
  });
});
