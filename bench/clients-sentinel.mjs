#!/usr/bin/env node
// The outage a Sentinel client sees (issue 11 §3, Sentinel modes): three real agents on 127.0.81.x
// with the discovery service on, a real redis-server on each, a service `cache` (first-healthy,
// redis check). A fresh client writes and reads back every 50 ms through the discovery service; each
// trial fails the node that serves `cache` (its agent and its Redis: kill -9, or SIGSTOP with
// --fault stop) and records the time from then to the end of the first successful write begun after it, and
// the failed operations in between. Then the node is killed, restarted, and the cluster settles.
//
// Then the fail-back: the failed node is restarted and the client keeps writing; recorded are the
// time from the restart until the discovery service names the node again (its hold-down) and until
// the client writes there (or that it stays where it is; `--fail-back-ms 0` skips this).
//
// Modes (MODES below): redis-py `Sentinel` (Debian's python3-redis, and the newest from PyPI in a
// venv: `--pypi-python`), ioredis `sentinels:` without and with `failoverDetector`, node-redis 5 and
// 6 `createSentinel`, redis-rb and Perl's Redis (Debian's ruby-redis and libredis-perl), each with
// the settings its name says.
//
//   npm run bench:clients:sentinel [-- --trials 10 --modes redis-py,ioredis,… --fault kill|stop
//     --serving-sentinel first|last --fail-back-ms 10000 --block 127.0.81 --pypi-python /tmp/venv-redispy/bin/python]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import Redis from 'ioredis';
import { createSentinel as createSentinel5 } from 'redis5';
import { createSentinel as createSentinel6 } from 'redis6';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'redis-py,ioredis,ioredis-subscribed,node-redis5,node-redis6' },
    fault: { type: 'string', default: 'kill' },
    json: { type: 'string' },
    // Where the serving node's agent is in every client's sentinel list. node-redis hears events
    // only from the one sentinel it subscribed to, the first that answers: `last` keeps a hung one
    // out of its way; `first` is the hung-discovery-service case (src/discovery/README.md).
    'serving-sentinel': { type: 'string', default: 'first' },
    // How long to watch a client after the failed node returns (0: no fail-back phase).
    'fail-back-ms': { type: 'string', default: '10000' },
    // The first three octets of the three nodes' addresses.
    block: { type: 'string', default: '127.0.81' },
    // A python with the newest redis-py (`python3 -m venv /tmp/venv-redispy && /tmp/venv-redispy/bin/pip install redis`).
    'pypi-python': { type: 'string', default: '/tmp/venv-redispy/bin/python' },
    // node-redis's own tracer, printed after each trial (to see what it waited for).
    trace: { type: 'boolean', default: false },
  },
});
const TRIALS = Number(args.trials);
const MODES = args.modes.split(',');
const FAIL_BACK_MS = Number(args['fail-back-ms']);
if (!['first', 'last'].includes(args['serving-sentinel'])) throw new Error('--serving-sentinel is first or last');
if (!/^127\.\d{1,3}\.\d{1,3}$/.test(args.block)) throw new Error('--block is three octets of 127/8, e.g. 127.0.81');
if (!(TRIALS >= 1) || !(FAIL_BACK_MS >= 0)) throw new Error('--trials is at least 1, --fail-back-ms at least 0');
// kill: kill -9, the machine's kernel resets the client's connection at once. stop: SIGSTOP, a
// node that hangs or drops off the network: the client's connection stays open and silent.
const FAULT = args.fault;
if (FAULT !== 'kill' && FAULT !== 'stop') throw new Error('--fault is kill or stop');
const NODES = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `${args.block}.${i}` }));
const DNS_PORT = 5811;
const DISCOVERY_PORT = 5814;
const REDIS_PORT = 5819;
const INTERVAL_MS = 50;
const OP_TIMEOUT_MS = 300;
const RESUME_LIMIT_MS = 15_000;
const SECRET = 'bench-secret-0123456789abcdef-0123456789';
const CLI = join(root, 'bin/clusterdns.js');
const PY_CLIENT = join(root, 'test/discovery/redis_py_sentinel.py');
const RUBY_CLIENT = join(root, 'bench/clients/ruby_sentinel.rb');
const PERL_CLIENT = join(root, 'bench/clients/perl_sentinel.pl');

