import { describe, expect, it } from 'vitest';
import type { Transport } from '../../src/membership/transport';
import { makeConfig, SimCluster, type NodeSpec } from './helpers';

/**
 * The protocol end to end on a MemoryNetwork and a FakeClock: real Membership runtimes, virtual
 * time, no sleeps. Defaults: interval 250 ms, downAfter 1 s, upAfter 3 s.
 */

const INTERVAL = 250;
const DOWN_AFTER = 1000;
const UP_AFTER = 3000;

const witnessTrio: NodeSpec[] = [{ name: 'node1' }, { name: 'node2' }, { name: 'tie', role: 'witness' }];

function settled(nodes: number | NodeSpec[], opts: ConstructorParameters<typeof SimCluster>[1] = {}): SimCluster {
  const c = new SimCluster(makeConfig(nodes), opts).startAll();
  c.run(2000);
  for (const a of c.names) {
    expect(c.view(a).serving, `${a} serving after start`).toBe(true);
    for (const n of c.names) expect(c.state(a, n), `${a} sees ${n}`).toBe('up');
  }
  expect(c.agreedInputs()).toBeDefined();
  return c;
}

describe('a killed node fails over', () => {
  it.each([
    ['3 nodes, kill node2', 3, ['node2']],
    ['3 nodes, kill node1', 3, ['node1']],
    ['5 nodes, kill node4', 5, ['node4']],
    ['5 nodes, kill node1 and node3 at once', 5, ['node1', 'node3']],
    ['2 nodes + witness, kill node2', witnessTrio, ['node2']],
    ['2 nodes + witness, kill the witness', witnessTrio, ['tie']],
  ] as const)('%s', (_name, nodes, killed) => {
    const c = settled(nodes as number | NodeSpec[]);
    const killedAt = c.clock.now();
    for (const k of killed) c.kill(k);
    const survivors = c.live();

    // Every survivor's verdict within downAfter + 2 intervals.
    const verdictAt = new Map<string, number>();
    c.runUntil(() => {
      for (const s of survivors) if (!verdictAt.has(s) && killed.every((k) => c.state(s, k) === 'down')) verdictAt.set(s, c.clock.now());
      return verdictAt.size === survivors.length;
    }, DOWN_AFTER + 2 * INTERVAL);
    for (const s of survivors) {
      expect(verdictAt.get(s), `${s} declares ${killed.join(', ')} down`).toBeDefined();
      expect(verdictAt.get(s)! - killedAt).toBeLessThanOrEqual(DOWN_AFTER + 2 * INTERVAL);
    }
    const reasons = c.verdictEvents({ up: false }).map((l) => l.event.message);
    expect(reasons.length).toBe(survivors.length * killed.length);
    for (const r of reasons) expect(r).toMatch(/^node\d|tie down: not heard by .+ for \d\.\d s/);

    // Identical answers on every survivor from two intervals after the first verdict on, for 3 s.
    const first = Math.min(...verdictAt.values());
    c.run(first + 2 * INTERVAL - c.clock.now());
    for (let t = 0; t < 3000; t += 5, c.run(5)) {
      const agreed = c.agreedInputs();
      expect(agreed, `agents agree at +${c.clock.now() - first} ms after the first verdict`).toBeDefined();
      expect(agreed!.serving).toBe(true);
      for (const k of killed) expect(agreed!.upNodes).not.toContain(k);
      for (const [name, target] of agreed!.nodeTargets) {
        expect(survivors, `${name} → ${target}`).toContain(target);
        expect(target).not.toBe('tie');
      }
    }

    // Restart: back after the hold-down, on every agent, then all agree again.
    const restartedAt = c.clock.now();
    for (const k of killed) c.start(k);
    // During the hold-down the restarted agents adopt it too: nobody serves their addresses early.
    c.run(2 * INTERVAL);
    for (let t = 2 * INTERVAL; t < UP_AFTER - INTERVAL; t += 5, c.run(5)) {
      const agreed = c.agreedInputs();
      expect(agreed, `all agents agree ${t} ms after the restart`).toBeDefined();
      for (const k of killed) expect(agreed!.upNodes).not.toContain(k);
    }
    const back = c.runUntil(() => c.names.every((s) => killed.every((k) => c.state(s, k) === 'up')), UP_AFTER + 2 * INTERVAL);
    expect(back, 'recovered within the hold-down plus two intervals').toBeDefined();
    expect(c.clock.now() - restartedAt).toBeGreaterThanOrEqual(UP_AFTER);
    expect(c.clock.now() - restartedAt).toBeLessThanOrEqual(UP_AFTER + 2 * INTERVAL);
    c.run(2 * INTERVAL);
    const agreed = c.agreedInputs();
    expect(agreed).toBeDefined();
    expect(agreed!.upNodes).toEqual(c.config.nodes.filter((n) => n.role !== 'witness').map((n) => n.name));
  });
});

