import { afterEach, describe, expect, it } from 'vitest';
import { zoneInputs } from '../../src/failover/zone-inputs';
import { seededRandom } from '../../src/membership/prng';
import { makeConfig, SimCluster } from './helpers';

/**
 * Property tests of the protocol: real Membership runtimes on the in-memory network and a virtual
 * clock, under seeded random schedules of faults (kills, isolation, splits, one-way links, pauses)
 * and network noise (delays up to 500 ms, which reorder, duplication, loss). The fault lab's
 * invariants (issue 10) are asserted on every 25 ms step, with the network's largest delay added to
 * each bound (a heartbeat in flight is still news for that long; twice for detection, see 1.).
 * The agents run on the wall clock's rhythm, as real ones (helpers.ts SimCluster.rhythm):
 *
 * 1. after detection (downAfter + 2 intervals) no agent of the majority answers with the address
 *    of a node it cannot reach;
 * 2. a node without a majority stops serving within downAfter + 1 interval;
 * 3. the serving agents of the majority give identical answers except within 2 intervals of a
 *    change (a fault, a heal, or any agent's verdict or quorum change);
 * 4. no false failover at ≤ 20 % loss, ≤ 200 ms jitter, or a 0.5 s pause of an agent;
 * 5. a healed node is answered for itself within its hold-down + 1 s.
 *
 * A failure message names the seed and the timeline; rerun one seed with `-t 'seed N'`.
 */
/**
 * The seeds `npm test` runs: 100 in all, every one of a contiguous range (none picked because it
 * passes), 3 and 5 nodes alternating: 19 s for the file on the 2-core machine at rest, about a
 * minute while the fault lab ran beside it.
 */
const ANY_FAULT_SEEDS = Array.from({ length: 70 }, (_, k) => [k + 1, k % 2 ? 5 : 3]);
const NO_FALSE_FAILOVER_SEEDS = Array.from({ length: 30 }, (_, k) => [k + 101, k % 2 ? 5 : 3]);
const INTERVAL = 250;
const DOWN_AFTER = 1000;
const STEP = 25;

let c: SimCluster | undefined;
afterEach(() => c?.stopAll());

type Fault =
  | { kind: 'kill'; nodes: string[] }
  | { kind: 'cut-off'; nodes: string[] }
  | { kind: 'one-way'; from: string; to: string }
  | { kind: 'pause'; node: string }
  | { kind: 'quiet' };

interface Noise {
  delayMs: number;
  jitterMs: number;
  duplicate: number;
  loss: number;
}

class Checker {
  readonly timeline: string[] = [];
  /** Node → since when the majority cannot reach it (killed, or cut off into the minority). */
  readonly unreachable = new Map<string, number>();
  /** Live agent → since when it hears no majority. */
  readonly cutOff = new Map<string, number>();
  /** Node → when it became reachable again, and the hold-down it had then. */
  readonly healed = new Map<string, { at: number; holdDownMs: number }>();
  lastChange = 0;
  private logSeen = 0;
  readonly maxDelay: number;

  constructor(
    private readonly sim: SimCluster,
    noise: Noise,
  ) {
    this.maxDelay = noise.delayMs + noise.jitterMs;
  }

  note(what: string): void {
    this.lastChange = this.sim.clock.now();
    this.timeline.push(`${this.at()} ${what}`);
  }

  at(): string {
    return `+${((this.sim.clock.now() - 1_000_000) / 1000).toFixed(3)}s`;
  }

  /** Agents that are alive and not cut off. */
  majority(): string[] {
    return this.sim.live().filter((a) => !this.cutOff.has(a));
  }

  fail(why: string): never {
    throw new Error(`${this.at()} ${why}\ntimeline:\n  ${this.timeline.slice(-25).join('\n  ')}`);
  }

  /** Runs `ms` of virtual time, checking invariants 1, 2, 3 and 5 after every step. */
  run(ms: number): void {
    const end = this.sim.clock.now() + ms;
    while (this.sim.clock.now() < end) {
      this.sim.run(Math.min(STEP, end - this.sim.clock.now()));
      this.check();
    }
  }