if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);
if (!REDIS_SERVER) throw new Error('redis-server is not installed: apt-get install -y redis-server');
const needs = (mode, file, hint) => {
  if (MODES.some((m) => m.startsWith(mode)) && !existsSync(file)) throw new Error(`${mode} modes need ${file} (${hint})`);
};
needs('redis-py-pypi', args['pypi-python'], 'python3 -m venv /tmp/venv-redispy && /tmp/venv-redispy/bin/pip install redis; or --pypi-python');
needs('redis-py', '/usr/bin/python3', 'apt-get install -y python3-redis');
needs('ruby', '/usr/bin/ruby', 'apt-get install -y ruby-redis');
needs('perl', '/usr/share/perl5/Redis/Sentinel.pm', 'apt-get install -y libredis-perl');

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
/** Kills the node's agent and Redis and waits (at most 5 s) until both are gone, so their ports are free for the restart. */
async function removeNode(name) {
  const r = running.get(name);
  running.delete(name);
  const gone = (c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((res) => c.once('exit', res)));
  kill(r.agent);
  kill(r.redis);
  await Promise.race([Promise.all([gone(r.agent), gone(r.redis)]), sleep(5000)]);
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

/** Every client's sentinel list, with the serving node's agent first or last (--serving-sentinel). */
function sentinelOrder(serving) {
  const it = NODES.filter((n) => n.name === serving);
  const others = NODES.filter((n) => n.name !== serving);
  return args['serving-sentinel'] === 'last' ? [...others, ...it] : [...it, ...others];
}

/** Runs `write()` every INTERVAL_MS until stopped; each result goes to `ops` as {t, ok, addr, error}. */
function loop(write) {
  const ops = [];
  let on = true;
  (async () => {
    for (let n = 0; on; n++) {
      const t = Date.now();
      try {
        const addr = await write(String(n));
        ops.push({ t, done: Date.now(), ok: true, addr });
      } catch (e) {
        ops.push({ t, done: Date.now(), ok: false, error: String(e?.message ?? e) });
      }
      await sleep(Math.max(0, INTERVAL_MS - (Date.now() - t)));
    }
  })();
  return { ops, stop: () => (on = false) };
}

/** ioredis `sentinels:` with `extra` options on top of the bench's own. */
function ioredisWriter(serving, extra) {
  const client = new Redis({
    sentinels: sentinelOrder(serving).map((n) => ({ host: n.address, port: DISCOVERY_PORT })),
    name: 'cache',
    connectTimeout: OP_TIMEOUT_MS,
    commandTimeout: OP_TIMEOUT_MS,
    // Without it a sentinel that hangs (its node stopped, the TCP handshake still completes) holds
    // ioredis's discovery forever.
    sentinelCommandTimeout: OP_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    ...extra,
  });
  client.on('error', () => undefined);
  const l = loop(async (v) => {
    await client.set('bench', v);
    if ((await client.get('bench')) !== v) throw new Error('read back another value');
    return client.stream?.remoteAddress;
  });
  return { ops: l.ops, stop: () => (l.stop(), client.disconnect()) };
}

/**
 * node-redis `createSentinel` (v5 or v6). It has no command timeout by default: each op is bounded
 * here. v5 retries a refused master connection forever while it holds its reconfiguration: its node
 * clients give up after a few tries so it asks the sentinels again (src/discovery/README.md,
 * node-redis). `sentinelExtra` goes into `sentinelClientOptions`.
 */
function nodeRedisWriter(version, serving, sentinelExtra = {}, giveUpMs = 300) {
  const create = version === 5 ? createSentinel5 : createSentinel6;
  // node-redis sleeps 1 s after a reconfiguration that failed and ignores events meanwhile: giving
  // up after ~300 ms puts its next look (~1.3 s after the kill) just after the agents' switch
  // (downAfter 1 s + a heartbeat). Four tries 200 ms apart (~0.9 s) made that look come at ~1.9 s.
  const giveUp = (retries) => (retries > 0 ? new Error('the master is gone: ask the sentinels again') : giveUpMs);
  const client = create({
    name: 'cache',
    sentinelRootNodes: sentinelOrder(serving).map((n) => ({ host: n.address, port: DISCOVERY_PORT })),
    nodeClientOptions: { socket: { connectTimeout: OP_TIMEOUT_MS, reconnectStrategy: version === 5 ? giveUp : () => 200 } },
    sentinelClientOptions: { ...sentinelExtra, socket: { connectTimeout: OP_TIMEOUT_MS, reconnectStrategy: () => 200, ...sentinelExtra.socket } },
    maxCommandRediscovers: 1000,
  });
  client.on('error', () => undefined);
  const trace = [];
  if (args.trace) {
    const t0 = Date.now();
    client.setTracer({ push: (m) => trace.push(`${Date.now() - t0} ${m}`) });
  }
  const bounded = (p) => Promise.race([p, sleep(OP_TIMEOUT_MS).then(() => Promise.reject(new Error('timeout')))]);
  // Each write waits (bounded) for the first connect: a slow one fails those writes, not all of them.
  const connected = client.connect().catch((e) => e);
  const l = loop(async (v) => {
    const e = await bounded(connected);
    if (e instanceof Error) throw e;
    await bounded(client.set('bench', v));
    if ((await bounded(client.get('bench'))) !== v) throw new Error('read back another value');
    return client.getMasterNode()?.host;
  });
  return {
    ops: l.ops,
    trace,
    stop: () => {
      l.stop();
      void Promise.race([client.destroy(), sleep(2000)]).catch(() => undefined);
    },
  };
}

/** A client in another language that prints one JSON line per op (test/discovery/redis_py_sentinel.py's format). */
function lineWriter(cmd, argvOf) {
  return (serving) => {
    const sentinels = sentinelOrder(serving).map((n) => `${n.address}:${DISCOVERY_PORT}`).join(',');
    const child = start(cmd, argvOf(sentinels));
    const ops = [];
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) if (l) ops.push(JSON.parse(l));
    });
    return { ops, stop: () => kill(child) };
  };
}
const py = (python, settings) => lineWriter(python, (s) => [PY_CLIENT, 'write', s, 'cache', '3600', String(INTERVAL_MS), settings]);
const ruby = (settings) => lineWriter('/usr/bin/ruby', (s) => [RUBY_CLIENT, s, 'cache', '3600', String(INTERVAL_MS), settings]);
const perl = (settings) => lineWriter('/usr/bin/perl', (s) => [PERL_CLIENT, s, 'cache', '3600', String(INTERVAL_MS), settings]);