describe('flapping', () => {
  it('doubles the hold-down each time a node fails again soon after coming back', () => {
    const c = settled(3);
    const holdDowns: number[] = [];
    for (let i = 0; i < 4; i++) {
      c.kill('node2');
      expect(c.runUntil(() => c.state('node1', 'node2') === 'down', 2000)).toBeDefined();
      c.start('node2');
      const took = c.runUntil(() => c.state('node1', 'node2') === 'up' && c.state('node3', 'node2') === 'up', 60_000, 10)!;
      holdDowns.push(Math.round(took / 100) * 100);
      expect(c.view('node1').nodes[1].holdDownMs).toBe(c.view('node3').nodes[1].holdDownMs);
      c.run(1000);
    }
    // Each agent waits for the others' hold-downs too, the restarted node's own (it starts its
    // count an interval late) included: at most two intervals over the hold-down.
    [3000, 6000, 12_000, 24_000].forEach((want, i) => {
      expect(holdDowns[i]).toBeGreaterThanOrEqual(want);
      expect(holdDowns[i]).toBeLessThanOrEqual(want + 2 * 250);
    });
  });
});

describe('loss', () => {
  it.each([
    ['3 nodes, seed 1', 3, 1],
    ['3 nodes, seed 2', 3, 2],
    ['3 nodes, seed 3', 3, 3],
    ['3 nodes, seed 4, with 0–40 ms jitter', 3, 4],
    ['5 nodes, seed 5', 5, 5],
    ['2 nodes + witness, seed 6', witnessTrio, 6],
  ] as const)('%s: 20 percent loss on every link for 10 minutes declares nothing down', (_name, nodes, seed) => {
    const c = settled(nodes as number | NodeSpec[], { seed });
    c.net.setLoss(0.2);
    if (seed === 4) c.net.setDelay(1, 40);
    c.run(600_000);
    expect(c.verdictEvents({ up: false }).map((l) => `${l.node}: ${l.event.message}`)).toEqual([]);
    expect(c.log.filter((l) => l.event.type === 'minority')).toEqual([]);
    expect(c.net.stats.dropped / c.net.stats.sent).toBeGreaterThan(0.19);
  });

  it('still detects a real failure under 20 % loss', () => {
    const c = settled(3, { seed: 7 });
    c.net.setLoss(0.2);
    c.run(10_000);
    c.kill('node3');
    expect(c.runUntil(() => c.state('node1', 'node3') === 'down' && c.state('node2', 'node3') === 'down', DOWN_AFTER + 4 * INTERVAL)).toBeDefined();
  });
});

