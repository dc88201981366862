#!/usr/bin/env node
// What a real client sees when the node serving it dies. Three nodes on 127.0.114.1–3, each with
// an agent and a redis-server on the same port; the service `redis` (first-healthy, a redis check)
// is served by node1. A client writes and reads every 50 ms by name; the bench kill -9s node1's
// agent and redis-server together and times, from the kill, the client's first successful write.
//
// Modes (--modes): how the client finds its server. Each mode is an entry of MODES: a client
// program that prints one JSON line per operation (see bench/clients/dns-client.mjs), and the
// answer TTLs it is run with. Further modes (Sentinel clients) add an entry.
//   dns   a client resolving the name through unbound (stub zone to the three agents) on every
//         reconnect, run once per --ttls value (answer TTL of the cluster config)
//
// Each trial: start a fresh client; flush unbound's cache and server state and have it learn the
// answer again (the connected client does not ask); wait until that answer has a random age in
// [0, TTL) — what a resolver that many clients keep asking holds at any moment — kill node1, wait
// for the first successful write, then restart node1 and wait until the service is back on it.
// Hold-down growth (flap damping) is
// off (maxUpAfter = upAfter) since the bench kills the same node on purpose.
//
//   npm run bench:clients [-- --trials 10 --ttls 5,30 --modes dns --json FILE]
//
// Needs Linux, root not required; redis-server, unbound and unbound-control (Debian: redis-server,
// unbound). Every process it starts is in its own process group and killed on exit.
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import packet from 'dns-packet';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    ttls: { type: 'string', default: '5,30' },
    modes: { type: 'string', default: 'dns' },
    json: { type: 'string' },
    'max-minutes': { type: 'string', default: '40' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:clients [-- --trials N (10) --ttls 5,30 --modes dns --json FILE --max-minutes 40]');
  process.exit(0);
}
const TRIALS = Number(args.trials);
const TTLS = args.ttls.split(',').map(Number);
const DEADLINE = Date.now() + Number(args['max-minutes']) * 60_000;

const NET = '127.0.114';
const nodeAddress = (i) => `${NET}.${i + 1}`;
const NODES = ['node1', 'node2', 'node3'];
const RESOLVER = `${NET}.53`;
const RESOLVER_PORT = 5453;
const CONTROL_PORT = 5454;
const DNS_PORT = 5414;
const REDIS_PORT = 6390;
const SERVICE = 'redis.cluster.test';
const SECRET = 'bench-secret-0123456789abcdef-0123456789';
const CLI = join(root, 'bin/clusterdns.js');
const INTERVAL_MS = 50;
/** Give up on a trial this long after the TTL: the client did not resume. */
const RESUME_SLACK_MS = 20_000;

/**
 * How each kind of client is started. `ttls`: the answer TTLs the mode is run with (undefined: it
 * does not depend on DNS, run once with the first). `config`: extra lines for the cluster YAML (a
 * Sentinel mode turns on its discovery service there). `client(ctx)`: the argv of a program
 * printing one JSON line per operation, {start, at, write, read, addr, err}; `ctx` holds the
 * node addresses, the service name and Redis port, and the TTL.
 */
const MODES = {
  dns: {
    describe: 'resolves the name through unbound on every (re)connect',
    ttls: TTLS,
    client: () => [process.execPath, join(root, 'bench/clients/dns-client.mjs'), '--name', SERVICE, '--resolver', `${RESOLVER}:${RESOLVER_PORT}`, '--port', String(REDIS_PORT), '--interval', String(INTERVAL_MS)],
  },
};
const modes = args.modes.split(',');
for (const m of modes) if (!MODES[m]) throw new Error(`unknown mode ${m} (${Object.keys(MODES).join(', ')})`);

function tool(name) {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin']) if (d && existsSync(join(d, name))) return join(d, name);
  throw new Error(`${name} is not installed: apt-get install -y ${name === 'redis-server' ? 'redis-server' : 'unbound'}`);
}
const REDIS = tool('redis-server');
const UNBOUND = tool('unbound');
const UNBOUND_CONTROL = tool('unbound-control');
if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