// node-redis sentinel connections that PING every 200 ms and are dropped after 600 ms without a
// byte (`socketTimeout` counts idle time, so the PINGs keep a quiet subscription alive): a hung
// sentinel's connection errors, node-redis drops that sentinel and asks the others. (The client's
// `commandOptions.timeout` does not bound its own PINGs.)
const PINGED = { pingInterval: 200, socket: { socketTimeout: 600 } };

/** Each mode: the client and the settings its name says (the README's table rows). */
const WRITERS = {
  'redis-py': py('/usr/bin/python3', 'timeouts'),
  'redis-py-kwargs': py('/usr/bin/python3', 'kwargs'),
  'redis-py-kwargs-timeouts': py('/usr/bin/python3', 'kwargs-timeouts'),
  'redis-py-defaults': py('/usr/bin/python3', 'defaults'),
  'redis-py-pypi': py(args['pypi-python'], 'timeouts'),
  'redis-py-pypi-kwargs': py(args['pypi-python'], 'kwargs'),
  'redis-py-pypi-kwargs-timeouts': py(args['pypi-python'], 'kwargs-timeouts'),
  'redis-py-pypi-defaults': py(args['pypi-python'], 'defaults'),
  'redis-py-pypi-retry': py(args['pypi-python'], 'retry'),
  'redis-py-pypi-sentinel-retry0': py(args['pypi-python'], 'sentinel-retry0'),
  'redis-py-pypi-fast': py(args['pypi-python'], 'fast'),
  'redis-py-pypi-sentinels-noretry': py(args['pypi-python'], 'sentinels-noretry'),
  ioredis: (s) => ioredisWriter(s, {}),
  'ioredis-subscribed': (s) => ioredisWriter(s, { failoverDetector: true }),
  // ioredis ends its old connection on +switch-master and waits `disconnectTimeout` (2 s) for a
  // hung master to close it before it reconnects.
  'ioredis-subscribed-disconnect300': (s) => ioredisWriter(s, { failoverDetector: true, disconnectTimeout: OP_TIMEOUT_MS }),
  // `socketTimeout`: a connection with a command outstanding and no data for 300 ms is destroyed,
  // and ioredis asks the sentinels again.
  'ioredis-socket300': (s) => ioredisWriter(s, { socketTimeout: OP_TIMEOUT_MS }),
  'node-redis5': (s) => nodeRedisWriter(5, s),
  'node-redis6': (s) => nodeRedisWriter(6, s),
  'node-redis5-giveup100': (s) => nodeRedisWriter(5, s, {}, 100),
  'node-redis5-pinged': (s) => nodeRedisWriter(5, s, PINGED),
  'node-redis6-pinged': (s) => nodeRedisWriter(6, s, PINGED),
  ruby: ruby('timeouts'),
  'ruby-defaults': ruby('defaults'),
  perl: perl('timeouts'),
  'perl-defaults': perl('defaults'),
};
for (const m of MODES) if (!WRITERS[m]) throw new Error(`unknown mode ${m}: one of ${Object.keys(WRITERS).join(', ')}`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return Number.isFinite(m) ? m : null;
};

