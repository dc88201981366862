import { resolve } from 'node:path';
import Redis from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestCluster } from '../helpers/cluster';
import { Processes, run, type Started } from '../helpers/proc';
import { command, discoveryCluster, exchange, redisCli, startRedis, until, type DiscoveryNode } from './helpers';

/**
 * Real agents on 127.0.80.1–3 with the discovery service on, each node with a real redis-server
 * (the checked service), and the clients people run: redis-cli, redis-py's Sentinel (Debian's
 * python3-redis) and ioredis with `sentinels:`. Block: 127.0.80.0/24 (and 127.0.84.0/24 for the
 * private-address case).
 */

const DNS_PORT = 5801;
const DISCOVERY_PORT = 5804;
const REDIS_PORT = 5899;
const PYTHON = '/usr/bin/python3';
const PY_CLIENT = resolve(__dirname, 'redis_py_sentinel.py');
const NODES: DiscoveryNode[] = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.80.${i}` }));
const ADDRS = NODES.map((n) => n.address);
const CHECK = 'check: { type: redis, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 }';
const SERVICES = [
  `{ name: cache, port: ${REDIS_PORT}, policy: first-healthy, ${CHECK} }`,
  `{ name: reads, port: ${REDIS_PORT}, policy: all-healthy, nodes: [node2, node3], ${CHECK} }`,
];
const SENTINELS = ADDRS.map((a) => `${a}:${DISCOVERY_PORT}`).join(',');

let cluster: TestCluster | undefined;
const procs = new Processes();
const ioClients: Redis[] = [];
afterEach(async () => {
  for (const c of ioClients.splice(0)) c.disconnect();
  await cluster?.cleanup();
  cluster = undefined;
  await procs.stopAll();
});

const masterOf = (at: string, service: string) => exchange(at, DISCOVERY_PORT, [command('SENTINEL', 'get-master-addr-by-name', service)], { waitMs: 150 });
const addrReply = (ip: string, port = REDIS_PORT) => `*2\r\n$${ip.length}\r\n${ip}\r\n$${String(port).length}\r\n${port}\r\n`;

/** Three nodes, three Redis servers, every agent telling cache → node1 and reads → node2. */
async function startAll(peer = 'upAfter: 1s'): Promise<{ redis: Map<string, Started> }> {
  const redis = new Map<string, Started>();
  for (const n of NODES) redis.set(n.name, await startRedis(procs, n.address, REDIS_PORT));
  cluster = discoveryCluster({ nodes: NODES, dnsPort: DNS_PORT, discoveryPort: DISCOVERY_PORT, services: SERVICES, peer });
  const c = cluster;
  await Promise.all(NODES.map((n) => c.startAgent(n.name)));
  for (const a of ADDRS) {
    await until(`${a} tells cache on node1`, () => masterOf(a, 'cache'), (r) => r.text === addrReply('127.0.80.1'), 10_000);
    await until(`${a} tells reads on node2`, () => masterOf(a, 'reads'), (r) => r.text === addrReply('127.0.80.2'), 10_000);
  }
  return { redis };
}

/** Kills a node the way a machine dies: its agent and its Redis, SIGKILL. */
function killNode(name: string, redis: Map<string, Started>): void {
  cluster!.agents.get(name)!.kill('SIGKILL');
  redis.get(name)?.kill('SIGKILL');
}

async function pyDiscover(sentinels: string, service: string): Promise<{ master?: string; replicas?: string[]; error?: string }> {
  const r = await run(PYTHON, [PY_CLIENT, 'discover', sentinels, service], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`redis-py: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function ioredis(opts: { failoverDetector?: boolean; sentinels?: string[]; giveUp?: boolean } = {}): Redis {
  const client = new Redis({
    sentinels: (opts.sentinels ?? ADDRS).map((host) => ({ host, port: DISCOVERY_PORT })),
    name: 'cache',
    failoverDetector: opts.failoverDetector ?? false,
    connectTimeout: 500,
    commandTimeout: 500,
    sentinelCommandTimeout: 500,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    // By default ioredis asks the sentinels again forever; giveUp makes "nobody knows" an error.
    ...(opts.giveUp ? { sentinelRetryStrategy: () => null } : {}),
  });
  client.on('error', () => undefined);
  ioClients.push(client);
  return client;
}

