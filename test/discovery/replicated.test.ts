import { afterEach, describe, expect, it } from 'vitest';
import { probeRedis } from '../../src/health/redis';
import type { TestCluster } from '../helpers/cluster';
import { udpQuery } from '../helpers/dns';
import { Processes, type Started } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { check } from '../health/helpers';
import { command, discoveryCluster, exchange, until, type DiscoveryNode } from './helpers';

/**
 * A service over replicated Redis: node1's Redis is the primary, node2's and node3's replicate it,
 * and the service is checked with `role: master`. DNS and discovery answer the primary wherever
 * replication puts it, the others are Sentinel replicas, and an old primary that comes back as a
 * replica is not answered again (no fail-back to a replica). Block: 127.0.173.0/24.
 */

const DNS_PORT = 6371;
const DISCOVERY_PORT = 6374;
const REDIS_PORT = 6379;
const NODES: DiscoveryNode[] = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.173.${i}` }));
const ADDRS = NODES.map((n) => n.address);
const CHECK = 'check: { type: redis, role: master, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 }';

let cluster: TestCluster | undefined;
const procs = new Processes();
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
  await procs.stopAll();
});

async function redisAt(address: string, replicaOf?: string): Promise<Started> {
  const r = procs.start(requireTool('redis-server'), ['--port', String(REDIS_PORT), '--bind', address, '--save', '', '--appendonly', 'no', ...(replicaOf ? ['--replicaof', replicaOf, String(REDIS_PORT)] : [])]);
  await r.waitForOutput(/Ready to accept connections/);
  return r;
}

const ask = (at: string, ...args: string[]) => exchange(at, DISCOVERY_PORT, [command(...args)], { waitMs: 150 });
const addrReply = (ip: string) => `*2\r\n$${ip.length}\r\n${ip}\r\n$4\r\n${REDIS_PORT}\r\n`;
/** The `ip` fields of a SENTINEL REPLICAS reply. */
const replicaIps = (text: string) => {
  const l = text.split('\r\n');
  return l.flatMap((x, i) => (x === 'ip' && l[i - 1] === '$2' ? [l[i + 2]] : [])).sort();
};

describe('redis check with role', () => {
  it('role: master is healthy on the primary only, role: replica on a replica only, with the reason', async () => {
    await redisAt(ADDRS[0]);
    await redisAt(ADDRS[1], ADDRS[0]);
    const probe = (host: string, role: 'master' | 'replica') => probeRedis(check({ type: 'redis', port: REDIS_PORT, role, timeoutMs: 500 }), host);
    expect(await probe(ADDRS[0], 'master')).toMatchObject({ ok: true, reason: 'PONG, role master' });
    expect(await probe(ADDRS[1], 'master')).toMatchObject({ ok: false, reason: `${ADDRS[1]}:${REDIS_PORT} is a replica, not a master` });
    expect(await probe(ADDRS[1], 'replica')).toMatchObject({ ok: true, reason: 'PONG, role slave' });
    expect(await probe(ADDRS[0], 'replica')).toMatchObject({ ok: false });
  });
});

describe('a service over replicated Redis', () => {
  it('answers the primary, lists the replicas, follows a promotion and does not fail back to the old primary', async () => {
    const redis = [await redisAt(ADDRS[0]), await redisAt(ADDRS[1], ADDRS[0]), await redisAt(ADDRS[2], ADDRS[0])];
    cluster = discoveryCluster({ nodes: NODES, dnsPort: DNS_PORT, discoveryPort: DISCOVERY_PORT, services: [`{ name: cache, port: ${REDIS_PORT}, policy: first-healthy, ${CHECK} }`], peer: 'upAfter: 1s' });
    const c = cluster;
    await Promise.all(NODES.map((n) => c.startAgent(n.name)));
    for (const a of ADDRS) await until(`${a} tells the primary`, () => ask(a, 'SENTINEL', 'get-master-addr-by-name', 'cache'), (r) => r.text === addrReply(ADDRS[0]), 10_000);
    expect(replicaIps((await ask(ADDRS[1], 'SENTINEL', 'replicas', 'cache')).text)).toEqual([ADDRS[1], ADDRS[2]]);
    const sub = exchange(ADDRS[2], DISCOVERY_PORT, [command('SUBSCRIBE', '+switch-master')], { waitMs: 10_000, stopWhen: (t) => t.includes('message') && t.endsWith('\r\n') });

    // The primary dies; a replication manager promotes node2 and points node3 at it.
    redis[0].kill('SIGKILL');
    await exchange(ADDRS[1], REDIS_PORT, [command('REPLICAOF', 'NO', 'ONE')], { waitMs: 200 });
    await exchange(ADDRS[2], REDIS_PORT, [command('REPLICAOF', ADDRS[1], String(REDIS_PORT))], { waitMs: 200 });
    for (const a of ADDRS) await until(`${a} tells node2`, () => ask(a, 'SENTINEL', 'get-master-addr-by-name', 'cache'), (r) => r.text === addrReply(ADDRS[1]), 5000);
    const dns = await udpQuery(ADDRS[2], DNS_PORT, 'cache.cluster.test', 'A');
    expect(dns.answers?.map((a) => ('data' in a ? a.data : undefined))).toEqual([ADDRS[1]]);
    const payload = `cache ${ADDRS[0]} ${REDIS_PORT} ${ADDRS[1]} ${REDIS_PORT}`;
    expect((await sub).text).toContain(`$${payload.length}\r\n${payload}\r\n`);

    // node1's Redis comes back as a replica of node2: first in the service's order, and still not answered.
    await redisAt(ADDRS[0], ADDRS[1]);
    await new Promise((r) => setTimeout(r, 1500));
    for (const a of ADDRS) expect((await ask(a, 'SENTINEL', 'get-master-addr-by-name', 'cache')).text).toBe(addrReply(ADDRS[1]));
    expect(replicaIps((await ask(ADDRS[0], 'SENTINEL', 'replicas', 'cache')).text)).toEqual([ADDRS[0], ADDRS[2]]);
  }, 60_000);
});
