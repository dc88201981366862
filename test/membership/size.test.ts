import { describe, expect, it } from 'vitest';
import { decode, encodeHeartbeat, MAX_HEARTBEAT_LENGTH, wireNames } from '../../src/membership/messages';
import { initialState, reduce } from '../../src/membership/reducer';
import { bootTag } from '../../src/membership/replay';
import { makeConfig, SECRET, SimCluster } from './helpers';

/**
 * Heartbeats never fragment: the largest one an agent sends, with names of the longest length a
 * label allows and as many services as the config accepts at 129 and 150 nodes (the most it
 * accepts). While one heartbeat with every peer's echo fits (up to about 64 nodes), every peer
 * gets that one; past that each peer gets its own copy with its own echo alone. Echoes come once
 * the agent has accepted its peers, so that is the largest.
 */

const longName = (prefix: string, i: number) => `${prefix}${i}-`.padEnd(63, 'x');
/** 37 bytes of header, 7 per node, 8 per echo, 5 per service, 37 of trailer. */
const perPeer = (nodes: number, services: number) => 37 + 7 * nodes + 8 + 5 * services + 37;
/** One heartbeat for all: an echo for every node but the sender. */
const shared = (nodes: number, services: number) => 37 + 7 * nodes + 8 * (nodes - 1) + 5 * services + 37;
const expected = (nodes: number, services: number) => (shared(nodes, services) <= MAX_HEARTBEAT_LENGTH ? shared(nodes, services) : perPeer(nodes, services));

function configOf(count: number, services: number) {
  return makeConfig(
    Array.from({ length: count }, (_, i) => ({ name: longName('n', i) })),
    { services: Array.from({ length: services }, (_, i) => ({ name: longName('s', i).slice(0, 62), port: 1000 + i })) },
  );
}

describe('the largest heartbeat', () => {
  it.each([
    [3, 0],
    [17, 0],
    [17, 34],
  ])('measured on the wire of a formed cluster: %i nodes with 63-character names, %i services', (count, services) => {
    const config = configOf(count, services);
    const c = new SimCluster(config, { delayMs: 1 });
    for (const n of c.names) c.health.set(n, { nodeHealthy: true, services: Object.fromEntries(config.services.map((s) => [s.name, true])) });
    let largest = 0;
    c.net.tap = (_from, _to, bytes) => {
      largest = Math.max(largest, bytes.length);
    };
    c.startAll();
    expect(c.runUntil(() => c.names.every((a) => c.view(a).serving), 3000, 50)).toBeDefined();
    c.run(500);
    c.stopAll();
    expect(largest).toBe(expected(count, services));
    expect(largest).toBeLessThan(MAX_HEARTBEAT_LENGTH);
  });

  it.each([
    [64, 134],
    [129, 0],
    [129, 43],
    [150, 13],
  ])('sent by an agent that accepted all its peers: %i nodes with 63-character names, %i services', (count, services) => {
    const config = configOf(count, services);
    const self = config.nodes[0].name;
    const health = { nodeHealthy: true, services: Object.fromEntries(config.services.map((s) => [s.name, true])) };
    let state = initialState({ config, self, incarnation: 99n, sequence: 5, now: 0, localHealth: health });
    // Each peer's first heartbeat echoes this agent's sequence: proven, accepted, echoed from now on.
    for (const [i, peer] of config.nodes.slice(1).entries()) {
      const bytes = encodeHeartbeat(
        {
          sender: peer.name,
          incarnation: BigInt(i + 1),
          sequence: 1,
          configHash: config.hash,
          nodeHealthy: true,
          heard: new Map([[self, { everHeard: true, ageMs: 0, verdict: 'up' }]]),
          echoes: new Map([[self, { boot: 99, sequence: state.sequence }]]),
          services: new Map(),
        },
        SECRET,
      );
      state = reduce(state, { type: 'message', bytes }, 10).state;
    }
    expect(state.counters.received).toBe(count - 1);
    const sends = reduce(state, { type: 'tick' }, 20).effects.flatMap((e) => (e.type === 'send' ? [e] : []));
    // One copy per peer, each with its own echo: the one a receiver reads (reducer receive, replay.ts).
    expect(sends.map((e) => e.to)).toEqual(config.nodes.slice(1).map((n) => [n.name]));
    expect(new Set(sends.map((e) => e.bytes.length))).toEqual(new Set([expected(count, services)]));
    expect(expected(count, services)).toBeLessThanOrEqual(MAX_HEARTBEAT_LENGTH);
    for (const [i, e] of sends.entries()) {
      const r = decode(e.bytes, SECRET, wireNames(config.nodes.map((n) => n.name), config.services.map((s) => s.name)));
      expect(r.ok && [...r.message.echoes]).toEqual([[e.to[0], { boot: bootTag(BigInt(i + 1)), sequence: 1 }]]);
    }
  });
});

/**
 * Issue 10's goal: a 65-node cluster (more than the 64 the old heartbeat allowed) forms and fails
 * over within 1.5 s (LAN profile). bench/scale-sim.mjs measures the same, also at 129 nodes, with
 * the starts out of phase (129 takes about a minute here: formation alone is n² handshakes).
 */
describe('65 nodes, simulated', () => {
  it('form, and fail over one killed node in every survivor’s view and zone inputs, within 1.5 s', () => {
    const c = new SimCluster(makeConfig(65), { delayMs: 1 });
    c.startAll();
    const all = () =>
      c.live().every((a) => {
        const v = c.view(a);
        return v.serving && v.nodes.every((n) => n.up);
      });
    const formMs = c.runUntil(all, 5000, 25); // 65 views per check: coarse steps keep the test quick
    expect(formMs).toBeDefined();
    expect(formMs!).toBeLessThanOrEqual(1500);
    c.run(2000); // at rest: no startup state left (downAfter since the start is over)
    expect(all()).toBe(true);
    c.run(137); // kill mid-interval rather than on a tick
    c.kill('node7');
    const failoverMs = c.runUntil(
      () =>
        c.live().every((a) => {
          const target = new Map(c.inputs(a).nodeTargets).get('node7');
          return c.state(a, 'node7') !== 'up' && c.view(a).nodes.find((n) => n.name === 'node7')!.up === false && target !== undefined && target !== 'node7';
        }),
      5000,
      25,
    );
    expect(failoverMs).toBeDefined();
    expect(failoverMs!).toBeLessThanOrEqual(1500);
    c.stopAll();
  }, 60_000);
});
