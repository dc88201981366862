#!/usr/bin/env node
// Memory at rest (issue 17: ≤ 60 MB RSS with one answer thread, ≤ 12 MB per extra thread), as
// installed: the packaged bundle (scripts/package.mjs; the .deb's /usr/lib/clusterdns/ and the npm
// tarball's lib/ hold the same files) run with the flags of its command's shebang
// (build/npm/bin/clusterdns.js) and the environment of deploy/clusterdns.service (its Environment=
// lines; --no-unit-env leaves them out). `node bin/clusterdns.js` would run the unbundled dist/,
// which nobody installs: `--bin dist` measures it for comparison.
//
// For each case: a 3-node cluster on loopback (discovery and the HTTP API on, two services), waited
// on until every agent serves and sees every node up, then left alone for --settle seconds (default
// 240: RSS still grows for minutes at rest; it is read at 20 s too); then each agent's
// /proc/PID/status (VmRSS, RssAnon, RssFile, RssShmem) and its threads' V8 heaps with --heaps
// (bench/memory-probe.cjs). Cases: Node 20 with one answer thread, Node 24 with dns.workers 1, 2
// and 3; and, for the floor, a bare Node at rest and a bare Node with one empty worker thread, each
// with the same flags.
//
//   npm run bench:memory [-- --settle 240 --repeat 1 --cases 20:1,24:1,24:2,24:3 --bin bundle|dist --skip-package --no-unit-env]
//   npm run bench:memory -- --cli /tmp/other/build/npm/bin/clusterdns.js   # another build (e.g. the last release)
//   npm run bench:memory -- --flags '--max-semi-space-size=1' --env MALLOC_ARENA_MAX=1   # a variant: flags after the shebang's, environment
//   npm run bench:memory -- --heaps      # also each thread's V8 heap (a probe in every thread)
//   npm run bench:memory -- --flood 10   # then dnsperf on node1 for 10 s (as fast as it answers): answers/s, its
//                                        # RSS every 0.5 s during the flood and 5 s after, answer threads restarted
//
// Loopback block 127.0.210.0/24. Results: bench/results/memory-<time>.json and .md.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
if (process.argv.includes('--help')) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 24).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
const SETTLE = Number(arg('--settle', 240));
const EARLY_S = 20;
const REPEAT = Number(arg('--repeat', 1));
const CASES = arg('--cases', '20:1,24:1,24:2,24:3')
  .split(',')
  .map((c) => c.split(':'))
  .map(([major, workers]) => ({ major, workers: Number(workers) }));
