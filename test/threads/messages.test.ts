import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { healthAsOf, staleAfterMs } from '../../src/detector/health';
import { peerConfigOf } from '../../src/membership/peer-config';
import type { ViewChange } from '../../src/membership/runtime';
import { QueryStats } from '../../src/server/stats';
import { cookieKeys } from '../../src/server/cookie-keys';
import { sharedTallyBuffer } from '../../src/server/tcp-tally';
import { isFromAnswer, isFromDetector, isToAnswer, isToDetector, THREADS_PROTOCOL, type AnswerInit, type DetectorInit, type FromAnswer, type FromDetector, type ToAnswer, type ToDetector } from '../../src/threads/messages';
import { compile } from '../../src/zone/compile';
import { decodeTable, encodeTable } from '../../src/zone/image';
import { allUpInputs } from '../../src/zone/inputs';
import { buildZone } from '../../src/zone/zone';
import { makeConfig, SimCluster } from '../membership/helpers';

/** Sends every message through a real MessagePort (the structured clone a worker's messages take). */
async function roundTrip<T>(messages: readonly T[]): Promise<unknown[]> {
  const { port1, port2 } = new MessageChannel();
  const got: unknown[] = [];
  const done = new Promise<void>((resolve) =>
    port2.on('message', (m) => {
      got.push(m);
      if (got.length === messages.length) resolve();
    }),
  );
  for (const m of messages) port1.postMessage(m);
  await done;
  port1.close();
  return got;
}

/** A cluster formed, node3 killed and failed over, a service flipped: views with verdicts, health, serials. */
function liveMaterial() {
  const config = makeConfig(3, { services: [{ name: 'web', port: 80, nodes: ['node1', 'node2', 'node3'] }] });
  const sim = new SimCluster(config).startAll();
  sim.run(5000);
  sim.members.get('node1')!.setZoneSerial(2026120601);
  const changes: ViewChange[] = [];
  sim.members.get('node1')!.on('view', (_v, c) => changes.push(...c));
  sim.kill('node3');
  sim.health.set('node2', { nodeHealthy: true, services: { web: false } });
  sim.run(3000);
  return { config, sim, view: sim.view('node1'), counters: sim.members.get('node1')!.counters(), changes };
}