describe('partitions', () => {
  it('2|1 in 3: the 1 is in the minority and stops serving, the 2 declare it down; heal restores', () => {
    const c = settled(3);
    c.net.partition(['node1', 'node2'], ['node3']);
    c.run(DOWN_AFTER + 2 * INTERVAL);
    expect(c.view('node3')).toMatchObject({ minority: true, serving: false });
    expect(c.inputs('node3').serving).toBe(false);
    for (const a of ['node1', 'node2']) {
      expect(c.view(a)).toMatchObject({ minority: false, serving: true });
      expect(c.state(a, 'node3')).toBe('down');
    }
    expect(c.agreedInputs(['node1', 'node2'])!.nodeTargets.find(([n]) => n === 'node3')![1]).toMatch(/node[12]/);
    // The minority cannot outvote anyone: it declares nobody down.
    expect(c.log.filter((l) => l.node === 'node3' && l.event.type === 'verdict' && !l.event.up)).toEqual([]);
    expect(c.log.some((l) => l.node === 'node3' && l.event.type === 'minority')).toBe(true);

    c.net.heal();
    const healedAt = c.clock.now();
    expect(c.runUntil(() => c.view('node3').serving, 2 * INTERVAL)).toBeDefined();
    // Rejoining, node3 drops its stale verdicts and adopts the majority's hold-down of itself.
    c.run(2 * INTERVAL);
    expect(c.agreedInputs()!.upNodes).toEqual(['node1', 'node2']);
    expect(c.runUntil(() => c.names.every((a) => c.state(a, 'node3') === 'up'), UP_AFTER + 2 * INTERVAL)).toBeDefined();
    expect(c.clock.now() - healedAt).toBeGreaterThanOrEqual(UP_AFTER);
  });

  it('one-way: node1 cannot hear node3 but node2 can: nothing changes', () => {
    const c = settled(3);
    c.net.cut('node3', 'node1');
    c.run(30_000);
    expect(c.verdictEvents()).toHaveLength(9); // the start-up ones only
    for (const a of c.names) expect(c.view(a).serving).toBe(true);
    expect(c.agreedInputs()!.upNodes).toEqual(['node1', 'node2', 'node3']);
  });

  it('one-way: node3 hears nobody: it stops serving, the others still hear it and keep it up', () => {
    const c = settled(3);
    c.net.cut('node1', 'node3');
    c.net.cut('node2', 'node3');
    c.run(DOWN_AFTER + 2 * INTERVAL);
    expect(c.view('node3').serving).toBe(false);
    for (const a of ['node1', 'node2']) {
      expect(c.view(a).serving).toBe(true);
      expect(c.state(a, 'node3')).toBe('up');
    }
  });

  it('3|2 in 5: the 3 fail the 2 over, the 2 stop serving', () => {
    const c = settled(5);
    c.net.partition(['node1', 'node2', 'node3'], ['node4', 'node5']);
    c.run(DOWN_AFTER + 2 * INTERVAL);
    const agreed = c.agreedInputs(['node1', 'node2', 'node3'])!;
    expect(agreed.serving).toBe(true);
    expect(agreed.upNodes).toEqual(['node1', 'node2', 'node3']);
    for (const a of ['node4', 'node5']) expect(c.view(a)).toMatchObject({ minority: true, serving: false });
  });

  it('5 nodes, 3 killed: the 2 survivors are in the minority and serve nothing', () => {
    const c = settled(5);
    for (const k of ['node1', 'node2', 'node3']) c.kill(k);
    c.run(DOWN_AFTER + 2 * INTERVAL);
    for (const a of ['node4', 'node5']) expect(c.inputs(a).serving).toBe(false);
  });
});

describe('small clusters', () => {
  it('a single node is its own majority and serves at once', () => {
    const c = new SimCluster(makeConfig(1)).startAll();
    expect(c.view('node1')).toMatchObject({ serving: true, minority: false });
    expect(c.inputs('node1').upNodes).toEqual(['node1']);
  });

  it('two nodes without a witness: a survivor cannot tell death from partition, so it stops serving', () => {
    const c = settled(2);
    c.kill('node2');
    c.run(DOWN_AFTER + 2 * INTERVAL);
    expect(c.view('node1')).toMatchObject({ serving: false, minority: true });
    expect(c.log.filter((l) => l.event.type === 'minority').map((l) => l.event.message)).toEqual([
      'node1 is in the minority: hears only node1 (1 of 2, needs 2)',
    ]);
  });
});

