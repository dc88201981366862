import net from 'node:net';
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

/**
 * Counts, on every turn of this process's event loop, how much `read()` grew since the turn before;
 * `stop()` gives the largest growth in one turn.
 */
function perTurn(read: () => number): { stop: () => number } {
  let last = read();
  let most = 0;
  let on = true;
  const tick = () => {
    const now = read();
    most = Math.max(most, now - last);
    last = now;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop: () => {
      on = false;
      return Math.max(most, read() - last);
    },
  };
}

const commandsRun = (s: DiscoveryServer) => [...s.stats.commands.values()].reduce((a, b) => a + b, 0);

describe('the turn budget: all connections together, not each', () => {
  it('200 connections with 10 pipelined commands each, budget spent: one command per turn, every reply in order', async () => {
    // turnBudgetMs 0: every turn is over budget at once, so each runs its one command (the least);
    // without the budget a connection ran up to 64 per turn, and every connection in the same turn.
    server = new DiscoveryServer(config, self, { addresses: [HOST], limits: { turnBudgetMs: 0, maxConnectionsPerSource: 1024 } });
    await server.listen();
    const socks = await Promise.all(
      Array.from(
        { length: 200 },
        () =>
          new Promise<net.Socket & { got?: string }>((resolve, reject) => {
            const s: net.Socket & { got?: string } = net.connect({ host: HOST, port: 5839 }, () => resolve(s));
            s.got = '';
            s.on('data', (d) => (s.got += d.toString('latin1')));
            s.on('error', reject);
          }),
      ),
    );
    const srv = server;
    const turns = perTurn(() => commandsRun(srv));
    socks.forEach((s, i) => s.write(Array.from({ length: 10 }, (_, k) => command('PING', `${i}.${k}`)).join('')));
    const want = socks.map((_, i) => Array.from({ length: 10 }, (_, k) => `$${`${i}.${k}`.length}\r\n${i}.${k}\r\n`).join(''));
    const t0 = Date.now();
    while (socks.some((s, i) => s.got !== want[i]) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
    const most = turns.stop();
    for (const s of socks) s.destroy();
    expect(socks.filter((s, i) => s.got !== want[i]).length).toBe(0);
    expect(commandsRun(srv)).toBe(2000);
    expect(most).toBeLessThanOrEqual(2);
  }, 30_000);

  it('a push to 50 subscribers with the budget spent: one subscriber per turn, all reached', async () => {
    server = new DiscoveryServer(config, self, { addresses: [HOST], limits: { turnBudgetMs: 0 } });
    await server.listen();
    server.update(config, inputs('node1'));
    const subs = Array.from({ length: 50 }, () => exchange(HOST, 5839, [command('SUBSCRIBE', '+switch-master')], { waitMs: 3000, stopWhen: (t) => t.includes('message\r\n') && t.endsWith('\r\n') }));
    const t0 = Date.now();
    while (server.stats.connections < 50 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const stats = server.stats;
    const turns = perTurn(() => stats.switchMessages);
    server.update(config, inputs('node2'));
    const got = await Promise.all(subs);
    const most = turns.stop();
    expect(got.filter((g) => g.text.includes('$7\r\nmessage\r\n$14\r\n+switch-master\r\n')).length).toBe(50);
    // Up to 256 per turn before, whatever they cost.
    expect(most).toBeLessThanOrEqual(2);
  }, 30_000);
  it('100 clients that leave together: one connection closed per turn with the budget spent, all closed', async () => {
    // Closing a TCP socket is ~40 µs of kernel time; before, every socket of a crowd that left was
    // closed in the turn their EOFs came in.
    server = new DiscoveryServer(config, self, { addresses: [HOST], limits: { turnBudgetMs: 0, maxConnectionsPerSource: 1024 } });
    await server.listen();
    const socks = await Promise.all(Array.from({ length: 100 }, () => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: HOST, port: 5839 }, () => resolve(s));
      s.on('error', reject);
    })));
    const stats = server.stats;
    const t0 = Date.now();
    while (stats.connections < 100 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    const turns = perTurn(() => -stats.connections);
    for (const s of socks) s.end();
    while (stats.connections > 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    const most = turns.stop();
    for (const s of socks) s.destroy();
    expect(stats.connections).toBe(0);
    expect(most).toBeLessThanOrEqual(2);
  }, 30_000);
});
