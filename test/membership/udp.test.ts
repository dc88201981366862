import { createSocket } from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/config/types';
import { realClock } from '../../src/membership/clock';
import { encodeHeartbeat, PROTOCOL_VERSION } from '../../src/membership/messages';
import { Membership } from '../../src/membership/runtime';
import { UdpTransport } from '../../src/membership/udp-transport';
import { makeConfig } from './helpers';

/** Three real Membership instances over UDP on 127.0.4.1–3, on the real clock, with short timings. */

const PORT = 17946;
const config = makeConfig(3, { portBase: PORT, peer: { interval: '50ms', downAfter: '200ms', upAfter: '300ms' } });
const members = new Map<string, Membership>();

const transports = new Map<string, UdpTransport>();

async function start(name: string, cfg: ClusterConfig = config): Promise<Membership> {
  const transport = await UdpTransport.open(cfg, name);
  transports.set(name, transport);
  const m = new Membership({
    config: cfg,
    self: name,
    transport,
    clock: realClock,
    getLocalHealth: () => ({ nodeHealthy: true, services: {} }),
  });
  members.set(name, m);
  m.start();
  return m;
}

async function stop(name: string): Promise<void> {
  const m = members.get(name);
  members.delete(name);
  await m?.stop();
}

/** Polls every 10 ms; resolves with the elapsed ms, or rejects after `maxMs`. */
async function waitFor(what: string, cond: () => boolean, maxMs: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > maxMs) throw new Error(`timed out after ${maxMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

const state = (of: string, node: string) => members.get(of)!.view().nodes.find((n) => n.name === node)!.state;

afterAll(async () => {
  for (const n of [...members.keys()]) await stop(n);
});

describe('UdpTransport with three agents on 127.0.4.1–3', () => {
  it('agree, fail a stopped node over, ignore garbage, and take it back', async () => {
    for (const n of ['node1', 'node2', 'node3']) await start(n);
    await waitFor(
      'all agents serve and see every node up',
      () => [...members.keys()].every((a) => members.get(a)!.view().serving && ['node1', 'node2', 'node3'].every((n) => state(a, n) === 'up')),
      5000,
    );

    // Garbage and forgeries from a peer's address (another port) reach the protocol, which rejects
    // them; from an address that is no peer's they are dropped before it (no HMAC work) and counted.
    const forged = encodeHeartbeat(
      { sender: 'node2', incarnation: 1n, sequence: 1, configHash: config.hash, nodeHealthy: false, heard: new Map(), services: new Map() },
      'not-the-secret-not-the-secret-not-the',
    );
    const rejectedTotal = () => Object.values(members.get('node1')!.counters().rejected).reduce((a, b) => a + b, 0);
    let rejectedFromPeer = 0;
    for (const from of ['127.0.4.2', '127.0.4.9']) {
      const sender = createSocket('udp4');
      try {
        await new Promise<void>((r) => sender.bind(0, from, () => r()));
        for (let i = 0; i < 50; i++) {
          sender.send(Buffer.from([0xd0 | PROTOCOL_VERSION, i, ...Array.from({ length: i * 3 }, () => (Math.random() * 256) | 0)]), PORT, '127.0.4.1');
          sender.send(forged, PORT, '127.0.4.1');
        }
        if (from === '127.0.4.2') {
          await waitFor('node1 rejected the garbage', () => members.get('node1')!.counters().rejected.hmac + members.get('node1')!.counters().rejected.short >= 100, 3000);
          rejectedFromPeer = rejectedTotal();
        } else await waitFor('node1 dropped the outsider', () => transports.get('node1')!.stats.notPeer >= 100, 3000);
      } finally {
        sender.close();
      }
    }
    expect(transports.get('node1')!.stats.notPeer).toBe(100);
    expect(rejectedTotal()).toBe(rejectedFromPeer);
    expect(state('node1', 'node2')).toBe('up');

    await stop('node2');
    const detected = await waitFor('node1 and node3 declare node2 down', () => state('node1', 'node2') === 'down' && state('node3', 'node2') === 'down', 3000);
    // downAfter + 2 intervals, plus slack for real timers on a busy machine.
    expect(detected).toBeLessThan(200 + 2 * 50 + 400);

    await start('node2');
    const back = await waitFor('node2 is up again everywhere', () => ['node1', 'node2', 'node3'].every((a) => state(a, 'node2') === 'up'), 5000);
    expect(back).toBeGreaterThanOrEqual(300);
    expect(members.get('node1')!.counters().received).toBeGreaterThan(10);
  });

  it('cannot bind an address that is not local: LISTEN_FAILED says what to do', async () => {
    const bad = makeConfig(3, { portBase: PORT });
    const foreign = { ...bad, nodes: bad.nodes.map((n, i) => (i === 0 ? { ...n, peerAddress: '192.0.2.1' } : n)) };
    await expect(UdpTransport.open(foreign, 'node1')).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
  });

  it('sending to an unknown node or an oversized datagram does not throw', async () => {
    const t = await UdpTransport.open(makeConfig(3, { portBase: PORT + 1 }), 'node3');
    try {
      t.send(Buffer.alloc(10), 'node9');
      t.send(Buffer.alloc(70_000), 'node1');
      await new Promise((r) => setTimeout(r, 50));
      expect(t.stats.sendErrors).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});
