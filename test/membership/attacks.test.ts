import { describe, expect, it } from 'vitest';
import { encodeHeartbeat, PROTOCOL_VERSION } from '../../src/membership/messages';
import { seededRandom } from '../../src/membership/prng';
import { makeConfig, SECRET, SimCluster } from './helpers';

/**
 * Hostile input on the peer port never changes a verdict: each scenario runs twice on the same
 * seed, once with the attack, and the verdict logs must be identical; the attack is counted.
 */

type Attack = (c: SimCluster, captured: Uint8Array[]) => void;

function scenario(attack?: Attack) {
  // No loss: a recorded datagram that the network then dropped would be a late genuine heartbeat,
  // rightly accepted, not a replay.
  const c = new SimCluster(makeConfig(3), { seed: 11, delayMs: 3 });
  const captured: Uint8Array[] = [];
  c.net.tap = (from, _to, bytes) => {
    if (from === 'node2') captured.push(bytes);
  };
  c.startAll();
  c.run(2900);
  // Stop recording before node2's last heartbeat: replaying one still in flight would only deliver
  // a genuine heartbeat early, which is no replay.
  c.net.tap = undefined;
  c.run(100);
  c.kill('node2'); // the attacker tries to keep it alive, or to take node1 down
  for (let t = 0; t < 20_000; t += 100) {
    if (attack) attack(c, captured);
    c.run(100);
  }
  c.start('node2');
  for (let t = 0; t < 10_000; t += 100) {
    if (attack) attack(c, captured);
    c.run(100);
  }
  const verdicts = c.log.filter((l) => l.event.type === 'verdict').map((l) => `${l.at} ${l.node}: ${l.event.message}`);
  const rejected = Object.fromEntries(c.live().map((n) => [n, c.members.get(n)!.counters().rejected]));
  return { verdicts, rejected };
}

const control = scenario();

const forgedBody = {
  incarnation: 1n << 60n,
  sequence: 1,
  configHash: makeConfig(3).hash,
  nodeHealthy: true,
  services: new Map<string, boolean>(),
};
/** node3 "says" it has not heard node1 for a minute: with node2 dead, that would take node1 down. */
const accuseNode1 = new Map([
  ['node1', { everHeard: true, ageMs: 60_000, verdict: 'down' as const }],
  ['node2', { everHeard: true, ageMs: 0, verdict: 'up' as const }],
  ['node3', { everHeard: true, ageMs: 0, verdict: 'up' as const }],
]);
let seq = 0;
const to = (c: SimCluster) => c.live().filter((n) => n !== 'node2');

describe('hostile heartbeats never change a verdict and are counted', () => {
  it('the control run fails node2 over and back', () => {
    expect(control.verdicts.some((v) => / node1: node2 down/.test(v))).toBe(true);
    expect(control.verdicts.some((v) => / node1: node2 up: .*hold-down/.test(v))).toBe(true);
  });

  it.each<[string, Attack, string]>([
    [
      'forged: node2 alive, signed with the wrong secret',
      (c) => {
        for (const n of to(c)) c.net.inject(n, encodeHeartbeat({ ...forgedBody, sequence: ++seq, sender: 'node2', heard: accuseNode1 }, 'wrong-secret-wrong-secret-wrong-secret'));
      },
      'hmac',
    ],
    [
      'unsigned: a valid heartbeat with its HMAC cut off',
      (c) => {
        const b = encodeHeartbeat({ ...forgedBody, sequence: ++seq, sender: 'node3', heard: accuseNode1 }, SECRET);
        for (const n of to(c)) c.net.inject(n, b.subarray(0, b.length - 32));
      },
      'hmac',
    ],
    [
      'replayed: node2’s own heartbeats, recorded before it died',
      (c, captured) => {
        for (const n of to(c)) for (const b of captured.slice(-8)) c.net.inject(n, b);
      },
      'replay',
    ],
    [
      'unknown sender, validly signed (a leaked secret with a made-up name)',
      (c) => {
        for (const n of to(c)) c.net.inject(n, encodeHeartbeat({ ...forgedBody, sequence: ++seq, sender: 'node9', heard: accuseNode1 }, SECRET));
      },
      'unknown-sender',
    ],
    [
      'reflected: a node’s own heartbeat sent back to it',
      (c) => {
        for (const n of to(c)) c.net.inject(n, encodeHeartbeat({ ...forgedBody, sequence: ++seq, sender: n, heard: accuseNode1 }, SECRET));
      },
      'replay',
    ],
  ])('%s', (_name, attack, reason) => {
    const attacked = scenario(attack);
    expect(attacked.verdicts).toEqual(control.verdicts);
    for (const n of ['node1', 'node3']) {
      expect(attacked.rejected[n][reason as keyof (typeof attacked.rejected)[string]], `${n} counts ${reason}`).toBeGreaterThan(100);
    }
  });

  it('random garbage on the peer port crashes nothing and changes nothing', () => {
    const random = seededRandom(5);
    const attacked = scenario((c) => {
      for (const n of c.live())
        for (let i = 0; i < 5; i++) {
          const len = Math.floor(random() * 300);
          const bytes = Uint8Array.from({ length: len }, () => Math.floor(random() * 256));
          // Half of it looks like our protocol at first glance.
          if (i % 2 === 0 && len > 1) bytes[0] = 0xd0 | PROTOCOL_VERSION;
          c.net.inject(n, bytes);
        }
    });
    expect(attacked.verdicts).toEqual(control.verdicts);
    const total = Object.values(attacked.rejected.node1).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(1000);
    expect(attacked.rejected.node1.hmac).toBeGreaterThan(100);
  });
});