describe('startup', () => {
  it('an agent alone does not serve; it serves once it hears a majority', () => {
    const c = new SimCluster(makeConfig(3));
    c.start('node1');
    c.run(10_000);
    expect(c.view('node1')).toMatchObject({ quorum: false, serving: false });
    c.start('node2');
    expect(c.runUntil(() => c.view('node1').serving && c.view('node2').serving, 2 * INTERVAL)).toBeDefined();
    // node3 never started: down once a majority has listened for downAfter.
    expect(c.runUntil(() => c.state('node1', 'node3') === 'down', DOWN_AFTER + INTERVAL)).toBeDefined();
  });

  it('a restarted node does not serve from an empty view while it hears nobody', () => {
    const c = settled(3);
    c.kill('node2');
    c.net.partition(['node1', 'node3'], ['node2']);
    c.run(500);
    c.start('node2');
    c.run(10_000);
    expect(c.view('node2')).toMatchObject({ quorum: false, serving: false });
    c.net.heal();
    expect(c.runUntil(() => c.view('node2').serving, 2 * INTERVAL)).toBeDefined();
  });
});

describe('health', () => {
  const services = [
    { name: 'redis', port: 6379, nodes: ['node1', 'node2', 'node3'], policy: 'first-healthy' },
    { name: 'web', port: 80, nodes: ['node1', 'node2', 'node3'], policy: 'all-healthy' },
  ];

  it('a node whose own checks fail fails over at once, and comes back after the hold-down', () => {
    const c = new SimCluster(makeConfig(3, { services })).startAll();
    c.run(2000);
    c.health.set('node2', { nodeHealthy: false, services: {} });
    c.members.get('node2')!.refreshHealth();
    expect(c.runUntil(() => ['node1', 'node3'].every((a) => c.state(a, 'node2') === 'down'), 2 * INTERVAL)).toBeDefined();
    expect(c.verdictEvents({ node: 'node2', up: false })[0]?.event.message).toBe('node2 down: its own checks fail');
    c.run(2 * INTERVAL);
    expect(c.agreedInputs()!.upNodes).toEqual(['node1', 'node3']);
    c.health.set('node2', { nodeHealthy: true, services: {} });
    expect(c.runUntil(() => c.names.every((a) => c.state(a, 'node2') === 'up'), UP_AFTER + 2 * INTERVAL)).toBeGreaterThanOrEqual(UP_AFTER);
  });

  it('with failoverOnCheckFailure off, failing checks do not fail the node over', () => {
    const c = new SimCluster(makeConfig(3, { failoverOnCheckFailure: false })).startAll();
    c.run(2000);
    c.health.set('node2', { nodeHealthy: false, services: {} });
    c.run(5000);
    for (const a of c.names) expect(c.state(a, 'node2')).toBe('up');
    expect(c.view('node1').nodes[1].healthy).toBe(false);
  });

  it('service answers follow each node’s reported service health, identically on every agent', () => {
    const c = new SimCluster(makeConfig(3, { services })).startAll();
    c.run(2000);
    expect(c.agreedInputs()!.services).toEqual([
      ['redis', ['node1']],
      ['web', ['node1', 'node2', 'node3']],
    ]);
    c.health.set('node1', { nodeHealthy: true, services: { redis: false, web: false } });
    c.run(2 * INTERVAL);
    expect(c.agreedInputs()!.services).toEqual([
      ['redis', ['node2']],
      ['web', ['node2', 'node3']],
    ]);
    expect(c.agreedInputs()!.upNodes).toEqual(['node1', 'node2', 'node3']);
  });

  it('emits a view when only a peer’s service health changes', () => {
    const c = new SimCluster(makeConfig(3, { services })).startAll();
    c.run(2000);
    const changes: string[] = [];
    c.members.get('node1')!.on('view', (_v, ch) => changes.push(...ch.map((x) => `${x.type}:${'node' in x ? x.node : ''}`)));
    c.health.set('node3', { nodeHealthy: true, services: { redis: false } });
    c.run(2 * INTERVAL);
    expect(changes).toEqual(['health:node3']);
  });
});