describe('each service is a master the clients find', () => {
  it('redis-cli, redis-py and ioredis: cache on node1, reads on node2 with node3 as replica, the other nodes as sentinels', async () => {
    await startAll();
    for (const a of ADDRS) {
      expect(await redisCli(a, DISCOVERY_PORT, ['SENTINEL', 'get-master-addr-by-name', 'cache'])).toEqual(['127.0.80.1', String(REDIS_PORT)]);
      expect(await redisCli(a, DISCOVERY_PORT, ['ROLE'])).toEqual(['sentinel', 'cache', 'reads']);
      const replicas = await redisCli(a, DISCOVERY_PORT, ['SENTINEL', 'replicas', 'reads']);
      expect(replicas.slice(0, 6)).toEqual(['name', `127.0.80.3:${REDIS_PORT}`, 'ip', '127.0.80.3', 'port', String(REDIS_PORT)]);
      expect(await redisCli(a, DISCOVERY_PORT, ['SENTINEL', 'replicas', 'cache'])).toEqual([]);
      const sentinels = await redisCli(a, DISCOVERY_PORT, ['SENTINEL', 'sentinels', 'cache']);
      const ips = sentinels.filter((_, i) => sentinels[i - 1] === 'ip');
      expect(ips.sort()).toEqual(ADDRS.filter((x) => x !== a));
      expect(sentinels.filter((_, i) => sentinels[i - 1] === 'port')).toEqual([String(DISCOVERY_PORT), String(DISCOVERY_PORT)]);
      const info = (await redisCli(a, DISCOVERY_PORT, ['INFO', 'sentinel'])).join('\n');
      expect(info).toContain(`master0:name=cache,status=ok,address=127.0.80.1:${REDIS_PORT},slaves=0,sentinels=3`);
      expect(info).toContain(`master1:name=reads,status=ok,address=127.0.80.2:${REDIS_PORT},slaves=1,sentinels=3`);
    }
    // RESP3 clients: redis-cli -3 negotiates with HELLO 3.
    expect(await redisCli(ADDRS[1], DISCOVERY_PORT, ['SENTINEL', 'get-master-addr-by-name', 'cache'], ['-3'])).toEqual(['127.0.80.1', String(REDIS_PORT)]);

    expect(await pyDiscover(SENTINELS, 'cache')).toEqual({ master: `127.0.80.1:${REDIS_PORT}`, replicas: [] });
    expect(await pyDiscover(SENTINELS, 'reads')).toEqual({ master: `127.0.80.2:${REDIS_PORT}`, replicas: [`127.0.80.3:${REDIS_PORT}`] });
    expect((await pyDiscover(SENTINELS, 'nope')).error).toMatch(/MasterNotFoundError/);

    const io = ioredis();
    await io.connect();
    expect(await io.set('k', 'v')).toBe('OK');
    expect(io.stream.remoteAddress).toBe('127.0.80.1');
  });
});

describe('failover', () => {
  it('kill -9 node1 (agent and Redis): a subscriber gets +switch-master, redis-py and ioredis write to node2', async () => {
    const { redis } = await startAll();
    // Subscribers, RESP2 on node2 and RESP3 with a pattern on node3, raw sockets so the bytes are seen.
    const heard = (t: string) => /\+switch-master\r\n\$\d+\r\ncache [^\r]+\r\n$/.test(t);
    const sub2 = exchange(ADDRS[1], DISCOVERY_PORT, [command('SUBSCRIBE', '+switch-master')], { waitMs: 8000, stopWhen: heard });
    const sub3 = exchange(ADDRS[2], DISCOVERY_PORT, [command('HELLO', '3') + command('PSUBSCRIBE', '*')], { waitMs: 8000, stopWhen: heard });
    const py = procs.start(PYTHON, [PY_CLIENT, 'write', SENTINELS, 'cache', '12']);
    const io = ioredis({ failoverDetector: true });
    await io.connect();
    await until('redis-py writes to node1', async () => py.stdout, (o) => o.includes(`"addr": "127.0.80.1:${REDIS_PORT}"`), 5000);
    await new Promise((r) => setTimeout(r, 300));

    const killedAt = Date.now();
    killNode('node1', redis);

    const ioWrote = await until('ioredis writes to node2', async () => (await io.set('k', 'after')) && io.stream.remoteAddress, (a) => a === '127.0.80.2', 8000);
    await until('redis-py writes to node2', async () => py.stdout, (o) => o.includes(`"addr": "127.0.80.2:${REDIS_PORT}"`), 8000);
    const pyFirst = py.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { t: number; ok: boolean; addr?: string })
      .find((l) => l.ok && l.addr === `127.0.80.2:${REDIS_PORT}`)!;

    const payload = `cache 127.0.80.1 ${REDIS_PORT} 127.0.80.2 ${REDIS_PORT}`;
    const [s2, s3] = await Promise.all([sub2, sub3]);
    expect(s2.text).toBe(
      `*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$${payload.length}\r\n${payload}\r\n`,
    );
    // `*` hears Sentinel's other events too (+sdown, +odown before the switch).
    expect(s3.text).toContain(`>3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n`);
    expect(s3.text).toContain(`>4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$6\r\n+sdown\r\n`);
    expect(s3.text).toContain(`>4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$14\r\n+switch-master\r\n$${payload.length}\r\n${payload}\r\n`);
    // Detection is about a second (downAfter 1 s); the clients follow at once.
    expect(pyFirst.t - killedAt).toBeLessThan(4000);
    expect(ioWrote).toBeLessThan(4000);
  });
});