const BIN = arg('--bin', 'bundle');
const STAMP = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d\d-\d+Z$/, 'Z');
const OUT = arg('--out', join(ROOT, 'bench', 'results', `memory-${STAMP}`));
const A = (i) => `127.0.210.${i}`;
const FLOOD_SOURCE = '127.0.210.50';
const DNS = 6690, PEER = 6691, HTTP = 6692, DISC = 6693;
const SECRET = 'bench-secret-0123456789abcdef-0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!['bundle', 'dist'].includes(BIN)) throw new Error('--bin is bundle or dist');
if (BIN === 'bundle' && !arg('--cli') && !process.argv.includes('--skip-package')) execFileSync('npm', ['run', 'package', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
if (BIN === 'dist' && !existsSync(join(ROOT, 'dist'))) execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
// The command as installed: its script and the Node flags of its shebang line.
const CLI = arg('--cli') ? resolve(arg('--cli')) : BIN === 'bundle' ? join(ROOT, 'build', 'npm', 'bin', 'clusterdns.js') : join(ROOT, 'bin', 'clusterdns.js');
const NODE_ARGS = [...readFileSync(CLI, 'utf8').split('\n')[0].replace(/^#!\S*(env -S )?node\s*/, '').split(/\s+/).filter((a) => a.startsWith('--')), ...(arg('--flags') ?? '').split(/\s+/).filter(Boolean)];
// The environment deploy/clusterdns.service gives the agent (its Environment= lines), then --env;
// --no-unit-env: the command alone, as `npm install -g` and a shell run it.
const pairs = (words) => words.filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
const UNIT_ENV = process.argv.includes('--no-unit-env') ? [] : [...readFileSync(join(ROOT, 'deploy', 'clusterdns.service'), 'utf8').matchAll(/^Environment=(.*)$/gm)].flatMap((m) => m[1].split(/\s+/));
const ENV = Object.fromEntries([...pairs(UNIT_ENV), ...pairs((arg('--env') ?? '').split(/\s+/))]);
const FLOOD = Number(arg('--flood', 0));
// --heaps: each thread's V8 heap, written by bench/memory-probe.cjs loaded into every thread (it
// costs a timer per thread: RSS figures for the README come from runs without it).
const HEAPS = process.argv.includes('--heaps');

const nodeBinary = (major) => (major === '20' && process.version.startsWith('v20.') ? process.execPath : execFileSync(join(ROOT, 'scripts', 'node-binary.sh'), [major], { encoding: 'utf8' }).trim());

const dir = mkdtempSync(join(tmpdir(), 'clusterdns-memory-'));
const procs = new Set();
function start(cmd, args, opts = {}) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  p.out = '';
  p.stdout.on('data', (d) => (p.out = (p.out + d).slice(-20_000)));
  p.stderr.on('data', (d) => (p.out = (p.out + d).slice(-20_000)));
  procs.add(p);
  p.on('exit', () => procs.delete(p));
  return p;
}
function stop(p) {
  try {
    process.kill(-p.pid, 'SIGKILL');
  } catch {}
}
process.on('exit', () => {
  for (const p of procs) stop(p);
  rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

/** /proc/PID/status in kB → MB. */
function procMemory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const mb = (field) => Math.round(kb(field) / 102.4) / 10;
  return { rss: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile'), shmem: mb('RssShmem'), threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1]) };
}

function configYaml(workers) {
  return [
    'zone: cluster.test',
    `secret: "${SECRET}"`,
    // Rate limiting as by default, but not for the flood's source (dnsperf -a FLOOD_SOURCE).
    `dns: { port: ${DNS}, workers: ${workers}, rateLimit: { exempt: ["${FLOOD_SOURCE}/32"] } }`,
    `peer: { port: ${PEER} }`,
    `http: { port: ${HTTP} }`,
    `discovery: { enabled: true, port: ${DISC} }`,
    'nodes:',
    ...[1, 2, 3].map((i) => `  - { name: node${i}, address: ${A(i)} }`),
    'services:',
    '  - { name: redis, port: 6379 }',
    '  - { name: pg, port: 5432 }',
    '',
  ].join('\n');
}

async function status(i) {
  const res = await fetch(`http://${A(i)}:${HTTP}/v1/status`, { signal: AbortSignal.timeout(2000) });
  return res.json();
}

async function cluster(node, workers) {
  const cfg = join(dir, `cluster-${workers}.yaml`);
  writeFileSync(cfg, configYaml(workers));
  const probeDir = join(dir, `heaps-${workers}-${Date.now()}`);
  mkdirSync(probeDir);
  const probe = HEAPS ? { NODE_OPTIONS: `--require ${join(ROOT, 'bench', 'memory-probe.cjs')}`, MEMORY_PROBE_DIR: probeDir } : {};
  const agents = [1, 2, 3].map((i) => start(node, [...NODE_ARGS, CLI, 'agent', '--config', cfg, '--node', `node${i}`], { env: { ...process.env, ...ENV, ...probe, CLUSTERDNS_LOG_FORMAT: 'json' } }));
  try {
    const end = Date.now() + 30_000;
    for (;;) {
      const ok = await Promise.all([1, 2, 3].map((i) => status(i).then((s) => s.serving && s.nodes.every((n) => n.up)).catch(() => false)));
      if (ok.every(Boolean)) break;
      if (Date.now() > end || agents.some((a) => a.exitCode !== null)) throw new Error(`the cluster did not come up:\n${agents.map((a) => a.out.slice(-2000)).join('\n')}`);
      await sleep(200);
    }
    // RSS is read twice: EARLY_S seconds after the cluster is up (what earlier runs of this bench
    // reported) and after --settle, the figure: RSS still grows for minutes at rest, as the
    // heartbeat and watchdog paths get optimized in each thread (README, "Threads": memory).
    await sleep(Math.min(EARLY_S, SETTLE) * 1000);
    const early = agents.map((a) => procMemory(a.pid).rss);
    await sleep(Math.max(0, SETTLE - EARLY_S) * 1000);
    const rows = agents.map((a, k) => ({ ...procMemory(a.pid), early: early[k] }));
    for (const [k, i] of [1, 2, 3].entries()) {
      const s = await status(i);
      rows[k].threads_ = s.dns.threads?.length ?? 1;
      rows[k].heaps = HEAPS ? heaps(probeDir, agents[k].pid) : null;
      if (agents[k].exitCode !== null) throw new Error(`node${i} ended`);
    }
    if (FLOOD > 0) rows[0].flood = await flood(agents[0]);
    return rows;
  } finally {
    for (const a of agents) stop(a);
    await sleep(300);
  }
}

/** dnsperf on node1 for FLOOD seconds, as fast as it answers; node1's RSS meanwhile and 5 s after. */
async function flood(agent) {
  const queries = join(dir, 'queries.txt');
  writeFileSync(queries, ['node1.cluster.test A', 'node2.cluster.test A', 'redis.cluster.test A', '_pg._tcp.cluster.test SRV', 'cluster.test SOA', 'cluster.test NS', 'nx.cluster.test A'].join('\n') + '\n');
  const before = await status(1);
  const p = start('dnsperf', ['-s', A(1), '-a', FLOOD_SOURCE, '-p', String(DNS), '-d', queries, '-l', String(FLOOD), '-c', '4', '-q', '200', '-t', '2']);
  const ended = new Promise((r) => p.on('exit', r));
  const rss = [];
  let done = false;
  ended.then(() => (done = true));
  while (!done) {
    rss.push(procMemory(agent.pid).rss);
    await Promise.race([sleep(500), ended]);
  }
  await sleep(5000);
  const after = await status(1);
  const restarts = (s) => (s.dns.threads ?? []).reduce((n, t) => n + t.restarts, 0);
  return {
    answersPerSecond: Math.round(Number(/Queries per second:\s+([\d.]+)/.exec(p.out)?.[1] ?? 0)),
    lost: Number(/Queries lost:\s+(\d+)/.exec(p.out)?.[1] ?? NaN),
    peakRss: Math.max(...rss),
    rssAfter: procMemory(agent.pid).rss,
    threadRestarts: restarts(after) - restarts(before),
    threadsServing: (after.dns.threads ?? []).filter((t) => t.state === 'serving').length,
  };
}

/** The heaps bench/memory-probe.cjs wrote for the threads of `pid` that still run (written in the last 3 s). */
function heaps(probeDir, pid) {
  return readdirSync(probeDir)
    .filter((f) => f.startsWith(`${pid}-`))
    .map((f) => join(probeDir, f))
    .filter((f) => Date.now() - statSync(f).mtimeMs < 3000)
    .map((f) => JSON.parse(readFileSync(f, 'utf8')))
    .sort((a, b) => (a.thread === 'main' ? -1 : b.thread === 'main' ? 1 : a.thread.localeCompare(b.thread)));
}

/** A bare Node at rest with the same flags, with `workers` empty worker threads. */
async function bare(node, workers) {
  const code = `const { Worker } = require('node:worker_threads'); for (let i = 0; i < ${workers}; i++) new Worker('setInterval(() => {}, 1000)', { eval: true }); setInterval(() => {}, 1000);`;
  const p = start(node, [...NODE_ARGS, '-e', code], { env: { ...process.env, ...ENV } });
  try {
    await sleep(Math.min(SETTLE, 10) * 1000);
    return procMemory(p.pid);
  } finally {
    stop(p);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = [];
for (const c of CASES) {
  const node = nodeBinary(c.major);
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const floor = { none: await bare(node, 0), oneWorker: await bare(node, 1) };
  const runs = [];
  for (let r = 0; r < REPEAT; r++) runs.push(await cluster(node, c.workers));
  const all = runs.flat();
  const row = { node: version, workers: c.workers, answerThreads: all[0].threads_, bin: BIN, flags: NODE_ARGS.join(' '), floor, agents: all, median: {} };
  for (const k of ['rss', 'anon', 'file', 'shmem', 'early']) row.median[k] = Math.round(median(all.map((a) => a[k])) * 10) / 10;
  results.push(row);
  const floods = all.filter((a) => a.flood).map((a) => a.flood);
  if (floods.length) row.flood = { answersPerSecond: median(floods.map((f) => f.answersPerSecond)), peakRss: Math.max(...floods.map((f) => f.peakRss)), rssAfter: median(floods.map((f) => f.rssAfter)), threadRestarts: floods.reduce((n, f) => n + f.threadRestarts, 0) };
  process.stdout.write(`Node ${version} workers ${c.workers}: RSS ${all.map((a) => a.rss).join(' / ')} MB (median ${row.median.rss}; anon ${row.median.anon}, file ${row.median.file}; ${EARLY_S} s after up: ${row.median.early}); bare Node ${floor.none.rss}, + one empty worker ${floor.oneWorker.rss}${row.flood ? `; flood ${row.flood.answersPerSecond} answers/s, peak RSS ${row.flood.peakRss}, after ${row.flood.rssAfter}, thread restarts ${row.flood.threadRestarts}` : ''}\n`);
}

mkdirSync(dirname(OUT), { recursive: true });
const doc = { date: new Date().toISOString(), command: `node bench/memory.mjs ${process.argv.slice(2).map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`.trim(), settleSeconds: SETTLE, bin: BIN, cli: relative(ROOT, CLI), flags: NODE_ARGS, env: ENV, results };
writeFileSync(`${OUT}.json`, JSON.stringify(doc, null, 2) + '\n');
const heapCell = (a) => (a.heaps ? a.heaps.map((h) => `${h.thread} ${h.used}/${h.total}`).join(', ') : 'n/a');
const md = [
  `# Memory at rest, ${doc.date}`,
  '',
  `\`${doc.command}\`: 3-node cluster on loopback, ${relative(ROOT, CLI)} run as \`${Object.entries(ENV).map(([k, v]) => `${k}=${v} `).join('')}node ${NODE_ARGS.join(' ')}\`, ${SETTLE} s at rest after every node is up; MB (MiB) from /proc/PID/status, median of the ${REPEAT * 3} agents; ${HEAPS ? 'V8 heaps used/total MB per thread (bench/memory-probe.cjs in every thread: adds a little)' : 'V8 heaps: run with --heaps'}.`,
  '',
  `| Node | dns.workers | answer threads | RSS (each agent) | RSS median | RssAnon | RssFile | RSS median ${EARLY_S} s after up | V8 heaps (one agent) | bare Node | bare Node + 1 empty worker |`,
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.node} | ${r.workers} | ${r.answerThreads} | ${r.agents.map((a) => a.rss).join(' / ')} | **${r.median.rss}** | ${r.median.anon} | ${r.median.file} | ${r.median.early} | ${heapCell(r.agents[0])} | ${r.floor.none.rss} | ${r.floor.oneWorker.rss} |`),
  '',
  ...(FLOOD > 0
    ? [
        `Then dnsperf on node1 for ${FLOOD} s (4 clients, as fast as it answers), in each run:`,
        '',
        '| Node | dns.workers | answers/s (median) | peak RSS during the flood | RSS 5 s after (median) | answer threads restarted |',
        '| --- | --- | --- | --- | --- | --- |',
        ...results.map((r) => `| ${r.node} | ${r.workers} | ${r.flood.answersPerSecond} | ${r.flood.peakRss} | ${r.flood.rssAfter} | ${r.flood.threadRestarts} |`),
        '',
      ]
    : []),
];
writeFileSync(`${OUT}.md`, md.join('\n'));
process.stdout.write(`${OUT}.md\n`);