  private check(): void {
    const now = this.sim.clock.now();
    for (; this.logSeen < this.sim.log.length; this.logSeen++) {
      const l = this.sim.log[this.logSeen];
      if (l.event.type === 'verdict' || l.event.type === 'majority' || l.event.type === 'minority') {
        this.lastChange = l.at;
        this.timeline.push(`+${((l.at - 1_000_000) / 1000).toFixed(3)}s   ${l.node}: ${l.event.message}`);
      }
    }
    // One view per agent and step: building views is most of what this check costs.
    const views = new Map(this.majority().map((a) => [a, this.sim.view(a)]));
    const serving = [...views.keys()].filter((a) => views.get(a)!.serving);
    const inputs = new Map(serving.map((a) => [a, zoneInputs(this.sim.config, views.get(a)!, 0)]));
    const key = (a: string) => {
      const z = inputs.get(a)!;
      return JSON.stringify([[...z.nodeTargets], z.upNodes, [...z.services]]);
    };

    // 1. Nobody the majority cannot reach is answered, once detection time has passed. Two network
    // delays: the node's last heartbeat may still be in flight when it dies (silence counts from its
    // arrival), and then the silent votes of the others are (agents on the shared rhythm send them
    // half an interval after the silence began: seed 5 took 1.95–2.05 s with a 350 ms delay).
    for (const [u, since] of this.unreachable) {
      if (now - since <= DOWN_AFTER + 2 * INTERVAL + 2 * this.maxDelay) continue;
      for (const [a, z] of inputs) {
        if (z.upNodes.includes(u) || [...z.nodeTargets.values()].includes(u))
          this.fail(`invariant 1: ${a} still answers with ${u}, unreachable for ${now - since} ms: ${JSON.stringify([...z.nodeTargets])}`);
      }
    }
    // 2. An agent without a majority stops serving.
    for (const [m, since] of this.cutOff) {
      if (this.sim.members.has(m) && now - since > DOWN_AFTER + INTERVAL + this.maxDelay && this.sim.view(m).serving)
        this.fail(`invariant 2: ${m} still serves ${now - since} ms after it lost the majority`);
    }
    // 3. The majority's serving agents agree, except shortly after a change.
    if (now - this.lastChange > 2 * INTERVAL + this.maxDelay && new Set(serving.map(key)).size > 1)
      this.fail(`invariant 3: ${serving.join(', ')} disagree ${now - this.lastChange} ms after the last change: ${serving.map((a) => `${a} ${JSON.stringify(inputs.get(a)!.upNodes)}`).join('; ')}`);
    // 5. A healed node is answered for itself within its hold-down + 1 s. A restarted node's new boot
    // is accepted only after a handshake (its heartbeat, the peer's echo, its next heartbeat: three
    // network delays and an interval), which on this network is not one delay but up to three.
    for (const [h, { at, holdDownMs }] of this.healed) {
      if (now - at <= holdDownMs + 1000 + 3 * this.maxDelay + INTERVAL) continue;
      this.healed.delete(h);
      for (const [a, z] of inputs) if (!z.upNodes.includes(h)) this.fail(`invariant 5: ${a} does not answer ${h} for itself ${now - at} ms after the heal (hold-down ${holdDownMs} ms)`);
    }
  }

  /** The longest hold-down any live agent holds `node` to (what it must wait for when it comes back). */
  holdDown(node: string): number {
    return Math.max(...this.sim.live().map((a) => this.sim.view(a).nodes.find((n) => n.name === node)!.holdDownMs));
  }
}