/**
 * The failed node comes back (a fresh agent and Redis) while the client keeps writing: when does
 * the discovery service name it again (the first agent that does: each runs its own hold-down, and
 * a client asks whichever answers first), and when does the client write there? A client that has
 * not moved FAIL_BACK_MS after the switch "stays".
 */
async function failBack(writer, master) {
  const restartedAt = Date.now();
  await startNode(master);
  // A survivor may still name the failed node (it lagged the agent the client asked): its answer
  // counts only once it has named another node.
  const movedAway = new Set([master.name]);
  let switchedAt;
  let back;
  while (Date.now() - restartedAt < 60_000) {
    if (!switchedAt) {
      const named = await Promise.all(NODES.map((n) => masterAt(n.address)));
      NODES.forEach((n, i) => {
        if (named[i] && named[i] !== master.address) movedAway.add(n.name);
        else if (named[i] === master.address && movedAway.has(n.name)) switchedAt ??= Date.now();
      });
    }
    back = writer.ops.find((o) => o.t >= restartedAt && o.ok && o.addr?.startsWith(master.address));
    if (back || (switchedAt && Date.now() - switchedAt > FAIL_BACK_MS)) break;
    await sleep(50);
  }
  const end = back?.done ?? Date.now();
  return {
    switchedMs: switchedAt ? switchedAt - restartedAt : null,
    // Negative when the client got there before the poll (every ~50–300 ms) saw an agent name it.
    followedMs: back && switchedAt ? back.done - switchedAt : null,
    backMs: back ? back.done - restartedAt : null,
    failedOps: writer.ops.filter((o) => o.t >= restartedAt && o.t < end && !o.ok).length,
  };
}

async function runMode(mode) {
  const trials = [];
  for (let i = 0; i < TRIALS; i++) {
    const master = await settled();
    // A fresh client per trial: one still connected to the node it found at start-up (or after the
    // previous trial) would not notice the kill at all.
    const writer = WRITERS[mode](master.name);
    let restarted = false;
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
      // When the write ended: a client that retries inside one call (Perl's `reconnect`, redis-py
      // 6+'s default Retry) may begin it right after the kill and finish it on the new master.
      const trial = { node: master.name, resumeMs: first ? first.done - killedAt : null, resumedOn: first?.addr ?? null, failedOps: failed };
      const errors = [...new Set(writer.ops.filter((o) => o.t >= killedAt && !o.ok && (!first || o.t < first.t)).map((o) => o.error))];
      trial.errors = errors.slice(0, 5);
      // The node is killed (a stopped one too) and comes back for the fail-back.
      await removeNode(master.name);
      if (FAIL_BACK_MS > 0 && first) {
        restarted = true;
        trial.failBack = await failBack(writer, master);
      }
      trials.push(trial);
      const fb = trial.failBack;
      console.log(
        `${mode} ${FAULT} trial ${i + 1}: ${master.name} down, first write after ${trial.resumeMs ?? `> ${RESUME_LIMIT_MS}`} ms on ${trial.resumedOn}, ${failed} failed` +
          (fb ? `; back: named after ${fb.switchedMs} ms, client ${fb.backMs === null ? `stays (> ${FAIL_BACK_MS} ms)` : `there after ${fb.backMs} ms (${fb.followedMs} after the switch)`}, ${fb.failedOps} failed` : ''),
      );
      if (args.trace && writer.trace) console.log(writer.trace.slice(-60).join('\n'));
    } finally {
      writer.stop();
      if (running.has(master.name) && !restarted) await removeNode(master.name);
    }
    if (!restarted) await startNode(master);
  }
  const times = trials.map((t) => t.resumeMs ?? Infinity);
  const fbs = trials.map((t) => t.failBack).filter(Boolean);
  return {
    mode,
    trials: trials.length,
    medianMs: median(times),
    worstMs: Math.max(...times) === Infinity ? null : Math.max(...times),
    unresumed: trials.filter((t) => t.resumeMs === null).length,
    failedOpsMedian: median(trials.map((t) => t.failedOps)),
    failedOpsTotal: trials.reduce((n, t) => n + t.failedOps, 0),
    failBack: fbs.length
      ? {
          trials: fbs.length,
          switchedMsMedian: median(fbs.map((f) => f.switchedMs ?? Infinity)),
          followedMsMedian: median(fbs.map((f) => (f.backMs === null ? Infinity : f.followedMs))),
          followedMsWorst: fbs.some((f) => f.backMs === null) ? null : Math.max(...fbs.map((f) => f.followedMs)),
          stayed: fbs.filter((f) => f.backMs === null).length,
          failedOpsTotal: fbs.reduce((n, f) => n + f.failedOps, 0),
        }
      : null,
    runs: trials,
  };
}

