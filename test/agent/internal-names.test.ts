import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, SECRET, TestCluster } from '../helpers/cluster';
import { unboundConf } from '../helpers/lab-servers';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * internal.<zone> with real agents, asked by dig and resolved by unbound.
 * Block 127.0.110.0/24: public addresses; 127.0.111.0/24: private addresses (the agents listen and
 * exchange heartbeats there); 127.0.112.0/24: clients inside internalFrom; 127.0.113.0/24: outside.
 */

const PORT = 5410;
const pub = (i: number) => `127.0.110.${i}`;
const priv = (i: number) => `127.0.111.${i}`;
const INSIDE = '127.0.112.5';
const OUTSIDE = '127.0.113.5';
const RESOLVER_IN = '127.0.112.53';
const RESOLVER_OUT = '127.0.113.53';
const RESOLVER_PORT = 5453;
const TTL = 2;

const YAML = `
zone: cluster.test
ttl: ${TTL}
negativeTtl: 1
secret: "${SECRET}"
dns: { port: ${PORT}, internalFrom: [127.0.111.0/24, 127.0.112.0/24] }
peer: { port: ${PORT + 1}, upAfter: 1s }
http: { port: ${PORT + 2} }
nodes:
${[1, 2, 3].map((i) => `  - { name: node${i}, address: ${pub(i)}, privateAddress: ${priv(i)} }`).join('\n')}
services:
  - { name: redis, port: 6379, nodes: [node2, node1, node3], policy: first-healthy }
`;

let cluster: TestCluster;

async function dig(server: string, port: number, name: string, type: string, opts: { from?: string; rd?: boolean; tcp?: boolean } = {}) {
  const args = [`@${server}`, '-p', String(port), name, type, '+tries=1', '+time=2', opts.rd ? '+rec' : '+norec', opts.tcp ? '+tcp' : '+notcp'];
  if (opts.from) args.push('-b', opts.from);
  const r = await run(requireTool('dig'), args, { timeoutMs: 10_000 });
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no reply: ${r.stdout}${r.stderr}`;
  const answer = r.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f[3] === type)
    .map((f) => f.slice(4).join(' '))
    .sort();
  return { status, answer, aa: /flags:[^;]* aa[ ;]/.test(r.stdout) };
}

async function until<T>(what: string, ms: number, f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + ms;
  let last: T = await f();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
    last = await f();
  }
  return last;
}

/** unbound listening on `address`, sending its own queries from it, with the cluster as a stub zone. */
async function startUnbound(address: string): Promise<void> {
  const dir = join(cluster.dir, `unbound-${address}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'unbound.conf'),
    unboundConf({
      dir,
      address,
      port: RESOLVER_PORT,
      server: [`outgoing-interface: ${address}`, 'module-config: "iterator"', 'infra-host-ttl: 2'],
      tail: `stub-zone:\n  name: "cluster.test"\n${[1, 2, 3].map((i) => `  stub-addr: ${priv(i)}@${PORT}\n`).join('')}`,
    }),
  );
  cluster.procs.start(requireTool('unbound'), ['-d', '-c', join(dir, 'unbound.conf')]);
  await until('unbound up', 10_000, () => dig(address, RESOLVER_PORT, 'cluster.test', 'SOA', { rd: true, from: address }), (r) => r.status === 'NOERROR');
}

beforeAll(async () => {
  requireTool('dig');
  requireTool('unbound');
  cluster = new TestCluster(YAML);
  await Promise.all(['node1', 'node2', 'node3'].map((n) => cluster.startAgent(n)));
  await until('cluster serving', 10_000, () => dig(pub(1), PORT, 'cluster.test', 'A'), (r) => r.answer.length === 3);
  await startUnbound(RESOLVER_IN);
  await startUnbound(RESOLVER_OUT);
}, 40_000);

afterAll(async () => {
  await cluster?.cleanup();
});

describe('dig asks the agents directly', () => {
  it.each([
    ['node1.internal.cluster.test', 'A', [priv(1)]],
    ['ns3.internal.cluster.test', 'A', [priv(3)]],
    ['internal.cluster.test', 'A', [priv(1), priv(2), priv(3)]],
    ['redis.internal.cluster.test', 'A', [priv(2)]],
    ['_redis._tcp.internal.cluster.test', 'SRV', ['10 10 6379 node2.internal.cluster.test.']],
  ])('from inside internalFrom: %s %s → private addresses', async (name, type, want) => {
    for (const server of [pub(1), priv(2)]) {
      const r = await dig(server, PORT, name, type, { from: INSIDE });
      expect(r).toMatchObject({ status: 'NOERROR', aa: true });
      expect(r.answer).toEqual(want);
    }
  });

  it('from outside internalFrom: internal names REFUSED, public names answered', async () => {
    for (const name of ['node1.internal.cluster.test', 'internal.cluster.test', 'nope.internal.cluster.test']) {
      expect((await dig(pub(1), PORT, name, 'A', { from: OUTSIDE })).status).toBe('REFUSED');
    }
    expect(await dig(pub(1), PORT, 'node1.cluster.test', 'A', { from: OUTSIDE })).toMatchObject({ status: 'NOERROR', answer: [pub(1)] });
    expect(await dig(pub(1), PORT, 'node1.cluster.test', 'A', { from: INSIDE })).toMatchObject({ status: 'NOERROR', answer: [pub(1)] });
  });

  it('over TCP the same: the source of the connection decides', async () => {
    expect((await dig(pub(1), PORT, 'node1.internal.cluster.test', 'A', { from: OUTSIDE, tcp: true })).status).toBe('REFUSED');
    expect(await dig(pub(1), PORT, 'node1.internal.cluster.test', 'A', { from: INSIDE, tcp: true })).toMatchObject({ status: 'NOERROR', answer: [priv(1)] });
  });
});