/** One seeded trial: `episodes` faults one after another, each healed and waited out. */
function trial(seed: number, n: number, noise: Noise, faults: (rand: () => number, names: string[]) => Fault, episodes: number): Checker {
  const rand = seededRandom(seed * 7919);
  c = new SimCluster(makeConfig(n), { seed });
  const sim = c;
  // Started at odd times, as real agents are; the shared rhythm lines their heartbeats up.
  for (const name of sim.names) {
    sim.start(name);
    sim.run(Math.floor(rand() * INTERVAL));
  }
  sim.net.setDelay(noise.delayMs, noise.jitterMs);
  sim.net.setDuplicate(noise.duplicate);
  sim.net.setLoss(noise.loss);
  const check = new Checker(sim, noise);
  sim.run(3000);
  check.note(`formed; noise ${JSON.stringify(noise)}`);
  check.run(1000);

  for (let e = 0; e < episodes; e++) {
    const fault = faults(rand, sim.names);
    const lasts = 1500 + Math.floor(rand() * 3500);
    check.note(`fault ${JSON.stringify(fault)} for ${lasts} ms`);
    switch (fault.kind) {
      case 'kill':
        for (const k of fault.nodes) {
          sim.kill(k);
          check.unreachable.set(k, sim.clock.now());
        }
        break;
      case 'cut-off':
        sim.net.partition(
          sim.names.filter((x) => !fault.nodes.includes(x)),
          fault.nodes,
        );
        for (const k of fault.nodes) {
          check.unreachable.set(k, sim.clock.now());
          check.cutOff.set(k, sim.clock.now());
        }
        break;
      case 'one-way':
        sim.net.cut(fault.from, fault.to);
        break;
      case 'pause':
        sim.net.pause(fault.node, 500);
        break;
      case 'quiet':
        break;
    }
    check.run(lasts);

    const back = fault.kind === 'kill' || fault.kind === 'cut-off' ? fault.nodes : [];
    if (fault.kind === 'kill') for (const k of fault.nodes) sim.start(k);
    sim.net.heal();
    check.note(`heal ${back.join(', ')}`);
    for (const k of back) {
      check.unreachable.delete(k);
      check.cutOff.delete(k);
      check.healed.set(k, { at: sim.clock.now(), holdDownMs: check.holdDown(k) });
    }
    // Wait the hold-downs out (and a little more), checking all the while.
    check.run(Math.max(0, ...back.map((k) => check.holdDown(k))) + 2000 + check.maxDelay);
  }
  return check;
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)];
}

/** Any single fault a 3- or 5-node cluster survives, with a minority killed or cut off. */
function anyFault(rand: () => number, names: string[]): Fault {
  const minority = Math.floor((names.length - 1) / 2);
  const shuffled = [...names].sort(() => rand() - 0.5);
  const some = shuffled.slice(0, 1 + Math.floor(rand() * minority));
  switch (pick(rand, ['kill', 'kill', 'cut-off', 'cut-off', 'one-way', 'pause', 'quiet'] as const)) {
    case 'kill':
      return { kind: 'kill', nodes: some };
    case 'cut-off':
      return { kind: 'cut-off', nodes: some };
    case 'one-way':
      return { kind: 'one-way', from: shuffled[0], to: shuffled[1] };
    case 'pause':
      return { kind: 'pause', node: shuffled[0] };
    case 'quiet':
      return { kind: 'quiet' };
  }
}

describe('property: invariants under random faults and network noise (delays to 500 ms, reordering, duplication, loss)', () => {
  it.each(ANY_FAULT_SEEDS)('seed %i, %i nodes', (seed, n) => {
    const rand = seededRandom(seed);
    const jitterMs = Math.floor(rand() * 480);
    const noise: Noise = { delayMs: 1 + Math.floor(rand() * 20), jitterMs, duplicate: rand() * 0.2, loss: rand() * 0.05 };
    const check = trial(seed, n, noise, anyFault, 5);
    expect(check.timeline.length).toBeGreaterThan(10);
  });
});

describe('property: no false failover at up to 20 % loss, 200 ms jitter and 0.5 s pauses', () => {
  it.each(NO_FALSE_FAILOVER_SEEDS)('seed %i, %i nodes', (seed, n) => {
    const rand = seededRandom(seed);
    const noise: Noise = { delayMs: 1, jitterMs: 200, duplicate: rand() * 0.1, loss: 0.2 };
    const check = trial(seed, n, noise, (r, names) => (r() < 0.5 ? { kind: 'pause', node: pick(r, names) } : { kind: 'quiet' }), 8);
    const down = c!.log.filter((l) => (l.event.type === 'verdict' && !l.event.up) || l.event.type === 'minority');
    expect(down.map((l) => `${l.node}: ${l.event.message}`), check.timeline.join('\n')).toEqual([]);
  });
});
