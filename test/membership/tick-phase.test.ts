import { describe, expect, it } from 'vitest';
import { FakeClock, type Clock } from '../../src/membership/clock';
import { MemoryNetwork } from '../../src/membership/memory-network';
import { Membership, tickDelay } from '../../src/membership/runtime';
import { makeConfig } from './helpers';

/**
 * Heartbeats line up on the shared clock's interval boundaries (runtime.ts tickDelay), so a receiver
 * reads its peers' heartbeats in one burst per interval instead of waking once per peer: the idle
 * agent's cost at 17 nodes was mostly wake-ups (issue 10).
 */
describe('tickDelay', () => {
  it('is one interval on the boundary, and nudges by at most a quarter interval towards the nearest one', () => {
    const rows: Array<[number | undefined, number]> = [
      [undefined, 250],
      [Number.NaN, 250],
      [0, 250],
      [2, 248], // a timer fired 2 ms late: the next one is 2 ms shorter
      [25, 225],
      [62.5, 187.5], // at most a quarter interval shorter
      [100, 187.5],
      [125, 187.5], // the middle: back to the boundary behind
      [126, 312.5], // just past the middle: on to the boundary ahead, at most a quarter longer
      [200, 300],
      [249, 251],
    ];
    for (const [phase, delay] of rows) expect([phase, tickDelay(250, phase)]).toEqual([phase, delay]);
  });
});

/**
 * A FakeClock with a wall clock `offsetMs` ahead of it (what a node's Date.now() would be), noting
 * when each heartbeat tick runs: a Membership's timers are its ticks (0.75–1.25 intervals) and
 * the checks half an interval after each.
 */
function wallClock(clock: FakeClock, offsetMs: number, ticks: number[], intervalMs = 250): Clock {
  return {
    now: () => clock.now(),
    setTimeout: (fn, ms) =>
      clock.setTimeout(() => {
        if (ms > intervalMs / 2) ticks.push(clock.now());
        fn();
      }, ms),
    clearTimeout: (h) => clock.clearTimeout(h),
    phase: (period) => (((clock.now() + offsetMs) % period) + period) % period,
  };
}

describe('heartbeats on the shared clock', () => {
  it('agents started at odd times send within a millisecond of each other after a few intervals; the gap never leaves 0.75–1.25 intervals', () => {
    const config = makeConfig(5);
    const interval = config.peer.intervalMs;
    const clock = new FakeClock(1_000_000);
    const net = new MemoryNetwork(clock, { delayMs: 1 });
    const ticksOf = new Map<string, number[]>();
    const members: Membership[] = [];
    const starts = [0, 37, 113, 181, 229];
    config.nodes.forEach((n, i) => {
      clock.setTimeout(() => {
        const ticks: number[] = [];
        ticksOf.set(n.name, ticks);
        const m = new Membership({ config, self: n.name, transport: net.transport(n.name), clock: wallClock(clock, 0, ticks), getLocalHealth: () => ({ nodeHealthy: true, services: {} }) });
        members.push(m);
        m.start();
      }, starts[i]);
    });
    clock.advance(10 * interval);
    for (const m of members) void m.stop();

    for (const [node, ticks] of ticksOf) {
      expect(ticks.length, node).toBeGreaterThanOrEqual(8);
      const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
      for (const g of gaps) expect(g, `${node}: gap ${g}`).toBeGreaterThanOrEqual(0.75 * interval);
      for (const g of gaps) expect(g, `${node}: gap ${g}`).toBeLessThanOrEqual(1.25 * interval);
      // After three intervals every tick is on a boundary of the shared clock.
      for (const t of ticks.filter((t) => t >= 1_000_000 + 3 * interval)) expect(t % interval, `${node} ticked at ${t}`).toBe(0);
    }
    expect(ticksOf.size).toBe(5);
    // Every agent hears every other: the alignment costs no heartbeat.
    for (const m of members) expect(m.view().nodes.every((n) => n.up)).toBe(true);
  });

  it('a clock without a phase (virtual time) ticks every interval from its start, as before', () => {
    const config = makeConfig(3);
    const clock = new FakeClock(1_000_000);
    const net = new MemoryNetwork(clock, {});
    const times: number[] = [];
    const inner = net.transport('node1');
    const m = new Membership({
      config,
      self: 'node1',
      transport: { send: (b, to) => (times.at(-1) === clock.now() ? undefined : times.push(clock.now()), inner.send(b, to)), onMessage: (h) => inner.onMessage(h), close: () => inner.close() },
      clock,
      getLocalHealth: () => ({ nodeHealthy: true, services: {} }),
    });
    clock.advance(37);
    m.start();
    clock.advance(4 * config.peer.intervalMs);
    void m.stop();
    expect(times).toEqual([0, 1, 2, 3, 4].map((i) => 1_000_037 + i * config.peer.intervalMs));
  });
});

describe('a silence found half an interval after it began', () => {
  it('a node dead just after a boundary is down in every view within downAfter + 0.6 intervals of its last heartbeat, not a whole interval later', () => {
    const config = makeConfig(5);
    const { intervalMs: interval, downAfterMs } = config.peer;
    const clock = new FakeClock(1_000_000);
    const net = new MemoryNetwork(clock, { delayMs: 3 });
    const members = new Map<string, Membership>();
    const lastSent = new Map<string, number>();
    for (const n of config.nodes) {
      const inner = net.transport(n.name);
      const m = new Membership({
        config,
        self: n.name,
        transport: { send: (b, to) => (lastSent.set(n.name, clock.now()), inner.send(b, to)), onMessage: (h) => inner.onMessage(h), close: () => inner.close() },
        clock: wallClock(clock, 0, []),
        getLocalHealth: () => ({ nodeHealthy: true, services: {} }),
      });
      members.set(n.name, m);
      m.start();
    }
    clock.advance(20 * interval + 1); // formed; 1 ms past a boundary, the heartbeats of which are on their way
    void members.get('node5')!.stop();
    const last = lastSent.get('node5')!;
    expect(last % interval).toBe(0);
    const survivors = [...members].filter(([n]) => n !== 'node5').map(([, m]) => m);
    let downAt: number | undefined;
    while (clock.now() < last + 3 * downAfterMs && downAt === undefined) {
      clock.advance(1);
      if (survivors.every((m) => m.view().nodes.find((v) => v.name === 'node5')!.up === false)) downAt = clock.now();
    }
    expect(downAt, 'node5 never went down').toBeDefined();
    // Its last heartbeat arrived 3 ms after the boundary: at each later boundary it is 3 ms short of
    // silent, so without the half-interval check the majority forms at downAfter + 1 interval.
    expect(downAt! - last).toBeGreaterThanOrEqual(downAfterMs);
    expect(downAt! - last).toBeLessThanOrEqual(downAfterMs + 0.6 * interval);
    for (const m of members.values()) void m.stop();
  });
});