describe('unbound resolves the internal names', () => {
  it('inside: private addresses; outside: the REFUSED reaches the client as SERVFAIL, no address', async () => {
    expect(await dig(RESOLVER_IN, RESOLVER_PORT, 'redis.internal.cluster.test', 'A', { rd: true, from: INSIDE })).toMatchObject({
      status: 'NOERROR',
      answer: [priv(2)],
    });
    const out = await dig(RESOLVER_OUT, RESOLVER_PORT, 'redis.internal.cluster.test', 'A', { rd: true, from: OUTSIDE });
    expect(out.status).toBe('SERVFAIL');
    expect(out.answer).toEqual([]);
    expect(await dig(RESOLVER_OUT, RESOLVER_PORT, 'redis.cluster.test', 'A', { rd: true, from: OUTSIDE })).toMatchObject({
      status: 'NOERROR',
      answer: [pub(2)],
    });
  });

  it('kill -9 node2: node2.internal and redis.internal move to another private address through unbound, as the public names do', async () => {
    const before = await dig(RESOLVER_IN, RESOLVER_PORT, 'node2.internal.cluster.test', 'A', { rd: true, from: INSIDE });
    expect(before.answer).toEqual([priv(2)]);
    cluster.agents.get('node2')!.kill('SIGKILL');
    const start = Date.now();
    const moved = await until(
      'node2.internal through unbound',
      10_000,
      () => dig(RESOLVER_IN, RESOLVER_PORT, 'node2.internal.cluster.test', 'A', { rd: true, from: INSIDE }),
      (r) => r.status === 'NOERROR' && r.answer.length === 1 && r.answer[0] !== priv(2),
    );
    // Detection (about 1.25 s) plus at most the TTL the resolver held the old answer for.
    expect(Date.now() - start).toBeLessThan(1500 + TTL * 1000 + 2500);
    expect([priv(1), priv(3)]).toContain(moved.answer[0]);
    const target = moved.answer[0].replace('127.0.111.', '127.0.110.');
    const publicName = await until('node2 public', 5000, () => dig(pub(1), PORT, 'node2.cluster.test', 'A'), (r) => r.answer[0] !== pub(2));
    expect(publicName.answer).toEqual([target]);
    const redis = await until(
      'redis.internal through unbound',
      TTL * 1000 + 3000,
      () => dig(RESOLVER_IN, RESOLVER_PORT, 'redis.internal.cluster.test', 'A', { rd: true, from: INSIDE }),
      (r) => r.answer[0] === priv(1),
    );
    expect(redis.answer).toEqual([priv(1)]);

    // Back after the hold-down: the private name returns to node2's private address.
    await cluster.startAgent('node2');
    await until(
      'node2.internal back',
      15_000,
      () => dig(RESOLVER_IN, RESOLVER_PORT, 'node2.internal.cluster.test', 'A', { rd: true, from: INSIDE }),
      (r) => r.answer[0] === priv(2),
    );
  }, 40_000);
});

describe('clusterdns check', () => {
  it('asks the internal names too; from outside internalFrom it says they are refused, and no more', async () => {
    // check asks from 127.0.0.1, outside internalFrom; the parent is silent (no delegation here).
    const r = await run(process.execPath, [CLI, 'check', 'cluster.test', '--config', cluster.configPath, '--parent', '127.0.113.99:5499', '--json', '--timeout', '300'], {
      timeoutMs: 30_000,
    });
    const report = JSON.parse(r.stdout) as { findings: { code: string; subject: string; severity: string }[] };
    const internal = report.findings.filter((f) => f.subject.includes('internal'));
    expect(internal).toEqual([expect.objectContaining({ code: 'internal-refused', subject: 'internal.cluster.test', severity: 'ok' })]);
  });
});

describe('status API', () => {
  it('lists the internal names with their private addresses and the nodes their private addresses', async () => {
    // The API listens on the private network (the peer address), not the public one.
    const res = await fetch(`http://${priv(1)}:${PORT + 2}/v1/status`);
    const s = (await res.json()) as { answers: { name: string; internal: boolean; a: string[] }[]; nodes: { name: string; privateAddress: string | null }[] };
    expect(s.nodes.find((n) => n.name === 'node3')!.privateAddress).toBe(priv(3));
    const n1 = s.answers.find((a) => a.name === 'node1.internal.cluster.test')!;
    expect(n1).toMatchObject({ internal: true, a: [priv(1)] });
    expect(s.answers.find((a) => a.name === 'node1.cluster.test')).toMatchObject({ internal: false, a: [pub(1)] });
  });
});