describe('thread messages (src/threads/messages.ts)', () => {
  it('every message to and from the detector arrives through a MessagePort as it was sent', async () => {
    const { config, view, counters, changes, sim } = liveMaterial();
    expect(changes.some((c) => c.type === 'verdict')).toBe(true);
    expect(view.nodes.find((n) => n.name === 'node3')!.up).toBe(false);
    const slice = peerConfigOf(config);
    const toDetector: ToDetector[] = [
      { type: 'start' },
      { type: 'stop' },
      { type: 'config', config: slice },
      { type: 'local-health', health: { nodeHealthy: false, services: { web: true } }, at: performance.timeOrigin + 1234.5 },
      { type: 'zone-serial', serial: 4294967295 },
      { type: 'snapshot', id: 7 },
    ];
    const events = sim.log.map((l) => l.event);
    expect(events.length).toBeGreaterThan(0);
    const fromDetector: FromDetector[] = [
      { type: 'ready', view },
      { type: 'failed', code: 'LISTEN_FAILED', message: 'cannot bind', details: ['check the address'] },
      { type: 'turn', items: [...events.map((event) => ({ type: 'event' as const, event })), { type: 'serial', serial: 2026120602 }, { type: 'view', changes }], view },
      { type: 'turn', items: [] },
      { type: 'snapshot', id: 7, view, counters, transport: { sent: 1, sendErrors: 0, received: 2, notPeer: 3 } },
      { type: 'stopped' },
    ];
    const init: DetectorInit = { protocol: THREADS_PROTOCOL, self: 'node1', config: slice, health: { nodeHealthy: true, services: {} }, healthAt: 1, zoneSerial: 3 };

    const to = await roundTrip(toDetector);
    expect(to).toEqual(toDetector);
    expect(to.every(isToDetector)).toBe(true);
    const from = await roundTrip(fromDetector);
    expect(from).toEqual(fromDetector);
    expect(from.every(isFromDetector)).toBe(true);
    expect(await roundTrip([init])).toEqual([init]);
  });

  it('every message to and from an answer thread arrives as it was sent; a table image arrives shared, not copied', async () => {
    const config = makeConfig(3);
    const image = encodeTable(compile(buildZone(config, allUpInputs(config, 5)), { identity: 'node1', unavailable: 'refused' }), 9);
    const stats = new QueryStats();
    stats.count('udp', 1, 0);
    stats.count('tcp', 28, 3);
    stats.socketDrops['tcp-limit'] = 2;
    const server = { addresses: ['127.0.0.1'], port: 53, identity: 'node1', tcpIdleTimeoutMs: 1000, tcpMaxConnections: 10, tcpMaxConnectionsPerSource: 2, cookieKeys: cookieKeys(['s']), rateLimit: config.dns.rateLimit };
    const toAnswer: ToAnswer[] = [
      { type: 'table', image: image.buffer },
      { type: 'guard', cookieKeys: cookieKeys(['a', 'b']), rateLimit: config.dns.rateLimit },
      { type: 'ping', id: 3, at: 12.5 },
      { type: 'stop' },
    ];
    const fromAnswer: FromAnswer[] = [
      { type: 'ready', version: 9 },
      { type: 'failed', code: 'LISTEN_FAILED', message: 'x' },
      { type: 'table-applied', version: 10 },
      { type: 'table-refused', message: 'cut short' },
      { type: 'pong', id: 3, version: 10, lagMs: 0.5, stats: stats.snapshot() },
      { type: 'stopped' },
    ];
    const init: AnswerInit = { protocol: THREADS_PROTOCOL, index: 1, server, image: image.buffer, tally: sharedTallyBuffer(2) };
    const to = await roundTrip(toAnswer);
    expect(to).toEqual(toAnswer);
    expect(to.every(isToAnswer)).toBe(true);
    const from = await roundTrip(fromAnswer);
    expect(from).toEqual(fromAnswer);
    expect(from.every(isFromAnswer)).toBe(true);
    const [gotInit] = (await roundTrip([init])) as AnswerInit[];
    expect(gotInit).toEqual(init);
    // One image for every thread: a SharedArrayBuffer crosses as the same memory.
    expect(gotInit.image).toBeInstanceOf(SharedArrayBuffer);
    expect(decodeTable(gotInit.image).version).toBe(9);
    const sum = new QueryStats();
    sum.setSum([(from[4] as Extract<FromAnswer, { type: 'pong' }>).stats, stats.snapshot()]);
    expect(sum.total()).toBe(4);
    expect(sum.socketDrops['tcp-limit']).toBe(4);
  });

  it('anything else is not taken for a message', () => {
    for (const junk of [null, undefined, 1, 'start', [], {}, { type: 'tick' }, { type: 1 }, { type: 'constructor' }, { type: '__proto__' }]) {
      expect(isToDetector(junk)).toBe(false);
      expect(isFromDetector(junk)).toBe(false);
    }
    expect(isToDetector({ type: 'ready' })).toBe(false);
    expect(isToAnswer({ type: 'ready' })).toBe(false);
    expect(isFromAnswer({ type: 'ping' })).toBe(false);
    expect(isFromDetector({ type: 'start' })).toBe(false);
  });

  it('the detector is given the peer slice only: no DNSSEC keys, check or discovery passwords, client addresses', () => {
    const config = parseConfig(
      JSON.stringify({
        zone: 'cluster.test',
        secret: 'test-secret-test-secret-test-secret-0123',
        discovery: { enabled: true, password: 'discovery-password-xyz' },
        checks: [{ type: 'redis', port: 6379, password: 'check-password-xyz' }],
        nodes: [1, 2, 3].map((i) => ({ name: `node${i}`, address: `192.0.2.${i}`, privateAddress: `10.0.0.${i}` })),
        services: [{ name: 'redis', port: 6379, nodes: ['node1', 'node2'], check: { type: 'redis', password: 'service-password-xyz' } }],
      }),
    );
    const text = JSON.stringify(peerConfigOf(config));
    for (const secret of ['discovery-password-xyz', 'check-password-xyz', 'service-password-xyz', '192.0.2.', 'dnssec', 'checks']) expect(text).not.toContain(secret);
    expect(text).toContain('10.0.0.1');
    expect(peerConfigOf(config).hash).toBe(config.hash);
  });
});

describe('stale check results in the detector (src/detector/health.ts)', () => {
  const health = { nodeHealthy: true, services: { web: true, db: true } };
  it('are believed up to four downAfters (at least 2 s), then reported unhealthy with every service down', () => {
    expect(staleAfterMs(1000)).toBe(4000);
    expect(staleAfterMs(300)).toBe(2000);
    expect(healthAsOf(health, 0, 4000, 1000)).toBe(health);
    expect(healthAsOf(health, 0, 4001, 1000)).toEqual({ nodeHealthy: false, services: { web: false, db: false } });
    expect(healthAsOf(health, 0, 2001, 300).nodeHealthy).toBe(false);
  });
});
