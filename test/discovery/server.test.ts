import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/config/types';
import { DiscoveryServer } from '../../src/discovery/server';
import type { ZoneInputs } from '../../src/zone/inputs';
import { cluster } from '../health/cluster';
import { command, exchange } from './helpers';

/** The listener alone, on 127.0.83.2, with limits small enough to reach. Block: 127.0.83.0/24. */

const HOST = '127.0.83.2';
const config: ClusterConfig = {
  ...cluster({ services: [{ name: 'cache', port: 6379, nodes: ['node1', 'node2', 'node3'], policy: 'first-healthy' }] }),
  discovery: { port: 5839, enabled: true },
};
const self = { ...config.nodes[0], address: HOST, peerAddress: HOST, listen: [HOST] };
const inputs = (serving: string): ZoneInputs => ({ nodeTargets: new Map(), upNodes: ['node1', 'node2', 'node3'], services: new Map([['cache', [serving]]]), serving: true, serial: 1 });

let server: DiscoveryServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('DiscoveryServer', () => {
  it('the connection over the limit gets Redis\'s error and is closed; the others are served', async () => {
    server = new DiscoveryServer(config, self, { addresses: [HOST], limits: { maxConnections: 2 } });
    await server.listen();
    server.update(config, inputs('node1'));
    const held = [1, 2].map(() => exchange(HOST, 5839, [command('SUBSCRIBE', 'x')], { waitMs: 800 }));
    await new Promise((r) => setTimeout(r, 200));
    const third = await exchange(HOST, 5839, [command('PING')], { waitMs: 500 });
    expect(third.text).toBe('-ERR max number of clients reached\r\n');
    expect(third.ended).not.toBe('open');
    expect(server.stats.errors['max-clients']).toBe(1);
    for (const h of await Promise.all(held)) expect(h.text).toBe('*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n');
  });

  it('the unfinished-request clock starts with each request: a steady pipeline whose reads end mid-command is served, a stalled one is closed', async () => {
    server = new DiscoveryServer(config, self, { addresses: [HOST], limits: { requestTimeoutMs: 300 } });
    await server.listen();
    const chunks = ['PI', ...Array.from({ length: 10 }, () => 'NG\r\nPI')];
    const t0 = Date.now();
    const r = await exchange(HOST, 5839, chunks, { gapMs: 150, waitMs: 1000 });
    expect(Date.now() - t0).toBeGreaterThan(1500);
    expect(r.text).toBe(`${'+PONG\r\n'.repeat(10)}-ERR Protocol error: request not completed in time\r\n`);
    expect(r.ended).not.toBe('open');
  });

  it('update() writes nothing itself: the +switch-master goes out on the next turn', async () => {
    server = new DiscoveryServer(config, self, { addresses: [HOST] });
    await server.listen();
    server.update(config, inputs('node1'));
    const sub = exchange(HOST, 5839, [command('SUBSCRIBE', '+switch-master')], { waitMs: 1000, stopWhen: (t) => t.includes('message') && t.endsWith('\r\n') });
    await new Promise((r) => setTimeout(r, 200));
    server.update(config, inputs('node2'));
    expect(server.stats.switchMessages).toBe(0);
    // Same master again: nothing more to say.
    server.update(config, inputs('node2'));
    const payload = `cache ${'127.0.6.4'} 6379 127.0.6.5 6379`;
    expect((await sub).text).toBe(`*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$${payload.length}\r\n${payload}\r\n`);
    expect(server.stats.switchMessages).toBe(1);
  });
});
