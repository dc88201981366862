import { afterEach, describe, expect, it } from 'vitest';
import { createSentinel as createSentinel5 } from 'redis5';
import { createSentinel as createSentinel6 } from 'redis6';
import type { TestCluster } from '../helpers/cluster';
import { Processes, type Started } from '../helpers/proc';
import { command, discoveryCluster, exchange, startRedis, until, type DiscoveryNode } from './helpers';

/**
 * node-redis (`redis` on npm, v5 and v6) `createSentinel` against three real agents, each with a
 * real redis-server as the checked service. node-redis subscribes `switch-master [-+]sdown +slave
 * +sentinel [-+]odown +slave-reconf-done`, re-asks on any of them, and takes no master whose flags
 * say `s_down` or `disconnected`: it follows only a service that publishes Sentinel's events and
 * flags. Block: 127.0.172.0/24.
 */

const DNS_PORT = 6271;
const DISCOVERY_PORT = 6274;
const REDIS_PORT = 6279;
const NODES: DiscoveryNode[] = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.172.${i}` }));
const ADDRS = NODES.map((n) => n.address);
const CHECK = 'check: { type: redis, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 }';

let cluster: TestCluster | undefined;
const procs = new Processes();
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) {
    try {
      // destroy() waits for a reconfiguration in progress: bounded here.
      await Promise.race([c(), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // already gone
    }
  }
  // A stopped process must be continued to be killed cleanly.
  for (const p of [...(cluster?.agents.values() ?? [])]) p.kill('SIGCONT');
  await cluster?.cleanup();
  cluster = undefined;
  await procs.stopAll();
});

const masterOf = (at: string) => exchange(at, DISCOVERY_PORT, [command('SENTINEL', 'get-master-addr-by-name', 'cache')], { waitMs: 150 });
const addrReply = (ip: string) => `*2\r\n$${ip.length}\r\n${ip}\r\n$${String(REDIS_PORT).length}\r\n${REDIS_PORT}\r\n`;

async function startAll(): Promise<Map<string, Started>> {
  const redis = new Map<string, Started>();
  for (const n of NODES) redis.set(n.name, await startRedis(procs, n.address, REDIS_PORT));
  cluster = discoveryCluster({ nodes: NODES, dnsPort: DNS_PORT, discoveryPort: DISCOVERY_PORT, services: [`{ name: cache, port: ${REDIS_PORT}, policy: first-healthy, ${CHECK} }`], peer: 'upAfter: 1s' });
  const c = cluster;
  await Promise.all(NODES.map((n) => c.startAgent(n.name)));
  for (const a of ADDRS) await until(`${a} tells cache on node1`, () => masterOf(a), (r) => r.text === addrReply(ADDRS[0]), 10_000);
  return redis;
}

type Factory = typeof createSentinel5 | typeof createSentinel6;

/**
 * node-redis 5 waits for its new master connection to open before it looks again, and by default
 * retries a refused connection forever: a client that asked in the first milliseconds after the
 * kill (before any agent can know) is stuck on the dead address. A reconnect strategy that gives
 * up lets it look again (src/discovery/README.md, "node-redis"; after ~100 ms: it then sleeps 1 s).
 */
const GIVE_UP = (retries: number) => (retries > 0 ? new Error('the master is gone: ask the sentinels again') : 100);

/**
 * The documented settings that skip a hung sentinel: node-redis has no timeout for sentinel
 * commands, but a sentinel connection that PINGs (answered `pong` in the subscribed context) and
 * is dropped after 600 ms without a byte errors when its agent hangs, and node-redis then asks the
 * others.
 */
const PINGED = { pingInterval: 200, socket: { socketTimeout: 600 } };

async function nodeRedis(create: Factory, sentinels: string[], sentinelExtra: { pingInterval?: number; socket?: { socketTimeout: number } } = {}) {
  const client = create({
    name: 'cache',
    sentinelRootNodes: sentinels.map((host) => ({ host, port: DISCOVERY_PORT })),
    nodeClientOptions: { socket: { connectTimeout: 500, reconnectStrategy: create === (createSentinel5 as Factory) ? GIVE_UP : () => 200 } },
    sentinelClientOptions: { ...sentinelExtra, socket: { connectTimeout: 500, reconnectStrategy: () => 200, ...sentinelExtra.socket } },
    maxCommandRediscovers: 1000,
  } as Parameters<typeof createSentinel6>[0]);
  client.on('error', () => undefined);
  if (process.env.NODE_REDIS_TRACE) {
    const trace: string[] = [];
    (client as unknown as { setTracer(t: string[]): void }).setTracer(trace);
    closers.push(() => console.log(trace.map((l, i) => `${i} ${l}`).slice(-80).join('\n')));
  }
  await client.connect();
  closers.push(() => client.destroy());
  return client;
}

/** Writes `k` in a loop; each write is bounded by `ms` (node-redis has no command timeout of its own). */
async function writeUntil(client: Awaited<ReturnType<typeof nodeRedis>>, ok: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  let i = 0;
  while (Date.now() - t0 < ms) {
    const v = `w${i++}`;
    const wrote = await Promise.race([client.set('k', v).then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
    if (wrote && (await ok())) return Date.now() - t0;
    if (!wrote) await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no write reached the new master within ${ms} ms`);
}

/** Whether node2's own Redis holds the latest write: the client really moved. */
async function node2Has(): Promise<boolean> {
  const r = await exchange(ADDRS[1], REDIS_PORT, [command('GET', 'k')], { waitMs: 100 });
  return r.text.startsWith('$');
}

