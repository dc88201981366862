import { describe, expect, it } from 'vitest';
import { makeConfig, SimCluster } from './helpers';

/**
 * Boots are told apart by random ids, never ordered by a clock: a restarted node rejoins whatever
 * its boot id, and what a node sent in an earlier boot, recorded and replayed, changes nothing.
 * Defaults: interval 250 ms, downAfter 1 s, upAfter 3 s.
 */

const INTERVAL = 250;
const UP_AFTER = 3000;
const HIGH = 0xffff_ffff_ffff_fff0n;

function upEverywhere(c: SimCluster, node: string): boolean {
  return c.live().every((a) => c.state(a, node) === 'up');
}

describe('a restarted node rejoins whatever its boot id', () => {
  it.each([
    ['a lower boot id than before (a clock that went back)', 1n, 12345],
    ['a higher boot id', HIGH + 1n, 12345],
    ['the same boot id and sequence start as before (a VM snapshot restored): it takes a new one', HIGH, 7],
  ])('%s', (_name, incarnation, sequence) => {
    const c = new SimCluster(makeConfig(3), { delayMs: 3 });
    for (const n of c.names) c.start(n, c.config, n === 'node2' ? { incarnation: HIGH, sequence: 7 } : {});
    expect(c.runUntil(() => c.names.every((n) => upEverywhere(c, n)), 2000)).toBeDefined();
    c.kill('node2');
    expect(c.runUntil(() => c.live().every((a) => c.state(a, 'node2') === 'down'), 2000)).toBeDefined();
    c.run(2000);

    c.start('node2', c.config, { incarnation, sequence });
    const rejoined = c.runUntil(() => upEverywhere(c, 'node2'), UP_AFTER + 10 * INTERVAL);
    expect(rejoined, 'node2 is up on every agent again').toBeDefined();
    expect(rejoined!).toBeLessThanOrEqual(UP_AFTER + 3 * INTERVAL);
    // And it hears the others again (it accepted their boots too).
    expect(c.view('node2').serving).toBe(true);
    for (const n of ['node1', 'node3']) expect(c.state('node2', n)).toBe('up');
    const newBoots = c.log.filter((l) => l.event.type === 'new-boot');
    expect(newBoots.length).toBe(incarnation === HIGH ? 1 : 0);
    if (incarnation === HIGH) expect(newBoots[0].event.message).toMatch(/^node2: node[13] echoes sequence \d+, past this agent's \d+: it was rolled back/);
  });

  it('a quick restart (within downAfter) is taken over without a failover, whatever the boot id', () => {
    const c = new SimCluster(makeConfig(3), { delayMs: 3 });
    for (const n of c.names) c.start(n, c.config, n === 'node2' ? { incarnation: HIGH } : {});
    expect(c.runUntil(() => c.names.every((n) => upEverywhere(c, n)), 2000)).toBeDefined();
    c.kill('node2');
    c.run(300);
    c.start('node2', c.config, { incarnation: 1n });
    c.run(5000);
    expect(c.verdictEvents({ up: false })).toEqual([]);
    for (const a of c.names) for (const n of c.names) expect(c.state(a, n), `${a} sees ${n}`).toBe('up');
    // Its old boot's last heartbeats are not heard any more: the new one is the one accepted.
    for (const a of ['node1', 'node3']) expect(c.view(a).matrix.node2!.rowAgeMs).toBeLessThan(2 * INTERVAL);
  });

  it('a cold start of 5 agents forms within one interval of the old protocol’s 2 s', () => {
    const c = new SimCluster(makeConfig(5), { delayMs: 3 }).startAll();
    const formed = c.runUntil(() => c.names.every((a) => c.view(a).serving && c.names.every((n) => c.state(a, n) === 'up')), 3000);
    expect(formed).toBeDefined();
    expect(formed!).toBeLessThanOrEqual(2000 + INTERVAL);
  });

  it('a restarted receiver accepts its peers again and refuses what was recorded before it restarted', () => {
    const c = new SimCluster(makeConfig(3), { delayMs: 3 }).startAll();
    const captured: Uint8Array[] = [];
    c.net.tap = (from, to, bytes) => {
      if (from === 'node2' && to === 'node1') captured.push(bytes);
    };
    c.run(3000);
    c.start('node1');
    expect(c.runUntil(() => c.names.every((n) => upEverywhere(c, n)) && c.view('node1').serving, 2000)).toBeDefined();
    c.net.tap = undefined;
    c.run(100);
    c.kill('node2');
    c.start('node1');
    // This boot of node1 never heard node2: its recorded heartbeats, old and recent, cannot prove
    // themselves fresh, so node2 goes down here as on node3.
    for (let t = 0; t < 3000; t += 50) {
      for (const b of [...captured.slice(0, 10), ...captured.slice(-10)]) c.net.inject('node1', b);
      c.run(50);
    }
    expect(c.state('node1', 'node2')).toBe('down');
    expect(c.state('node3', 'node2')).toBe('down');
    expect(c.view('node1').serving).toBe(true);
    expect(c.members.get('node1')!.counters().rejected.unproven).toBeGreaterThan(1000);
  });
});

describe('heartbeats of an earlier boot, recorded and replayed, change no verdict', () => {
  /**
   * node2 runs, is killed, restarts with a lower boot id, runs, and is killed again; node1 restarts
   * in between. The attacker replays node2's recorded heartbeats of earlier boots to node1 and node3
   * all along. Compared with the same seed without the attack, every verdict is the same.
   */
  function scenario(replay: boolean) {
    const c = new SimCluster(makeConfig(3), { seed: 7, delayMs: 3 });
    for (const n of c.names) c.start(n, c.config, n === 'node2' ? { incarnation: HIGH } : {});
    const boots: Uint8Array[][] = [[], []];
    let boot = 0;
    let recording = true;
    c.net.tap = (from, _to, bytes) => {
      if (from === 'node2' && recording) boots[boot].push(bytes);
    };
    const attack = (ms: number) => {
      for (let t = 0; t < ms; t += 100) {
        // Only heartbeats of boots that have ended: replaying the live boot's latest would just be
        // delivering a genuine heartbeat twice.
        if (replay) for (const old of boots.slice(0, boot)) for (const b of [...old.slice(0, 4), ...old.slice(-8)]) for (const n of ['node1', 'node3']) c.net.inject(n, b);
        c.run(100);
      }
    };
    c.run(3000);
    recording = false; // nothing in flight is recorded
    c.run(100);
    c.kill('node2');
    boot = 1;
    attack(4000);
    recording = true;
    c.start('node2', c.config, { incarnation: 1n });
    attack(6000);
    c.start('node1');
    attack(3000);
    recording = false;
    c.run(100);
    c.kill('node2');
    boot = 2;
    attack(6000);
    const verdicts = c.log.filter((l) => l.event.type === 'verdict').map((l) => `${l.at} ${l.node}: ${l.event.message}`);
    const rejected = ['node1', 'node3'].map((n) => c.members.get(n)!.counters().rejected);
    return { verdicts, rejected };
  }

  const control = scenario(false);
  const attacked = scenario(true);

  // Not yet assessed is answered as up without a verdict event (it fails open), so the control run's
  // first event for node2 is its failure.
  it('the control run takes node2 down, up again after its restart, and down again', () => {
    expect(control.verdicts.filter((v) => / node3: node2 (down|up)/.test(v)).map((v) => v.split(': ')[1].split(' ')[1])).toEqual(['down', 'up', 'down']);
  });

  it('the replays change nothing and are counted', () => {
    expect(attacked.verdicts).toEqual(control.verdicts);
    for (const r of attacked.rejected) expect(r.replay + r.unproven).toBeGreaterThan(500);
  });
});