describe('minority', () => {
  it('a node left alone answers as a Sentinel that does not know, and tells the new master when the majority is back', async () => {
    const { redis } = await startAll();
    const sub = exchange(ADDRS[2], DISCOVERY_PORT, [command('SUBSCRIBE', '+switch-master')], { waitMs: 15_000, stopWhen: (t) => /\r\ncache [^\r]+\r\n$/.test(t) });
    killNode('node1', redis);
    cluster!.agents.get('node2')!.kill('SIGKILL');
    await until('node3 does not know cache', () => masterOf(ADDRS[2], 'cache'), (r) => r.text === '*-1\r\n', 5000);
    // From then on: no address at all, for every question a client asks.
    const end = Date.now() + 1000;
    while (Date.now() < end) {
      expect((await masterOf(ADDRS[2], 'cache')).text).toBe('*-1\r\n');
      expect((await exchange(ADDRS[2], DISCOVERY_PORT, [command('SENTINEL', 'masters')], { waitMs: 100 })).text).toBe('*0\r\n');
    }
    expect((await exchange(ADDRS[2], DISCOVERY_PORT, [command('SENTINEL', 'master', 'cache')], { waitMs: 100 })).text).toBe('-ERR No such master with that name\r\n');
    expect((await pyDiscover(`${ADDRS[2]}:${DISCOVERY_PORT}`, 'cache')).error).toMatch(/MasterNotFoundError/);
    const io = ioredis({ sentinels: [ADDRS[2]], giveUp: true });
    await expect(io.connect()).rejects.toThrow(/sentinels are unreachable|no master/i);

    // node2 returns: node2 and node3 are a majority, cache moves to node2, and the subscriber hears it.
    await cluster!.startAgent('node2');
    await until('node3 tells cache on node2', () => masterOf(ADDRS[2], 'cache'), (r) => r.text === addrReply('127.0.80.2'), 10_000);
    expect(await pyDiscover(SENTINELS, 'cache')).toEqual({ master: `127.0.80.2:${REDIS_PORT}`, replicas: [] });
    const payload = `cache 127.0.80.1 ${REDIS_PORT} 127.0.80.2 ${REDIS_PORT}`;
    expect((await sub).text).toContain(`$${payload.length}\r\n${payload}\r\n`);
  });
});

describe('private addresses', () => {
  it('a client that came over the private address gets private addresses; over the public one, public', async () => {
    const nodes: DiscoveryNode[] = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.84.${i}`, peerAddress: `127.0.84.${10 + i}` }));
    cluster = discoveryCluster({ nodes, dnsPort: DNS_PORT, discoveryPort: DISCOVERY_PORT, services: [`{ name: cache, port: ${REDIS_PORT}, policy: first-healthy }`] });
    const c = cluster;
    await Promise.all(nodes.map((n) => c.startAgent(n.name)));
    await until('public', () => masterOf('127.0.84.2', 'cache'), (r) => r.text === addrReply('127.0.84.1'), 10_000);
    expect((await masterOf('127.0.84.12', 'cache')).text).toBe(addrReply('127.0.84.11'));
    const sentinels = await redisCli('127.0.84.12', DISCOVERY_PORT, ['SENTINEL', 'sentinels', 'cache']);
    expect(sentinels.filter((_, i) => sentinels[i - 1] === 'ip').sort()).toEqual(['127.0.84.11', '127.0.84.13']);
    expect(await pyDiscover(`127.0.84.13:${DISCOVERY_PORT}`, 'cache')).toEqual({ master: `127.0.84.11:${REDIS_PORT}`, replicas: [] });
  });
});