describe.each([
  ['node-redis 5', createSentinel5 as Factory],
  ['node-redis 6', createSentinel6 as Factory],
])('%s follows a failover', (_label, create) => {
  it('kill -9 of the serving node (its agent and Redis; its agent listed first)', async () => {
    const redis = await startAll();
    const client = await nodeRedis(create, ADDRS);
    await client.set('k', 'before');
    expect((await exchange(ADDRS[0], REDIS_PORT, [command('GET', 'k')], { waitMs: 100 })).text).toBe('$6\r\nbefore\r\n');
    cluster!.agents.get('node1')!.kill('SIGKILL');
    redis.get('node1')!.kill('SIGKILL');
    const ms = await writeUntil(client, node2Has, 10_000);
    console.log(`${_label}: first write on node2 ${ms} ms after kill -9`);
    expect(ms).toBeLessThan(5000);
  }, 60_000);

  it('SIGSTOP of the serving node (its agent and Redis hang; the client asks node2 and node3)', async () => {
    const redis = await startAll();
    const client = await nodeRedis(create, [ADDRS[1], ADDRS[2], ADDRS[0]]);
    await client.set('k', 'before');
    cluster!.agents.get('node1')!.kill('SIGSTOP');
    redis.get('node1')!.kill('SIGSTOP');
    closers.push(() => redis.get('node1')!.kill('SIGCONT'));
    const ms = await writeUntil(client, node2Has, 10_000);
    console.log(`${_label}: first write on node2 ${ms} ms after SIGSTOP`);
    expect(ms).toBeLessThan(5000);
  }, 60_000);

  it('SIGSTOP of the serving node with its agent listed first (a hung sentinel): sentinel PINGs and socketTimeout move it on', async () => {
    const redis = await startAll();
    const client = await nodeRedis(create, ADDRS, PINGED);
    await client.set('k', 'before');
    cluster!.agents.get('node1')!.kill('SIGSTOP');
    redis.get('node1')!.kill('SIGSTOP');
    closers.push(() => redis.get('node1')!.kill('SIGCONT'));
    const ms = await writeUntil(client, node2Has, 10_000);
    console.log(`${_label}: first write on node2 ${ms} ms after SIGSTOP, hung sentinel first`);
    expect(ms).toBeLessThan(6000);
  }, 60_000);
});

describe('Sentinel flags and events follow this agent', () => {
  // The detector posts a view only when something changes; the ages in the newest view are as of
  // then. Aging them by the view's own age (as the merge of the threads first did) made every peer
  // of a steady cluster s_down after downAfter, with +sdown for the live master.
  it('a steady cluster for 3 s: flags stay master, and a * subscriber hears nothing', async () => {
    await startAll();
    const events = exchange(ADDRS[1], DISCOVERY_PORT, [command('PSUBSCRIBE', '*')], { waitMs: 3000 });
    const seen = new Set<string>();
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      const t = (await exchange(ADDRS[1], DISCOVERY_PORT, [command('SENTINEL', 'master', 'cache')], { waitMs: 100 })).text.split('\r\n');
      seen.add(t[t.indexOf('flags') + 2]);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect([...seen]).toEqual(['master']);
    expect((await events).text).not.toContain('pmessage');
  }, 30_000);

  it('flags go master → s_down,master,disconnected while the node is silent; +sdown, +odown and +switch-master are published in Sentinel\'s formats', async () => {
    const redis = await startAll();
    const events = exchange(ADDRS[1], DISCOVERY_PORT, [command('PSUBSCRIBE', '[-+]sdown', '[-+]odown', '*switch-master')], {
      waitMs: 8000,
      stopWhen: (t) => t.includes('+switch-master\r\n$'),
    });
    await new Promise((r) => setTimeout(r, 300));
    const flags = async () => {
      const t = (await exchange(ADDRS[1], DISCOVERY_PORT, [command('SENTINEL', 'master', 'cache')], { waitMs: 100 })).text;
      const l = t.split('\r\n');
      return `${l[l.indexOf('ip') + 2]} ${l[l.indexOf('flags') + 2]}`;
    };
    expect(await flags()).toBe(`${ADDRS[0]} master`);
    cluster!.agents.get('node1')!.kill('SIGSTOP');
    redis.get('node1')!.kill('SIGSTOP');
    closers.push(() => redis.get('node1')!.kill('SIGCONT'));
    const seen = new Set<string>();
    await until('the master moves to node2', async () => {
      const f = await flags();
      seen.add(f);
      return f;
    }, (f) => f === `${ADDRS[1]} master`, 8000);
    expect(seen).toContain(`${ADDRS[0]} master,disconnected`);
    const text = (await events).text;
    const at = (s: string) => text.indexOf(s);
    const sdown = `$6\r\n+sdown\r\n$${`master cache ${ADDRS[0]} ${REDIS_PORT}`.length}\r\nmaster cache ${ADDRS[0]} ${REDIS_PORT}\r\n`;
    const odown = `$6\r\n+odown\r\n$${`master cache ${ADDRS[0]} ${REDIS_PORT} #quorum 2/2`.length}\r\nmaster cache ${ADDRS[0]} ${REDIS_PORT} #quorum 2/2\r\n`;
    const sw = `$14\r\n+switch-master\r\n$${`cache ${ADDRS[0]} ${REDIS_PORT} ${ADDRS[1]} ${REDIS_PORT}`.length}\r\ncache ${ADDRS[0]} ${REDIS_PORT} ${ADDRS[1]} ${REDIS_PORT}\r\n`;
    expect(at(sdown)).toBeGreaterThan(0);
    expect(at(odown)).toBeGreaterThan(at(sdown));
    expect(at(sw)).toBeGreaterThan(at(odown));
  }, 60_000);
});