const children = new Set();
function start(cmd, argv, opts = {}) {
  const child = spawn(cmd, argv, { stdio: ['ignore', opts.stdout ?? 'ignore', 'ignore'], detached: true, env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function kill(child, signal = 'SIGKILL') {
  try {
    process.kill(-child.pid, signal);
  } catch {}
}
function stopAll() {
  for (const c of children) kill(c);
  children.clear();
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// DNS questions the bench itself asks the agents (never through unbound, so they do not touch its cache).
const sock = dgram.createSocket('udp4');
await new Promise((r) => sock.bind(0, `${NET}.200`, r));
const pending = new Map();
let nextId = 1;
sock.on('message', (m) => {
  try {
    const d = packet.decode(m);
    pending.get(d.id)?.(d);
    pending.delete(d.id);
  } catch {}
});
/** A recursive question to the resolver: its A addresses, or null. */
function resolveThrough(server, port, name) {
  return ask(server, name, { port, rd: true, timeoutMs: 3000 });
}

function ask(server, name, { port = DNS_PORT, rd = false, timeoutMs = 300 } = {}) {
  const id = (nextId = (nextId % 65535) + 1);
  return new Promise((resolve) => {
    const t = setTimeout(() => (pending.delete(id), resolve(null)), timeoutMs);
    pending.set(id, (d) => {
      clearTimeout(t);
      resolve(d.rcode === 'NOERROR' ? d.answers.filter((a) => a.type === 'A').map((a) => a.data).sort() : null);
    });
    sock.send(packet.encode({ type: 'query', id, flags: rd ? packet.RECURSION_DESIRED : 0, questions: [{ name, type: 'A' }] }), port, server);
  });
}
async function until(what, limitMs, check) {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(20);
  }
}

class Cluster {
  constructor(ttl, extraConfig = []) {
    this.ttl = ttl;
    this.dir = mkdtempSync(join(tmpdir(), 'clusterdns-bench-clients-'));
    this.agents = new Map();
    this.redis = new Map();
    writeFileSync(
      join(this.dir, 'cluster.yaml'),
      [
        'zone: cluster.test',
        `ttl: ${ttl}`,
        `secret: "${SECRET}"`,
        `dns: { port: ${DNS_PORT} }`,
        // Defaults but for flap damping: the bench kills the same node on purpose.
        `peer: { port: ${DNS_PORT + 1}, upAfter: 3s, maxUpAfter: 3s }`,
        `http: { port: ${DNS_PORT + 2}, enabled: false }`,
        'nodes:',
        ...NODES.map((n, i) => `  - { name: ${n}, address: ${nodeAddress(i)} }`),
        'services:',
        `  - { name: redis, port: ${REDIS_PORT}, nodes: [${NODES.join(', ')}], policy: first-healthy, check: { type: redis } }`,
        ...extraConfig,
        '',
      ].join('\n'),
    );
    const u = join(this.dir, 'unbound');
    mkdirSync(u);
    this.unboundConf = join(u, 'unbound.conf');
    // Defaults except what a loopback lab needs: its addresses, a stub zone to the agents, no chroot.
    writeFileSync(
      this.unboundConf,
      `server:
  interface: ${RESOLVER}
  port: ${RESOLVER_PORT}
  outgoing-interface: ${RESOLVER}
  do-ip6: no
  do-not-query-localhost: no
  module-config: "iterator"
  username: ""
  chroot: ""
  directory: "${u}"
  pidfile: "${u}/unbound.pid"
  use-syslog: no
  logfile: ""
  access-control: 127.0.0.0/8 allow
  local-zone: "test." nodefault
stub-zone:
  name: "cluster.test"
${NODES.map((_, i) => `  stub-addr: ${nodeAddress(i)}@${DNS_PORT}`).join('\n')}
remote-control:
  control-enable: yes
  control-interface: ${RESOLVER}
  control-port: ${CONTROL_PORT}
  control-use-cert: no
`,
    );
  }

  startNode(i) {
    const name = NODES[i];
    this.redis.set(name, start(REDIS, ['--bind', nodeAddress(i), '--port', String(REDIS_PORT), '--save', '', '--appendonly', 'no', '--protected-mode', 'no']));
    this.agents.set(name, start(process.execPath, [CLI, 'agent', '--config', join(this.dir, 'cluster.yaml'), '--node', name]));
  }

  async start() {
    NODES.forEach((_, i) => this.startNode(i));
    this.unbound = start(UNBOUND, ['-d', '-c', this.unboundConf]);
    await this.settled(30_000);
    await until('unbound', 10_000, () => this.control('status').then(() => true, () => false));
  }

  /** Every agent serves all three nodes and the service on node1. */
  async settled(ms) {
    await until('cluster settled', ms, async () => {
      const all = NODES.map((_, i) => nodeAddress(i));
      const apex = await Promise.all(all.map((a) => ask(a, 'cluster.test')));
      const svc = await Promise.all(all.map((a) => ask(a, SERVICE)));
      return apex.every((x) => x?.length === 3) && svc.every((x) => x?.join() === nodeAddress(0));
    });
  }

  control(...cmd) {
    return new Promise((resolve, reject) => {
      const c = spawn(UNBOUND_CONTROL, ['-c', this.unboundConf, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.on('close', (code) => (clearTimeout(t), code === 0 ? resolve(out) : reject(new Error(`unbound-control ${cmd.join(' ')}: exit ${code}`))));
    });
  }

  stop() {
    for (const c of [...this.agents.values(), ...this.redis.values(), this.unbound]) if (c) kill(c);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A client process and the operations it reported. */
function startClient(argv) {
  const [cmd, ...rest] = argv;
  const child = start(cmd, rest, { stdout: 'pipe' });
  const ops = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      ops.push(JSON.parse(l));
    } catch {}
  });
  return { child, ops };
}

async function trial(cluster, mode, t) {
  const ttlMs = cluster.ttl * 1000;
  const flush = async () => {
    await cluster.control('flush_zone', 'cluster.test');
    await cluster.control('flush_infra', 'all');
  };
  await flush(); // the previous trial's answer (node2) may still be cached
  const client = startClient(MODES[mode].client({ ttl: cluster.ttl, nodes: NODES.map((_, i) => nodeAddress(i)), service: 'redis', redisPort: REDIS_PORT }));
  try {
    await until('client writing to node1', 10_000, async () => client.ops.at(-1)?.write && client.ops.at(-1).addr === nodeAddress(0));
    // The resolver then forgets everything and learns the answer again at a known moment; the
    // client, connected, does not ask until its connection fails.
    await flush();
    const asked = Date.now();
    const filled = await resolveThrough(RESOLVER, RESOLVER_PORT, SERVICE);
    if (filled?.join() !== nodeAddress(0)) throw new Error(`unbound answers ${SERVICE} with ${filled}, not node1`);
    const filledAt = Date.now();
    await sleep(Math.max(0, filledAt + Math.random() * ttlMs - Date.now()));
    const age = Date.now() - filledAt;
    const before = client.ops.at(-1);
    const killedAt = Date.now();
    kill(cluster.agents.get('node1'));
    kill(cluster.redis.get('node1'));
    // Detection, seen from a survivor: when node2's agent answers the service with another node.
    let movedMs = null;
    const watchMove = (async () => {
      while (movedMs === null && Date.now() - killedAt < ttlMs + RESUME_SLACK_MS) {
        const a = await ask(nodeAddress(1), SERVICE);
        if (a && a.length && a[0] !== nodeAddress(0)) movedMs = Date.now() - killedAt;
        else await sleep(10);
      }
    })();
    let resumed;
    const limit = killedAt + ttlMs + RESUME_SLACK_MS;
    while (!(resumed = client.ops.find((o) => o.start >= killedAt && o.write)) && Date.now() < limit) await sleep(10);
    await watchMove;
    const after = client.ops.filter((o) => o.start >= killedAt && (!resumed || o.start <= resumed.start));
    const failed = after.filter((o) => !o.write || !o.read);
    const errors = {};
    for (const o of failed) errors[o.err ?? 'read'] = (errors[o.err ?? 'read'] ?? 0) + 1;
    return {
      trial: t + 1,
      cacheAgeAtKillMs: Math.round(age),
      fillMs: filledAt - asked,
      servedBy: before?.addr,
      resumeMs: resumed ? resumed.at - killedAt : null,
      resumedOn: resumed?.addr ?? null,
      agentsMovedMs: movedMs,
      failedOps: failed.length,
      errors,
      // Where the outage went: the last operation still sent to the dead address, the first to another.
      lastToDeadMs: (() => {
        const o = after.filter((x) => x.addr === before?.addr).at(-1);
        return o ? o.start - killedAt : null;
      })(),
      firstToOtherMs: (() => {
        const o = after.find((x) => x.addr && x.addr !== before?.addr);
        return o ? o.start - killedAt : null;
      })(),
    };
  } finally {
    kill(client.child, 'SIGTERM');
    await sleep(100);
    kill(client.child);
  }
}

const stats = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (!s.length) return null;
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, median: Math.round(median), worst: s[s.length - 1], best: s[0] };
};

console.log(`clusterdns client outage benchmark — ${TRIALS} trials per run, modes ${modes.join(', ')}, Node ${process.version}`);
const runs = [];
for (const mode of modes) for (const ttl of MODES[mode].ttls ?? [TTLS[0]]) runs.push({ mode, ttl });
const results = [];
for (const { mode, ttl } of runs) {
  const cluster = new Cluster(ttl, MODES[mode].config ?? []);
  const startedAt = Date.now();
  try {
    await cluster.start();
    await cluster.control('stats');
    const trials = [];
    for (let t = 0; t < TRIALS && Date.now() < DEADLINE; t++) {
      const r = await trial(cluster, mode, t);
      trials.push(r);
      console.log(
        `  ${mode} ttl ${ttl}s trial ${t + 1}/${TRIALS}: cache age ${(r.cacheAgeAtKillMs / 1000).toFixed(1)} s at kill, agents moved in ${r.agentsMovedMs} ms, first write after ${r.resumeMs ?? 'never'} ms on ${r.resumedOn}, ${r.failedOps} failed ops`,
      );
      cluster.startNode(0);
      await cluster.settled(30_000);
    }
    // Queries unbound sent to the agents over the run (cache misses), per minute of run.
    const st = await cluster.control('stats');
    const misses = Number(/total\.num\.cachemiss=(\d+)/.exec(st)?.[1] ?? NaN);
    const minutes = (Date.now() - startedAt) / 60_000;
    results.push({
      mode,
      ttl,
      describe: MODES[mode].describe,
      trials,
      resumeMs: stats(trials.map((r) => r.resumeMs)),
      agentsMovedMs: stats(trials.map((r) => r.agentsMovedMs)),
      failedOps: { total: trials.reduce((a, r) => a + r.failedOps, 0), ...stats(trials.map((r) => r.failedOps)) },
      notResumed: trials.filter((r) => r.resumeMs === null).length,
      resolverCacheMisses: { count: misses, minutes: +minutes.toFixed(1) },
    });
  } finally {
    cluster.stop();
  }
}
sock.close();

console.log('\n| mode | answer TTL | trials | resume median | resume worst | failed ops (median, worst, total) | detection median |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.mode} | ${r.ttl} s | ${r.trials.length} | ${(r.resumeMs?.median / 1000).toFixed(2)} s | ${(r.resumeMs?.worst / 1000).toFixed(2)} s | ${r.failedOps.median}, ${r.failedOps.worst}, ${r.failedOps.total} | ${(r.agentsMovedMs?.median / 1000).toFixed(2)} s |${r.notResumed ? ` ${r.notResumed} never resumed` : ''}`,
  );

const out = args.json ?? join(root, 'bench/results', `clients-${new Date().toISOString().slice(0, 16).replace(':', '')}Z.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      versions: { unbound: execFileSync(UNBOUND, ['-V']).toString().split('\n')[0], redis: execFileSync(REDIS, ['--version']).toString().trim() },
      setup: { intervalMs: INTERVAL_MS, peer: 'interval 250ms, downAfter 1s, upAfter 3s', check: 'redis, interval 1s, timeout 500ms, rise 2, fall 2', resolver: 'unbound 127.0.114.53, stub zone to the three agents, default cache settings' },
      results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nwrote ${out}`);
process.exit(0);
