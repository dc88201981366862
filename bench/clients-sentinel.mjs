#!/usr/bin/env node
// The outage a Sentinel client sees (issue 11 §3, Sentinel modes): three real agents on 127.0.81.x
// with the discovery service on, a real redis-server on each, a service `cache` (first-healthy,
// redis check). A fresh client writes and reads back every 50 ms through the discovery service; each
// trial fails the node that serves `cache` (its agent and its Redis: kill -9, or SIGSTOP with
// --fault stop) and records the time from then to the first successful write started after it, and
// the failed operations in between. Then the node is killed, restarted, and the cluster settles.
//
// Modes: redis-py `Sentinel` (Debian's python3-redis; it has no +switch-master subscription),
// ioredis `sentinels:` without and with `failoverDetector` (its +switch-master subscription).
//
//   npm run bench:clients:sentinel [-- --trials 10 --modes redis-py,ioredis,ioredis-subscribed,node-redis5,node-redis6 --fault kill|stop]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { createSentinel as createSentinel5 } from 'redis5';
import { createSentinel as createSentinel6 } from 'redis6';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'redis-py,ioredis,ioredis-subscribed,node-redis5,node-redis6' },
    fault: { type: 'string', default: 'kill' },
    json: { type: 'string' },
    // node-redis hears events only from the one sentinel it subscribed to, the first that answers:
    // `last` lists the serving node's agent last (a hung sentinel first holds it: see the README).
    'serving-sentinel': { type: 'string', default: 'first' },
  },
});
const TRIALS = Number(args.trials);
const MODES = args.modes.split(',');
// kill: kill -9, the machine's kernel resets the client's connection at once. stop: SIGSTOP, a
// node that hangs or drops off the network: the client's connection stays open and silent.
const FAULT = args.fault;
if (FAULT !== 'kill' && FAULT !== 'stop') throw new Error('--fault is kill or stop');
const NODES = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.81.${i}` }));
const DNS_PORT = 5811;
const DISCOVERY_PORT = 5814;
const REDIS_PORT = 5819;
const INTERVAL_MS = 50;
const OP_TIMEOUT_MS = 300;
const RESUME_LIMIT_MS = 15_000;
const SECRET = 'bench-secret-0123456789abcdef-0123456789';
const CLI = join(root, 'bin/clusterdns.js');
const PY_CLIENT = join(root, 'test/discovery/redis_py_sentinel.py');

if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
if (!REDIS_SERVER) throw new Error('redis-server is not installed: apt-get install -y redis-server');
if (!existsSync('/usr/bin/python3')) throw new Error('/usr/bin/python3 is needed (apt-get install -y python3-redis)');

const children = new Set();
function start(cmd, argv, env = {}) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
  child.stdout.resume();
  child.stderr.resume();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function kill(child, signal = 'SIGKILL') {
  try {
    process.kill(-child.pid, signal);
  } catch {}
}
process.on('exit', () => children.forEach((c) => kill(c)));
process.on('SIGINT', () => process.exit(130));

const dir = mkdtempSync(join(tmpdir(), 'clusterdns-bench-clients-'));
writeFileSync(
  join(dir, 'cluster.yaml'),
  [
    'zone: cluster.test',
    `secret: "${SECRET}"`,
    `dns: { port: ${DNS_PORT} }`,
    // Every trial kills node1 again within seconds: without a cap its flap-grown hold-down would
    // double each trial (peer.maxUpAfter) and the cluster would take minutes to settle.
    `peer: { port: ${DNS_PORT + 1}, maxUpAfter: 3s }`,
    `http: { port: ${DNS_PORT + 2} }`,
    `discovery: { port: ${DISCOVERY_PORT}, enabled: true }`,
    'nodes:',
    ...NODES.map((n) => `  - { name: ${n.name}, address: ${n.address} }`),
    'services:',
    `  - { name: cache, port: ${REDIS_PORT}, policy: first-healthy, check: { type: redis } }`,
    '',
  ].join('\n'),
);

const running = new Map(); // node name → { agent, redis }
async function startNode(n) {
  const redis = start(REDIS_SERVER, ['--port', String(REDIS_PORT), '--bind', n.address, '--save', '', '--appendonly', 'no']);
  const agent = start(process.execPath, [CLI, 'agent', '--config', join(dir, 'cluster.yaml'), '--node', n.name], { CLUSTERDNS_LOG_FORMAT: 'json' });
  running.set(n.name, { agent, redis });
}
function failNode(name) {
  const r = running.get(name);
  const signal = FAULT === 'kill' ? 'SIGKILL' : 'SIGSTOP';
  kill(r.agent, signal);
  kill(r.redis, signal);
}
function removeNode(name) {
  const r = running.get(name);
  kill(r.agent);
  kill(r.redis);
  running.delete(name);
}

/** One RESP request on a fresh connection; the raw reply, or undefined after 300 ms. */
function ask(host, request) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: DISCOVERY_PORT });
    let got = '';
    const done = (v) => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), 300);
    s.on('error', () => done(undefined));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.endsWith('\r\n') && (got.startsWith('*-1') || got.split('\r\n').length >= 5)) done(got);
    });
    s.write(request);
  });
}
const MASTER_OF_CACHE = '*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$5\r\ncache\r\n';
const masterAt = async (host) => (await ask(host, MASTER_OF_CACHE))?.split('\r\n')[2];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Settled: every agent sees every other up and tells node1 (the service's first choice) as the
 * master, for a second. A returning node is preferred again after its hold-down, so waiting for
 * node1 keeps that switch-back out of the next trial.
 */
async function settled(limitMs = 60_000) {
  const end = Date.now() + limitMs;
  let stableSince = 0;
  while (Date.now() < end) {
    const masters = await Promise.all(NODES.map((n) => masterAt(n.address)));
    const views = await Promise.all(NODES.map((n) => ask(n.address, '*3\r\n$8\r\nSENTINEL\r\n$9\r\nsentinels\r\n$5\r\ncache\r\n')));
    const allUp = views.every((v) => v !== undefined && !v.includes('s_down'));
    if (allUp && masters.every((m) => m === NODES[0].address)) {
      if (!stableSince) stableSince = Date.now();
      if (Date.now() - stableSince >= 1000) return NODES[0];
    } else stableSince = 0;
    await sleep(100);
  }
  throw new Error('the cluster did not settle within 60 s');
}

/** A writer: ops as {t, ok, addr}; `stop()` ends it. */
function ioredisWriter(failoverDetector) {
  const client = new Redis({
    sentinels: NODES.map((n) => ({ host: n.address, port: DISCOVERY_PORT })),
    name: 'cache',
    failoverDetector,
    connectTimeout: OP_TIMEOUT_MS,
    commandTimeout: OP_TIMEOUT_MS,
    // Without it a sentinel that hangs (its node stopped, the TCP handshake still completes) holds
    // ioredis's discovery forever.
    sentinelCommandTimeout: OP_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  const ops = [];
  let on = true;
  (async () => {
    for (let n = 0; on; n++) {
      const t = Date.now();
      try {
        await client.set('bench', String(n));
        if ((await client.get('bench')) !== String(n)) throw new Error('read back another value');
        ops.push({ t, ok: true, addr: client.stream?.remoteAddress });
      } catch (e) {
        ops.push({ t, ok: false, error: String(e.message ?? e) });
      }
      await sleep(Math.max(0, INTERVAL_MS - (Date.now() - t)));
    }
  })();
  return {
    ops,
    stop: () => {
      on = false;
      client.disconnect();
    },
  };
}

/**
 * node-redis `createSentinel` (v5 or v6). It has no command timeout: each op is bounded here. v5
 * retries a refused master connection forever while it holds its reconfiguration: its node clients
 * give up after a few tries so it asks the sentinels again (src/discovery/README.md, node-redis).
 */
function nodeRedisWriter(version, serving) {
  const create = version === 5 ? createSentinel5 : createSentinel6;
  const giveUp = (retries) => (retries > 3 ? new Error('the master is gone: ask the sentinels again') : 200);
  const client = create({
    name: 'cache',
    sentinelRootNodes: (args['serving-sentinel'] === 'last' ? [...NODES.filter((n) => n.name !== serving), ...NODES.filter((n) => n.name === serving)] : NODES).map((n) => ({ host: n.address, port: DISCOVERY_PORT })),
    nodeClientOptions: { socket: { connectTimeout: OP_TIMEOUT_MS, reconnectStrategy: version === 5 ? giveUp : () => 200 } },
    sentinelClientOptions: { socket: { connectTimeout: OP_TIMEOUT_MS, reconnectStrategy: () => 200 } },
    maxCommandRediscovers: 1000,
  });
  client.on('error', () => undefined);
  const ops = [];
  let on = true;
  const bounded = (p) => Promise.race([p, sleep(OP_TIMEOUT_MS).then(() => Promise.reject(new Error('timeout')))]);
  (async () => {
    try {
      await bounded(client.connect());
    } catch (e) {
      ops.push({ t: Date.now(), ok: false, error: String(e.message ?? e) });
    }
    for (let n = 0; on; n++) {
      const t = Date.now();
      try {
        await bounded(client.set('bench', String(n)));
        if ((await bounded(client.get('bench'))) !== String(n)) throw new Error('read back another value');
        ops.push({ t, ok: true, addr: client.getMasterNode()?.host });
      } catch (e) {
        ops.push({ t, ok: false, error: String(e.message ?? e) });
      }
      await sleep(Math.max(0, INTERVAL_MS - (Date.now() - t)));
    }
  })();
  return {
    ops,
    stop: () => {
      on = false;
      void Promise.race([client.destroy(), sleep(2000)]).catch(() => undefined);
    },
  };
}

function redisPyWriter() {
  const sentinels = NODES.map((n) => `${n.address}:${DISCOVERY_PORT}`).join(',');
  const child = start('/usr/bin/python3', [PY_CLIENT, 'write', sentinels, 'cache', '3600', String(INTERVAL_MS)]);
  const ops = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop();
    for (const l of lines) if (l) ops.push(JSON.parse(l));
  });
  return { ops, stop: () => kill(child) };
}

async function runMode(mode) {
  const trials = [];
  for (let i = 0; i < TRIALS; i++) {
    const master = await settled();
    // A fresh client per trial: one still connected to the node it found at start-up (or after the
    // previous trial) would not notice the kill at all.
    const writer =
      mode === 'redis-py' ? redisPyWriter() : mode === 'node-redis5' ? nodeRedisWriter(5, master.name) : mode === 'node-redis6' ? nodeRedisWriter(6, master.name) : ioredisWriter(mode === 'ioredis-subscribed');
    try {
      const ready = Date.now();
      while (!writer.ops.some((o) => o.ok && o.addr?.startsWith(master.address))) {
        if (Date.now() - ready > 15_000) throw new Error(`${mode}: the client does not write to ${master.name}`);
        await sleep(20);
      }
      await sleep(200 + Math.random() * 300);
      const killedAt = Date.now();
      failNode(master.name);
      let first;
      while (!(first = writer.ops.find((o) => o.t >= killedAt && o.ok))) {
        if (Date.now() - killedAt > RESUME_LIMIT_MS) break;
        await sleep(10);
      }
      const failed = writer.ops.filter((o) => o.t >= killedAt && !o.ok && (!first || o.t < first.t)).length;
      const trial = { node: master.name, resumeMs: first ? first.t - killedAt : null, resumedOn: first?.addr ?? null, failedOps: failed };
      trials.push(trial);
      console.log(`${mode} ${FAULT} trial ${i + 1}: ${master.name} down, first write after ${trial.resumeMs ?? `> ${RESUME_LIMIT_MS}`} ms on ${trial.resumedOn}, ${failed} failed`);
    } finally {
      writer.stop();
      removeNode(master.name);
    }
    await startNode(master);
  }
  const times = trials.map((t) => t.resumeMs ?? Infinity).sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  return {
    mode,
    trials: trials.length,
    medianMs: Number.isFinite(median) ? median : null,
    worstMs: times[times.length - 1] === Infinity ? null : times[times.length - 1],
    unresumed: trials.filter((t) => t.resumeMs === null).length,
    failedOpsMedian: trials.map((t) => t.failedOps).sort((a, b) => a - b)[Math.floor(trials.length / 2)],
    failedOpsTotal: trials.reduce((n, t) => n + t.failedOps, 0),
    runs: trials,
  };
}

const results = [];
try {
  for (const n of NODES) await startNode(n);
  for (const mode of MODES) results.push(await runMode(mode));
} finally {
  children.forEach((c) => kill(c));
  rmSync(dir, { recursive: true, force: true });
}

console.log('\nmode                 trials  median ms  worst ms  failed ops (median/trial, total)');
for (const r of results) {
  console.log(`${r.mode.padEnd(20)} ${String(r.trials).padStart(6)} ${String(r.medianMs ?? 'never').padStart(10)} ${String(r.worstMs ?? 'never').padStart(9)}  ${r.failedOpsMedian}, ${r.failedOpsTotal}`);
}
const out = {
  bench: 'clients-sentinel',
  fault: FAULT === 'kill' ? 'kill -9 of the serving node (agent and Redis)' : 'SIGSTOP of the serving node (agent and Redis): it hangs, connections stay open',
  date: new Date().toISOString(),
  node: process.version,
  setup: {
    nodes: NODES.length,
    service: 'first-healthy, redis check (1 s interval, rise/fall 2)',
    peer: 'interval 250 ms, downAfter 1 s, upAfter 3 s (defaults); maxUpAfter 3 s',
    writeEveryMs: INTERVAL_MS,
    opTimeoutMs: OP_TIMEOUT_MS,
    clients: { 'redis-py': 'Debian python3-redis', ioredis: 'npm ioredis (devDependency)', 'node-redis5': 'npm redis@5 (devDependency redis5)', 'node-redis6': 'npm redis@6 (devDependency redis6)' },
  },
  results,
};
const file = args.json ?? join(root, 'bench/results', `clients-sentinel-${FAULT}-${new Date().toISOString().slice(0, 16).replace(':', '')}Z.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
console.log(`\nresults: ${file}`);
