import { afterEach, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster, type NodeSpec } from '../helpers/cluster';
import { udpExchange, encodeQuery } from '../helpers/dns';
import * as packet from 'dns-packet';
import { Processes } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * Real agent processes on 127.0.5.x, killed with SIGKILL and paused with SIGSTOP, queried over UDP.
 * Block: 127.0.5.0/24.
 */

const PORT = 5305;
const REDIS_PORT = 5399;
const nodes = (n: number): NodeSpec[] => Array.from({ length: n }, (_, i) => ({ name: `node${i + 1}`, address: `127.0.5.${i + 1}` }));

async function ask(address: string, name: string, type = 'A'): Promise<{ rcode: string; addrs: string[] } | undefined> {
  const reply = await udpExchange(address, PORT, encodeQuery(name, type), 500);
  if (!reply) return undefined;
  const m = packet.decode(reply);
  return { rcode: m.rcode!, addrs: (m.answers ?? []).map((a) => String(a.data)).sort() };
}

/** Polls until every listed server gives `want` for `name`; returns ms waited or throws. */
async function until(servers: string[], name: string, want: (r: { rcode: string; addrs: string[] } | undefined) => boolean, ms: number): Promise<number> {
  const start = Date.now();
  let last: unknown[] = [];
  while (Date.now() - start < ms) {
    last = await Promise.all(servers.map((s) => ask(s, name)));
    if (last.every((r) => want(r as { rcode: string; addrs: string[] } | undefined))) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`after ${ms} ms, ${name} from ${servers.join(', ')}: ${JSON.stringify(last)}`);
}

/** Failed over: an answer (NOERROR) with exactly one address, a live node's. A timeout, REFUSED or NODATA is not. */
const failedOverTo = (live: string[]) => (r: { rcode: string; addrs: string[] } | undefined) => r?.rcode === 'NOERROR' && r.addrs.length === 1 && live.includes(r.addrs[0]);

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

async function startCluster(n: number, extra = '', peer = '', waitAllUp = true): Promise<TestCluster> {
  const yaml = clusterYaml({ dnsPort: PORT, nodes: nodes(n), extra });
  const c = new TestCluster(peer ? yaml.replace(/peer: \{ port: (\d+) \}/, `peer: { port: $1, ${peer} }`) : yaml);
  cluster = c;
  await Promise.all(nodes(n).map((x) => c.startAgent(x.name)));
  if (waitAllUp) await until(nodes(n).map((x) => x.address), 'cluster.test', (r) => r?.rcode === 'NOERROR' && r.addrs.length === n, 10_000);
  return c;
}

