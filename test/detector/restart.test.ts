import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { Detector } from '../../src/detector/detector';
import type { MembershipLogEvent } from '../../src/membership/runtime';
import { SECRET } from '../helpers/cluster';

/**
 * The detector thread as control drives it (src/detector/detector.ts), with a real peer socket: it
 * binds, beats, posts views; when its thread dies (here the test ends it, as a crash or an
 * out-of-memory would) control starts another, which binds the same port again and goes on, and
 * says so in an 'error' event. A port it cannot bind refuses the start with LISTEN_FAILED.
 * Two nodes, each a Detector in this process, on 127.0.196.1 and .2: the peer whose thread did not
 * die never finds the other down (the new thread is back well within downAfter).
 */
const config = parseConfig(
  JSON.stringify({ zone: 'cluster.test', secret: SECRET, peer: { port: 6791 }, nodes: [{ name: 'solo', address: '127.0.196.1' }, { name: 'peer', address: '127.0.196.2' }] }),
);
const health = () => ({ nodeHealthy: true, services: {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the detector thread', () => {
  it('is started again when it dies, and goes on beating and posting views', async () => {
    const d = await Detector.open({ config, self: 'solo', getLocalHealth: health, zoneSerial: 7 });
    const peer = await Detector.open({ config, self: 'peer', getLocalHealth: health, zoneSerial: 7 });
    const events: MembershipLogEvent[] = [];
    const peerEvents: MembershipLogEvent[] = [];
    d.on('event', (e) => events.push(e));
    peer.on('event', (e) => peerEvents.push(e));
    try {
      d.start();
      peer.start();
      await until('serving', () => d.view().serving);
      await until('hears its peer', () => d.heardPeers().join() === 'peer');
      await d.snapshot();
      const sentBefore = d.counters()!.sent;
      expect(d.view().serials.solo).toBe(7);

      // The thread ends abruptly; control notices and starts another.
      await (d as unknown as { worker: Worker }).worker.terminate();
      await until('restarted', () => d.restarts === 1);
      expect(events.some((e) => e.type === 'error' && /failure-detector thread ended/.test(e.message))).toBe(true);
      await until('serving again', () => d.view().serving, 5000);
      await sleep(600);
      await d.snapshot();
      // A new thread, new counters: it beats (sent counts since its start) and keeps the serial.
      expect(d.counters()!.sent).toBeGreaterThan(0);
      expect(d.view().serials.solo).toBe(7);
      expect(sentBefore).toBeGreaterThan(0);
      // The peer heard a new boot, not a death.
      expect(peerEvents.filter((e) => e.type === 'verdict' && !e.up)).toEqual([]);
      expect(peer.view().nodes.find((n) => n.name === 'solo')?.up).toBe(true);
    } finally {
      await d.stop();
      await peer.stop();
    }
  });

  it('refuses to start when the peer port is taken, with LISTEN_FAILED and what to do', async () => {
    const first = await Detector.open({ config, self: 'solo', getLocalHealth: health, zoneSerial: 1 });
    try {
      await expect(Detector.open({ config, self: 'solo', getLocalHealth: health, zoneSerial: 1 })).rejects.toMatchObject({ code: 'LISTEN_FAILED', message: expect.stringContaining('127.0.196.1:6791') });
    } finally {
      await first.stop();
    }
  });
});