describe('config', () => {
  it('a peer with a different config hash is reported, not fatal', () => {
    const c = new SimCluster(makeConfig(3));
    c.start('node1');
    c.start('node2');
    const other = makeConfig(3, { peer: { upAfter: '4s' } });
    expect(other.hash).not.toBe(c.config.hash);
    c.start('node3', other);
    c.run(3000);
    const mismatches = c.log.filter((l) => l.event.type === 'config-mismatch');
    expect(mismatches.map((l) => l.node).sort()).toEqual(['node1', 'node2', 'node3', 'node3']);
    expect(mismatches[0].event.message).toMatch(/runs config [0-9a-f]{16}, this node [0-9a-f]{16}: roll the same config out/);
    for (const a of c.names) expect(c.view(a).serving).toBe(true);
    expect(c.view('node1').configHashes).toEqual({ node1: c.config.hash, node2: c.config.hash, node3: other.hash });
  });

  it('updateConfig applies new timings', () => {
    const c = settled(3);
    const faster = makeConfig(3, { peer: { interval: '100ms', downAfter: '400ms' } });
    for (const a of c.names) c.members.get(a)!.updateConfig(faster);
    c.kill('node2');
    expect(c.runUntil(() => c.state('node1', 'node2') === 'down', 400 + 3 * 100 + INTERVAL)).toBeDefined();
  });
});

describe('runtime', () => {
  it('a throwing listener does not stop the heartbeats', () => {
    const c = settled(3);
    const node1 = c.members.get('node1')!;
    node1.on('view', () => {
      throw new Error('listener bug');
    });
    // The next tick polls health, sees the change and emits a view from inside the tick: a throw
    // there would end the process, so it is reported instead.
    c.health.set('node1', { nodeHealthy: true, services: { web: false } });
    expect(() => c.run(INTERVAL)).not.toThrow();
    expect(c.log.filter((l) => l.node === 'node1' && l.event.type === 'error').map((l) => l.event.message)).toEqual([
      'node1: local-health effects not carried out: listener bug',
    ]);
    const sent = node1.counters().sent;
    c.run(5000);
    expect(node1.counters().sent).toBeGreaterThanOrEqual(sent + 2 * (5000 / INTERVAL));
    expect(c.state('node3', 'node1')).toBe('up');
  });

  it('a send that throws for one peer costs only that peer its heartbeat', () => {
    const c = settled(3);
    const t = (c.members.get('node1') as unknown as { transport: Transport }).transport;
    const send = t.send.bind(t);
    t.send = (bytes, to) => {
      if (to === 'node2') throw new Error('EINVAL');
      send(bytes, to);
    };
    expect(() => c.run(3000)).not.toThrow();
    expect(c.state('node3', 'node1')).toBe('up');
    expect(c.log.filter((l) => l.node === 'node1' && l.event.type === 'error').length).toBeGreaterThanOrEqual(3000 / INTERVAL);
    expect(c.log.find((l) => l.node === 'node1' && l.event.type === 'error')!.event.message).toBe('node1: heartbeat to node2 not sent: EINVAL');
  });

  it('a heartbeat the wire cannot carry is logged and counted, and the agent keeps running', () => {
    const c = settled(3);
    const node1 = c.members.get('node1')!;
    // More services than a heartbeat has room for (the config rules this out; a health source could not).
    const services = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`s${i}`, true]));
    c.health.set('node1', { nodeHealthy: true, services });
    expect(() => c.run(10 * INTERVAL)).not.toThrow();
    const errors = c.log.filter((l) => l.node === 'node1' && l.event.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(10);
    expect(errors[0].event.message).toBe('node1: heartbeat not sent: at most 255 nodes and 255 services');
    expect(node1.counters().unsent).toBe(errors.length);
    // Back within bounds: heartbeats resume and every agent has node1 up again.
    c.health.set('node1', { nodeHealthy: true, services: {} });
    c.run(UP_AFTER + 4 * INTERVAL + 2000);
    for (const a of c.names) expect(c.state(a, 'node1')).toBe('up');
  });
});

describe('stop', () => {
  it('leaves no timer behind', () => {
    const c = settled(3);
    c.stopAll();
    c.run(10_000);
    expect(c.clock.pending()).toBe(0);
  });
});
