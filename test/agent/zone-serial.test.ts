import { afterEach, describe, expect, it } from 'vitest';
import { AHEAD, ZoneSerial } from '../../src/agent/zone-serial';
import { zoneInputs } from '../../src/failover/zone-inputs';
import type { Membership } from '../../src/membership/runtime';
import { majorityOf } from '../../src/membership/verdict';
import { makeConfig, SimCluster } from '../membership/helpers';

/**
 * The SOA serial on agents whose wall clocks differ (fault lab, issue 10: the serial followed the
 * fastest clock and stayed there). Real Membership runtimes on the in-memory network; each agent
 * keeps its serial exactly as src/agent/agent.ts does: next() on a change of answers, observe() when
 * a peer announces a new serial.
 */
const WALL = 1_800_000_000;

let c: SimCluster | undefined;
afterEach(() => c?.stopAll());

class Serials {
  readonly keepers = new Map<string, ZoneSerial>();
  /** Serial changes per agent while its answers changed, for "increases on every change". */
  readonly changes: { node: string; before: number; after: number }[] = [];

  constructor(private readonly sim: SimCluster) {}

  start(name: string, clockOffsetS = 0): void {
    const keeper = new ZoneSerial(WALL + Math.floor(this.sim.clock.now() / 1000) + clockOffsetS, majorityOf(this.sim.config.nodes.length));
    this.keepers.set(name, keeper);
    this.sim.start(name, undefined, {}, (m) => this.wire(name, m, keeper));
  }

  private wire(name: string, m: Membership, keeper: ZoneSerial): void {
    let inputs = JSON.stringify(zoneInputs(this.sim.config, m.view(), 0));
    m.setZoneSerial(keeper.current);
    m.on('view', (view) => {
      const next = zoneInputs(this.sim.config, view, 0);
      if (JSON.stringify(next) === inputs) return;
      inputs = JSON.stringify(next);
      const before = keeper.current;
      m.setZoneSerial(keeper.next(next.serving));
      this.changes.push({ node: name, before, after: keeper.current });
    });
    m.on('serial', () => {
      if (keeper.observe(Object.values(m.view().serials))) m.setZoneSerial(keeper.current);
    });
  }

  /** The serials of the agents that serve, or undefined while they differ. */
  agreed(): number | undefined {
    const s = new Set(this.sim.live().filter((a) => this.sim.view(a).serving).map((a) => this.keepers.get(a)!.current));
    return s.size === 1 ? [...s][0] : undefined;
  }
}

describe('the SOA serial does not follow one node’s fast clock', () => {
  it.each([
    ['node3 5 minutes ahead', [0, 0, 300]],
    ['node1 5 minutes ahead', [300, 0, 0]],
    ['node2 5 minutes behind, node3 5 minutes ahead', [0, -300, 300]],
  ] as const)('cold start of 3 agents, %s: one serial, from the majority’s clocks', (_name, offsets) => {
    c = new SimCluster(makeConfig(3));
    const s = new Serials(c);
    c.names.forEach((n, i) => s.start(n, offsets[i]));
    const startWall = WALL + Math.floor(c.clock.now() / 1000);
    c.run(3000);
    const serial = s.agreed();
    expect(serial, 'every name server has one serial').toBeDefined();
    expect(serial! - startWall).toBeLessThan(AHEAD);
    expect(serial! - startWall).toBeGreaterThanOrEqual(0);

    // A change of answers: every agent's serial increases, and they converge again.
    c.kill('node2');
    c.run(3000);
    const after = s.agreed();
    expect(after).toBeDefined();
    expect(after!).toBeGreaterThan(serial!);
    expect(after! - startWall).toBeLessThan(AHEAD);
    for (const ch of s.changes) expect(ch.after, `${ch.node}`).toBeGreaterThan(ch.before);
  });

  it('a node restarted 5 minutes ahead into a running cluster takes the cluster’s serial', () => {
    c = new SimCluster(makeConfig(3));
    const s = new Serials(c);
    for (const n of c.names) s.start(n);
    c.run(3000);
    const serial = s.agreed()!;
    c.kill('node3');
    c.run(3000);
    s.start('node3', 300);
    c.run(6000);
    const now = s.agreed();
    expect(now).toBeDefined();
    expect(now!).toBeGreaterThan(serial);
    expect(now! - serial).toBeLessThan(AHEAD);
  });

  it('an agent that counted more changes than the others is followed (they converge)', () => {
    c = new SimCluster(makeConfig(3));
    const s = new Serials(c);
    for (const n of c.names) s.start(n);
    c.run(3000);
    const serial = s.agreed()!;
    // Three extra changes seen only by node1 (as a reload of node1 alone gives).
    const node1 = c.members.get('node1')!;
    for (let i = 0; i < 3; i++) node1.setZoneSerial(s.keepers.get('node1')!.next(true));
    c.run(1000);
    expect(s.agreed()).toBe(serial + 3);
  });
});