const version = (cmd, argv) => {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return 'unknown';
  }
};
const ran = (prefix) => MODES.some((m) => m.startsWith(prefix));
const CLIENTS = {
  'redis-py': ran('redis-py') ? `Debian python3-redis ${version('/usr/bin/python3', ['-c', 'import redis; print(redis.__version__)'])}` : 'not run',
  'redis-py-pypi': ran('redis-py-pypi') ? `PyPI redis ${version(args['pypi-python'], ['-c', 'import redis; print(redis.__version__)'])} (${args['pypi-python']})` : 'not run',
  ioredis: `npm ioredis ${require('ioredis/package.json').version} (devDependency)`,
  'node-redis5': `npm redis@${require('redis5/package.json').version} (devDependency redis5)`,
  'node-redis6': `npm redis@${require('redis6/package.json').version} (devDependency redis6)`,
  ruby: ran('ruby') ? `Debian ruby-redis ${version('/usr/bin/ruby', ['-rredis', '-e', 'print Redis::VERSION'])}` : 'not run',
  perl: ran('perl') ? `Debian libredis-perl ${version('/usr/bin/perl', ['-MRedis', '-e', 'print $Redis::VERSION'])}` : 'not run',
};
const results = [];
const file = args.json ?? join(root, 'bench/results', `clients-sentinel-${FAULT}-${new Date().toISOString().slice(0, 16).replace(':', '')}Z.json`);
function save() {
  const out = {
    bench: 'clients-sentinel',
    fault: FAULT === 'kill' ? 'kill -9 of the serving node (agent and Redis)' : 'SIGSTOP of the serving node (agent and Redis): it hangs, connections stay open',
    date: new Date().toISOString(),
    node: process.version,
    command: `node bench/clients-sentinel.mjs ${process.argv.slice(2).join(' ')}`,
    servingSentinel: args['serving-sentinel'],
    setup: {
      nodes: NODES.length,
      addresses: NODES.map((n) => n.address),
      service: 'first-healthy, redis check (1 s interval, rise/fall 2)',
      peer: 'interval 250 ms, downAfter 1 s, upAfter 3 s (defaults); maxUpAfter 3 s',
      writeEveryMs: INTERVAL_MS,
      opTimeoutMs: OP_TIMEOUT_MS,
      resumeLimitMs: RESUME_LIMIT_MS,
      failBackWatchMs: FAIL_BACK_MS,
      clients: CLIENTS,
    },
    results,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}
try {
  for (const n of NODES) await startNode(n);
  for (const mode of MODES) {
    results.push(await runMode(mode));
    save(); // after each mode: a long run that is stopped keeps what it measured
  }
} catch (e) {
  results.push({ mode: 'aborted', error: String(e?.stack ?? e) });
  save();
  throw e;
} finally {
  children.forEach((c) => kill(c));
  rmSync(dir, { recursive: true, force: true });
}

console.log('\nmode                              trials  median ms  worst ms  failed ops (median/trial, total)  fail-back: named / client after (median ms), stayed');
for (const r of results) {
  const fb = r.failBack ? `${r.failBack.switchedMsMedian} / ${r.failBack.followedMsMedian ?? 'stays'}, ${r.failBack.stayed} of ${r.failBack.trials}` : '';
  console.log(`${r.mode.padEnd(33)} ${String(r.trials).padStart(6)} ${String(r.medianMs ?? 'never').padStart(10)} ${String(r.worstMs ?? 'never').padStart(9)}  ${r.failedOpsMedian}, ${r.failedOpsTotal}  ${fb}`);
}
console.log(`\nresults: ${file}`);