describe('a node dies', () => {
  it('kill -9 node2: node1 and node3 both answer node2 and ns2 with the same live node within ~1 s, apex drops node2', async () => {
    const c = await startCluster(3);
    const survivors = ['127.0.5.1', '127.0.5.3'];
    c.agents.get('node2')!.kill('SIGKILL');
    const waited = await until(survivors, 'node2.cluster.test', failedOverTo(survivors), 4000);
    expect(waited).toBeLessThan(3000);
    const answers = await Promise.all(survivors.flatMap((s) => ['node2.cluster.test', 'ns2.cluster.test'].map((n) => ask(s, n))));
    expect(new Set(answers.map((a) => a!.addrs[0])).size).toBe(1);
    await until(survivors, 'cluster.test', (r) => r?.addrs.join() === '127.0.5.1,127.0.5.3', 1000);
    // Every name server shows the same SOA serial once it has settled (agents adopt the highest).
    const serials = async () =>
      Promise.all(survivors.map(async (sv) => {
        const r = await udpExchange(sv, PORT, encodeQuery('cluster.test', 'SOA'), 500);
        return r ? (packet.decode(r).answers![0].data as packet.SoaData).serial : -1;
      }));
    const end = Date.now() + 2000;
    let seen = await serials();
    while (new Set(seen).size !== 1 && Date.now() < end) seen = await serials();
    expect(new Set(seen).size).toBe(1);
    // The log says why, naming who did not hear it and where its names went.
    const log = c.agents.get('node1')!.stdout;
    expect(log).toMatch(/node2 down: not heard by node1, node3 for 1\.\d s; node2 → node[13]/);
  });

  it('node2 restarted: after the hold-down every agent answers its own address again', async () => {
    const c = await startCluster(3, '', 'upAfter: 1s');
    c.agents.get('node2')!.kill('SIGKILL');
    await until(['127.0.5.1', '127.0.5.3'], 'node2.cluster.test', failedOverTo(['127.0.5.1', '127.0.5.3']), 4000);
    await c.startAgent('node2');
    const started = Date.now();
    await until(['127.0.5.1', '127.0.5.2', '127.0.5.3'], 'node2.cluster.test', (r) => r?.addrs.join() === '127.0.5.2', 6000);
    // Not before the hold-down: a restarted node is not trusted at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('SIGSTOP longer than downAfter fails the node over; SIGCONT brings it back after the hold-down', async () => {
    const c = await startCluster(3, '', 'upAfter: 1s');
    const pid = c.agents.get('node3')!.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      await until(['127.0.5.1', '127.0.5.2'], 'node3.cluster.test', failedOverTo(['127.0.5.1', '127.0.5.2']), 4000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(['127.0.5.1', '127.0.5.2', '127.0.5.3'], 'node3.cluster.test', (r) => r?.addrs.join() === '127.0.5.3', 8000);
  });
});

describe('majority', () => {
  it('kill two of three: the survivor stops answering the zone (REFUSED); a peer returning brings it back', async () => {
    const c = await startCluster(3, '', 'upAfter: 1s');
    c.agents.get('node2')!.kill('SIGKILL');
    c.agents.get('node3')!.kill('SIGKILL');
    await until(['127.0.5.1'], 'node1.cluster.test', (r) => r?.rcode === 'REFUSED', 5000);
    // The log line comes from the detector's thread: it may reach stdout a moment after the REFUSED.
    await c.agents.get('node1')!.waitForOutput(/minority/, 3000);
    await c.startAgent('node3');
    await until(['127.0.5.1', '127.0.5.3'], 'node1.cluster.test', (r) => r?.rcode === 'NOERROR' && r.addrs.join() === '127.0.5.1', 6000);
  });

  it('a restarted agent with no peers never serves from an empty view', async () => {
    const c = new TestCluster(clusterYaml({ dnsPort: PORT, nodes: nodes(3) }));
    cluster = c;
    await c.startAgent('node1');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await ask('127.0.5.1', 'node1.cluster.test'))?.rcode).toBe('REFUSED');
  });
});

describe('five nodes', () => {
  it('two of five die: the three left agree on every name, each dead name on a live node', async () => {
    const c = await startCluster(5);
    c.agents.get('node2')!.kill('SIGKILL');
    c.agents.get('node4')!.kill('SIGKILL');
    const live = ['127.0.5.1', '127.0.5.3', '127.0.5.5'];
    for (const dead of ['node2', 'node4']) await until(live, `${dead}.cluster.test`, failedOverTo(live), 4000);
    // Identical answers everywhere, for every name.
    for (const name of ['node1', 'node2', 'node3', 'node4', 'node5', 'ns2', 'ns4'].map((n) => `${n}.cluster.test`).concat('cluster.test')) {
      const answers = await Promise.all(live.map((s) => ask(s, name)));
      expect(new Set(answers.map((a) => a!.addrs.join())).size, name).toBe(1);
    }
  });
});

describe('checks against a real service', () => {
  it('redis-12000 answers the nodes whose Redis answers PING; none left → NODATA; node checks fail names over', async () => {
    const redis = requireTool('redis-server');
    const procs = new Processes();
    try {
      const r1 = procs.start(redis, ['--port', String(REDIS_PORT), '--bind', '127.0.5.1', '--save', '', '--appendonly', 'no']);
      await r1.waitForOutput(/Ready to accept connections/);
      const extra = [
        'checks:',
        `  - { type: tcp, port: ${REDIS_PORT}, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 }`,
        'services:',
        `  - { name: redis-12000, port: ${REDIS_PORT}, nodes: [node1, node2], policy: all-healthy, check: { type: redis, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 } }`,
      ].join('\n');
      await startCluster(3, extra, '', false);
      const all = ['127.0.5.1', '127.0.5.2', '127.0.5.3'];
      // Only node1 runs Redis: the service answers node1 alone, and node2/node3 fail their node check.
      await until(all.slice(0, 1), 'redis-12000.cluster.test', (r) => r?.addrs.join() === '127.0.5.1', 8000);
      await until(all.slice(0, 1), 'node2.cluster.test', (r) => r?.addrs.join() === '127.0.5.1', 8000);
      r1.kill('SIGKILL');
      await until(all.slice(0, 1), 'redis-12000.cluster.test', (r) => r?.rcode === 'NOERROR' && r.addrs.length === 0, 8000);
    } finally {
      await procs.stopAll();
    }
  });
});
