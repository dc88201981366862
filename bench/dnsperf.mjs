#!/usr/bin/env node
// DNS serving benchmark: one clusterdns agent against NSD serving the same zone, measured by dnsperf
// on loopback. Each server is pinned to CPU 0 and dnsperf to CPU 1; the two servers are measured in
// turn (agent, NSD, agent, NSD, ...) after a warm-up of each, and the best run of each is compared.
//
//   npm run bench                      # 2 runs of 15 s per server
//   npm run bench -- --seconds 30 --runs 3
//   npm run bench -- --help
//
// See bench/README.md for what is measured and how to read the numbers.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));

const HELP = `usage: node bench/dnsperf.mjs [options]

  --seconds N        length of each measured run (default 15)
  --runs N           measured runs per server, alternating agent/NSD (default 2)
  --warmup N         warm-up seconds per server before measuring (default 5)
  --clients N        dnsperf -c (default 10)
  --outstanding N    dnsperf -q, queries in flight (default 100)
  --qps N            dnsperf -Q, cap the send rate (default: no cap, as fast as answers come)
  --no-edns          send queries without EDNS(0) (default: EDNS on, as resolvers send)
  --dnssec           sign the zone (a fresh ECDSA P-256 CSK, both servers) and send every query with DO=1
  --port N           DNS port for both servers (default 5399)
  --workers N        answer threads: the agent's dns.workers and NSD's server-count (default 1); the
                     servers are pinned to CPUs 0..N-1, dnsperf to CPU 1 (N > 1 needs Node >= 22.12)
  --agent-bin FILE   clusterdns entry point to benchmark (default: bin/clusterdns.js of this repo)
  --node-args ARGS   node options for the measured agent (default: the ones bin/clusterdns.js's
                     shebang gives every installed agent, "--max-semi-space-size=2"
  --cpu-prof DIR     run the agent under node --cpu-prof, write the profile to DIR and print its top
  --only agent|nsd   measure one server only (no ratio)
  --out FILE         result JSON (default bench/results/dnsperf-<date>.json)
  --no-save          do not write the result JSON
  --strict           exit 1 when a target (agent >= 0.45 of NSD, RSS < 80 MB) is missed
  --wait-quiet N     before each run, wait up to N s for the CPUs to be free of other load (default 20)
  --nice N           run servers and dnsperf at this nice level (e.g. -5 on a shared machine; default 0)
  --keep             keep the temporary directory (configs, zone, query file, logs)
`;

/** The node options in bin/clusterdns.js's shebang: the agent is measured as it is installed. */
function shebangNodeArgs() {
  const first = readFileSync(new URL('../bin/clusterdns.js', import.meta.url), 'utf8').split('\n')[0];
  return first.replace(/^#!\S*env -S node\s*/, '').split(/\s+/).filter((a) => a.startsWith('--'));
}

// ---------------------------------------------------------------------------------------------
// options

function parseArgs(argv) {
  const o = {
    seconds: 15, runs: 2, warmup: 5, clients: 10, outstanding: 100, qps: 0, edns: true, port: 5399,
    agentBin: join(ROOT, 'bin', 'clusterdns.js'), cpuProf: '', only: '', out: '', save: true, strict: false, keep: false,
    waitQuiet: 20, nice: 0, nodeArgs: shebangNodeArgs(), workers: 1,
  };
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) die(`${name} needs a number ≥ ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--seconds': o.seconds = num(a, next(), 1); break;
      case '--runs': o.runs = num(a, next(), 1); break;
      case '--workers': o.workers = WORKERS = num(a, next(), 1); break;
      case '--warmup': o.warmup = num(a, next(), 0); break;
      case '--clients': o.clients = num(a, next(), 1); break;
      case '--outstanding': o.outstanding = num(a, next(), 1); break;
      case '--qps': o.qps = num(a, next(), 1); break;
      case '--no-edns': o.edns = false; break;
      case '--dnssec': o.dnssec = true; break;
      case '--port': o.port = num(a, next(), 1); break;
      case '--agent-bin': o.agentBin = resolve(next()); break;
      case '--cpu-prof': o.cpuProf = resolve(next()); break;
      case '--node-args': o.nodeArgs = next().split(/\s+/).filter(Boolean); break;
      case '--only': o.only = next(); if (!['agent', 'nsd'].includes(o.only)) die('--only takes agent or nsd'); break;
      case '--out': o.out = resolve(next()); break;
      case '--no-save': o.save = false; break;
      case '--strict': o.strict = true; break;
      case '--keep': o.keep = true; break;
      case '--wait-quiet': o.waitQuiet = num(a, next(), 0); break;
      case '--nice': o.nice = Number(next()); if (!Number.isInteger(o.nice) || o.nice < -20 || o.nice > 19) die('--nice takes -20..19'); break;
      case '-h': case '--help': process.stdout.write(HELP); process.exit(0);
      default: die(`unknown option ${a}\n\n${HELP}`);
    }
  }
  return o;
}

function die(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// processes: every child gets its own process group, and every group is killed on the way out

const children = new Set();

function start(name, cmd, args, logFile) {
  const out = logFile ? openLog(logFile) : 'ignore';
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] });
  const rec = { name, child, pid: child.pid, exited: false, code: null, signal: null };
  child.on('exit', (code, signal) => Object.assign(rec, { exited: true, code, signal }));
  child.on('error', (e) => Object.assign(rec, { exited: true, error: e }));
  children.add(rec);
  return rec;
}

function openLog(file) {
  // spawn wants a file descriptor; a sync open keeps it simple.
  return require('node:fs').openSync(file, 'a');
}

function killGroup(rec, signal) {
  if (!rec.pid) return;
  try {
    process.kill(-rec.pid, signal);
  } catch {
    /* group gone */
  }
}

async function stop(rec, graceMs = 3000) {
  if (!children.has(rec)) return;
  killGroup(rec, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (Date.now() < until && groupAlive(rec.pid)) await sleep(50);
  killGroup(rec, 'SIGKILL');
  children.delete(rec);
}

function groupAlive(pgid) {
  return groupPids(pgid).length > 0;
}

async function stopAll() {
  await Promise.all([...children].map((c) => stop(c)));
}

process.on('exit', () => {
  for (const c of children) killGroup(c, 'SIGKILL');
});
/** The temporary directory, removed on the way out unless --keep. */
let tempDir = '';
let keepTemp = false;
let stopping = false;
function removeTemp() {
  if (tempDir && !keepTemp) rmSync(tempDir, { recursive: true, force: true });
  else if (tempDir) log(`kept ${tempDir}`);
  tempDir = '';
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping every process`);
    stopAll()
      .then(removeTemp)
      .finally(() => process.exit(130));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// /proc: CPU ticks of a process group, per-CPU busy ticks, memory

const CLK_TCK = Number(tryExec('getconf', ['CLK_TCK']) || 100);

function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return '';
  }
}

function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): field n is f[n - 3]
    return { state: f[0], pgrp: Number(f[2]), utime: Number(f[11]), stime: Number(f[12]) };
  } catch {
    return undefined;
  }
}

function groupPids(pgid) {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(d);
    if (st && st.pgrp === pgid && st.state !== 'Z') pids.push(Number(d));
  }
  return pids;
}

/** CPU ticks used so far by every live process of the group (children that already exited are lost,
 * which is fine: servers do not fork per query). */
function groupTicks(pgid) {
  let t = 0;
  for (const pid of groupPids(pgid)) {
    const st = procStat(pid);
    if (st) t += st.utime + st.stime;
  }
  return t;
}

/** Busy and total ticks of each CPU from /proc/stat. */
function cpuTicks() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    out[m[1]] = { busy, total: busy + idle + iowait };
  }
  return out;
}

function memory(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMB: NaN, peakMB: NaN };
  }
}

// ---------------------------------------------------------------------------------------------
// the cluster, the zone, the queries

const ZONE = 'cluster.test';
const NSD_ADDR = '127.0.10.1';
const AGENT_ADDR = '127.0.10.11';

/**
 * Rate limiting for the measured runs: off ("agent"), or on with a limit above any one response's
 * rate in the mix from dnsperf's one source ("agent, RRL on"), so that every query pays for the
 * rate table and cookie check but none is limited: what a varied client costs (issue 9).
 */
const RRL_ON = 100_000;
/** --workers: the agent's answer threads and NSD's server processes. */
let WORKERS = 1;

function benchConfig(port, rrl = false) {
  // Five nodes (two with IPv6), a first-healthy and an all-healthy service. node1 (127.0.10.11) is
  // measured; nodes 2-5 run only so that node1 hears a majority. Slow heartbeats and a long
  // downAfter: a server starved of CPU by the benchmark must not be declared down mid-run.
  return `# written by bench/dnsperf.mjs
zone: ${ZONE}
ttl: 30
negativeTtl: 5
secret: "bench-secret-0123456789abcdef0123456789"
dns: { port: ${port}, workers: ${WORKERS}, rateLimit: { responsesPerSecond: ${rrl ? RRL_ON : 0} } }
peer: { port: ${port + 2000}, interval: 500ms, downAfter: 5s }
http: { port: ${port + 3000} }
nodes:
  - { name: node1, address: ${AGENT_ADDR}, address6: "2001:db8::11", listen: [${AGENT_ADDR}], rack: a }
  - { name: node2, address: 127.0.10.12, rack: b }
  - { name: node3, address: 127.0.10.13, address6: "2001:db8::13", listen: [127.0.10.13], rack: c }
  - { name: node4, address: 127.0.10.14, rack: a }
  - { name: node5, address: 127.0.10.15, rack: b }
services:
  - { name: redis-12000, port: 12000, nodes: [node1, node2], policy: first-healthy }
  - { name: pg, port: 5432, nodes: [node3, node4, node5], policy: all-healthy }
`;
}

/** A seeded PRNG, so the query file is the same on every run. */
function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What resolvers ask a cluster zone, by weight: node names and nsK (A, some AAAA), the apex NS/SOA
 * they revalidate, services (A and SRV), NODATA, and NXDOMAIN (typos, probes). About one name in five
 * comes with random letter case (0x20, as some resolvers send it).
 */
const MIX = [
  { w: 30, what: 'node A', gen: (r) => [`node${1 + Math.floor(r() * 5)}`, 'A'] },
  { w: 8, what: 'node AAAA', gen: (r) => [`node${1 + Math.floor(r() * 5)}`, 'AAAA'] },
  { w: 10, what: 'nsK A', gen: (r) => [`ns${1 + Math.floor(r() * 5)}`, 'A'] },
  { w: 3, what: 'nsK AAAA', gen: (r) => [`ns${1 + Math.floor(r() * 5)}`, 'AAAA'] },
  { w: 6, what: 'apex NS', gen: () => ['', 'NS'] },
  { w: 5, what: 'apex SOA', gen: () => ['', 'SOA'] },
  { w: 4, what: 'apex A', gen: () => ['', 'A'] },
  { w: 10, what: 'service A', gen: (r) => [r() < 0.5 ? 'redis-12000' : 'pg', 'A'] },
  { w: 8, what: 'service SRV', gen: (r) => [r() < 0.5 ? '_redis-12000._tcp' : '_pg._tcp', 'SRV'] },
  { w: 4, what: 'NODATA', gen: (r) => [['node2', 'pg', 'ns3', ''][Math.floor(r() * 4)], ['MX', 'TXT', 'AAAA'][Math.floor(r() * 3)]] },
  { w: 12, what: 'NXDOMAIN', gen: (r) => [['node6', 'www', 'redis', `x${Math.floor(r() * 1000)}`, 'mail', 'node1.old'][Math.floor(r() * 6)], 'A'] },
];

function queryFile(lines = 5000) {
  const r = mulberry32(20261125);
  const total = MIX.reduce((s, m) => s + m.w, 0);
  const out = [];
  const counts = Object.fromEntries(MIX.map((m) => [m.what, 0]));
  let mixedCase = 0;
  for (let i = 0; i < lines; i++) {
    let x = r() * total;
    const m = MIX.find((k) => (x -= k.w) < 0) ?? MIX[0];
    const [label, type] = m.gen(r);
    let name = label ? `${label}.${ZONE}` : ZONE;
    if (r() < 0.2) {
      name = [...name].map((c) => (r() < 0.5 ? c.toUpperCase() : c)).join('');
      if (name !== name.toLowerCase()) mixedCase++;
    }
    counts[m.what]++;
    out.push(`${name} ${type}`);
  }
  return { text: `${out.join('\n')}\n`, counts, mixedCase, lines };
}

// ---------------------------------------------------------------------------------------------
// a small DNS client: readiness and answer parity

let packet;
try {
  packet = require('dns-packet');
} catch {
  packet = undefined;
}

function ask(server, port, name, type, timeoutMs = 1000) {
  return new Promise((resolvePromise) => {
    const sock = dgram.createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    const q = packet.encode({
      type: 'query', id, flags: 0,
      questions: [{ type, name, class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] }],
    });
    const done = (v) => {
      clearTimeout(timer);
      try { sock.close(); } catch { /* closed */ }
      resolvePromise(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('message', (msg) => {
      try {
        const d = packet.decode(msg);
        if (d.id === id) done({ msg: d, size: msg.length });
      } catch {
        done({ error: 'undecodable' });
      }
    });
    sock.send(q, port, server);
  });
}

/** Waits until the server answers the apex A with every node (for the agent: the cluster is up). */
async function waitReady(rec, server, port, helpers = [], timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < until) {
    for (const r of [rec, ...helpers]) {
      if (r.exited) throw new Error(`${r.name} exited (code ${r.code}, signal ${r.signal}) before ${rec.name} answered: see its log`);
    }
    const r = await ask(server, port, ZONE, 'A', 300);
    if (r?.msg) last = `${r.msg.rcode}, ${r.msg.answers.length} answers`;
    if (r?.msg?.rcode === 'NOERROR' && r.msg.answers.length === 5) return;
    await sleep(200);
  }
  throw new Error(`${rec.name} did not answer ${ZONE} A with all 5 nodes on ${server}:${port} within ${timeoutMs / 1000} s (last: ${last})`);
}

const rrKey = (r) => `${r.name.toLowerCase()} ${r.type} ${r.ttl} ${JSON.stringify(r.data, (_, v) => (typeof v === 'string' ? v.toLowerCase() : v))}`;
// RRSIGs are left out: ECDSA signatures are randomised, and the two servers' were made at different times.
const section = (rs) => rs.filter((r) => r.type !== 'OPT' && r.type !== 'SOA' && r.type !== 'RRSIG').map(rrKey).sort().join('\n') + rs.filter((r) => r.type === 'SOA').length;

/**
 * Both servers must give the same answers to every distinct query of the mix, or the comparison
 * is meaningless: same rcode, AA, answer and authority sections. The additional section may differ
 * (NSD with minimal-responses leaves out the SRV targets' addresses); that is reported with sizes.
 */
async function parity(port, queryText) {
  // One query per distinct (lowercased) question, in the letter case it first appears with.
  const seen = new Map();
  for (const l of queryText.trim().split('\n')) if (!seen.has(l.toLowerCase())) seen.set(l.toLowerCase(), l);
  const distinct = [...seen.values()];
  const diffs = [];
  const sizes = { agent: 0, nsd: 0 };
  for (const line of distinct) {
    const [name, type] = line.split(' ');
    const [a, n] = [await ask(AGENT_ADDR, port, name, type), await ask(NSD_ADDR, port, name, type)];
    if (!a?.msg || !n?.msg) {
      diffs.push({ query: line, problem: `no answer from ${!a?.msg ? 'agent' : 'NSD'}` });
      continue;
    }
    sizes.agent += a.size;
    sizes.nsd += n.size;
    const A = a.msg;
    const N = n.msg;
    const problems = [];
    if (A.rcode !== N.rcode) problems.push(`rcode ${A.rcode} vs ${N.rcode}`);
    if (A.flag_aa !== N.flag_aa) problems.push(`AA ${A.flag_aa} vs ${N.flag_aa}`);
    if (A.questions[0]?.name !== name) problems.push(`agent question ${A.questions[0]?.name} (case not kept)`);
    if (section(A.answers) !== section(N.answers)) problems.push('answer section differs');
    if (section(A.authorities) !== section(N.authorities)) problems.push('authority section differs');
    if (problems.length) diffs.push({ query: line, problem: problems.join('; ') });
    else if (section(A.additionals) !== section(N.additionals)) {
      diffs.push({ query: line, note: `additional section: agent ${A.additionals.filter((r) => r.type !== 'OPT').length} records (${a.size} B), NSD ${N.additionals.filter((r) => r.type !== 'OPT').length} (${n.size} B)` });
    }
  }
  return { distinct: distinct.length, diffs, avgResponse: { agent: sizes.agent / distinct.length, nsd: sizes.nsd / distinct.length } };
}

// ---------------------------------------------------------------------------------------------
// dnsperf

/** [command, args] that runs `cmd` pinned to `cpu`, at the --nice level. */
function pinned(o, cpu, cmd, args) {
  // The servers (CPU 0) get CPUs 0..workers-1.
  const cpus = cpu === 0 && o.workers > 1 ? `0-${o.workers - 1}` : String(cpu);
  const inner = ['-c', cpus, cmd, ...args];
  return o.nice ? ['nice', ['-n', String(o.nice), 'taskset', ...inner]] : ['taskset', inner];
}

/** Waits (up to --wait-quiet seconds) until neither CPU is more than 15% busy with other work. */
async function waitQuiet(o) {
  const t0 = Date.now();
  let load = 1;
  do {
    const a = cpuTicks();
    await sleep(1000);
    const b = cpuTicks();
    load = Math.max(...Object.keys(b).filter((c) => a[c]).map((c) => (b[c].busy - a[c].busy) / Math.max(1, b[c].total - a[c].total)));
    if (load < 0.15) break;
  } while (Date.now() - t0 < o.waitQuiet * 1000);
  return { waitedS: (Date.now() - t0) / 1000, loadBefore: load };
}

function dnsperfArgs(o, server, queryPath, seconds) {
  const args = ['dnsperf', '-s', server, '-p', String(o.port), '-d', queryPath, '-l', String(seconds), '-c', String(o.clients), '-q', String(o.outstanding), '-t', '2'];
  if (o.qps) args.push('-Q', String(o.qps));
  if (o.edns) args.push('-e');
  if (o.dnssec) args.push('-D');
  return args;
}

/** Runs dnsperf once and measures the server's CPU and the CPUs' other load meanwhile. */
async function measure(o, who, server, serverRec, queryPath, seconds) {
  const before = { ticks: groupTicks(serverRec.pid), cpu: cpuTicks(), t: process.hrtime.bigint() };
  const out = await new Promise((resolvePromise, reject) => {
    const [cmd, args] = pinned(o, 1, 'dnsperf', dnsperfArgs(o, server, queryPath, seconds).slice(1));
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const rec = { name: 'dnsperf', child, pid: child.pid };
    children.add(rec);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', (e) => {
      children.delete(rec);
      reject(e);
    });
    child.on('exit', (code) => {
      children.delete(rec);
      if (code === 0) resolvePromise(text);
      else reject(new Error(`dnsperf exited with ${code}:\n${text}`));
    });
  });
  const after = { ticks: groupTicks(serverRec.pid), cpu: cpuTicks(), t: process.hrtime.bigint() };
  const wall = Number(after.t - before.t) / 1e9;
  const serverCpu = (after.ticks - before.ticks) / CLK_TCK / wall;
  const busy = (c) => {
    const b = after.cpu[c] && before.cpu[c] ? after.cpu[c].busy - before.cpu[c].busy : NaN;
    const t = after.cpu[c] && before.cpu[c] ? after.cpu[c].total - before.cpu[c].total : NaN;
    return b / t;
  };
  const r = parseDnsperf(out);
  return { who, ...r, serverCpu, cpu0Busy: busy('0'), cpu1Busy: busy('1'), cpu0Other: Math.max(0, busy('0') - serverCpu) };
}

function parseDnsperf(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const rcodes = {};
  const rc = /Response codes:\s+(.*)/.exec(text);
  if (rc) for (const m of rc[1].matchAll(/([A-Z]+) (\d+)/g)) rcodes[m[1]] = Number(m[2]);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    maxLatencyMs: num(/Average Latency \(s\):.*max ([\d.]+)/) * 1000,
    latencyStdDevMs: num(/Latency StdDev \(s\):\s+([\d.]+)/) * 1000,
    responseBytes: num(/Average packet size:.*response (\d+)/),
    runTime: num(/Run time \(s\):\s+([\d.]+)/),
    rcodes,
  };
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary (--cpu-prof)

function summariseProfile(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (!files.length) return undefined;
  const file = join(dir, files.sort().at(-1));
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = prof.timeDeltas;
  let total = 0;
  prof.samples.forEach((id, i) => {
    const n = byId.get(id);
    const d = dt[i] ?? 0;
    total += d;
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? cf.url.replace(/^.*\/(dist|node_modules|lib)\//, '$1/') : ''}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + d);
  });
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([fn, us]) => ({ fn, ms: us / 1000, share: us / total }));
  return { file, totalMs: total / 1000, top };
}

// ---------------------------------------------------------------------------------------------
// main

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const pct = (n) => (Number.isFinite(n) ? `${(n * 100).toFixed(0)}%` : '—');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function requireTool(cmd, pkg) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd} || PATH=$PATH:/usr/sbin:/sbin command -v ${cmd}`], { encoding: 'utf8' });
  const path = r.stdout.trim().split('\n')[0];
  if (!path) die(`${cmd} is not installed: install the Debian package ${pkg} (apt-get install ${pkg})`);
  return path;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux') die('this benchmark needs Linux (/proc, taskset, 127.0.10.0/24 on loopback)');
  const nsdBin = requireTool('nsd', 'nsd');
  requireTool('dnsperf', 'dnsperf');
  requireTool('taskset', 'util-linux');
  if (!packet) die('dns-packet is not installed: run npm ci');
  const ncpu = cpus().length;
  if (ncpu < 2) die(`this machine has ${ncpu} CPU: the benchmark needs 2 (server on CPU 0, dnsperf on CPU 1)`);

  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    log('dist/ is missing: building (npm run build: the agent and its status page)');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) die(`the build failed (exit ${b.status}): run npm run build and fix the errors`);
    if (b.status !== 0) log('the build reported errors but emitted dist/: continuing');
  }

  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-bench-'));
  tempDir = dir;
  keepTemp = o.keep;
  try {
    await run(o, dir, nsdBin, ncpu);
  } finally {
    await stopAll();
    removeTemp();
  }
}

async function run(o, dir, nsdBin, ncpu) {
  const configPath = join(dir, 'cluster.yaml');
  writeFileSync(configPath, benchConfig(o.port));
  if (o.dnssec) {
    const gen = spawnSync(process.execPath, [o.agentBin, 'dnssec', 'keygen', '--config', configPath, '--directory', dir], { encoding: 'utf8' });
    if (gen.status !== 0) throw new Error(`clusterdns dnssec keygen failed (exit ${gen.status}):\n${gen.stderr}`);
    writeFileSync(configPath, `${benchConfig(o.port)}dnssec: { keys: ["${gen.stdout.trim()}"] }\n`);
  }
  const zonePath = join(dir, `${ZONE}.zone`);
  const exp = spawnSync(process.execPath, [o.agentBin, 'zone', 'export', '--config', configPath, '--output', zonePath], { encoding: 'utf8' });
  if (exp.status !== 0) throw new Error(`clusterdns zone export failed (exit ${exp.status}):\n${exp.stderr}`);
  const queries = queryFile();
  const queryPath = join(dir, 'queries.txt');
  writeFileSync(queryPath, queries.text);

  writeFileSync(
    join(dir, 'nsd.conf'),
    `# written by bench/dnsperf.mjs: one server process, no rate limiting, minimal responses, no chroot
server:
  ip-address: ${NSD_ADDR}
  port: ${o.port}
  server-count: ${o.workers}
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  pidfile: "${dir}/nsd.pid"
  database: ""
  zonelistfile: "${dir}/zone.list"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  logfile: "${dir}/nsd.log"
  verbosity: 0
  hide-version: yes
  minimal-responses: yes
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
  refuse-any: no
remote-control:
  control-enable: no
zone:
  name: ${ZONE}
  zonefile: ${ZONE}.zone
`,
  );

  const want = (who) => !o.only || o.only === who;
  const servers = {};
  if (want('nsd')) {
    servers.nsd = { addr: NSD_ADDR, rec: start('nsd', ...pinned(o, 0, nsdBin, ['-d', '-c', join(dir, 'nsd.conf')]), join(dir, 'nsd.out')) };
  }
  const helpers = [];
  if (want('agent')) {
    const nodeArgs = [...o.nodeArgs, ...(o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] : [])];
    if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });
    servers.agent = {
      addr: AGENT_ADDR,
      rec: start('agent', ...pinned(o, 0, process.execPath, [...nodeArgs, o.agentBin, 'agent', '--config', configPath, '--node', 'node1']), join(dir, 'agent.out')),
    };
    // The agent answers once a majority of the nodes is heard, and answers like the exported zone
    // only when every node is up: the other four agents run too, on dnsperf's CPU (they only
    // exchange heartbeats, a few per second), and are not measured.
    for (let k = 2; k <= 5; k++) {
      helpers.push(start(`agent node${k}`, 'taskset', ['-c', '1', process.execPath, o.agentBin, 'agent', '--config', configPath, '--node', `node${k}`], join(dir, `agent-node${k}.out`)));
    }
  }
  try {
    for (const [who, s] of Object.entries(servers)) await waitReady(s.rec, s.addr, o.port, who === 'agent' ? helpers : []);
  } catch (e) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.out'))) if (existsSync(join(dir, f))) log(`${f}:\n${readFileSync(join(dir, f), 'utf8').slice(-2000)}`);
    throw e;
  }
  const agentPid = servers.agent ? groupPids(servers.agent.rec.pid).find((p) => /node/.test(readFileSync(`/proc/${p}/comm`, 'utf8'))) ?? servers.agent.rec.pid : 0;

  let par;
  if (servers.agent && servers.nsd) {
    par = await parity(o.port, queries.text);
    const bad = par.diffs.filter((d) => d.problem);
    for (const d of par.diffs.filter((x) => x.problem)) log(`parity: ${d.query}: ${d.problem}`);
    const notes = par.diffs.filter((x) => x.note);
    if (notes.length) log(`parity: ${notes.length} answers differ only in the additional section, e.g. ${notes[0].query}: ${notes[0].note}`);
    if (bad.length) log(`WARNING: ${bad.length} of ${par.distinct} distinct queries answer differently — the comparison is not like for like`);
    else log(`parity: the agent and NSD give the same rcode, answer and authority for all ${par.distinct} distinct queries`);
  }

  const order = Object.keys(servers).sort((a) => (a === 'agent' ? -1 : 1));
  // The same agent process measured again with rate limiting on: switched by SIGHUP around its runs.
  if (servers.agent) order.splice(1, 0, 'agent-rrl');
  servers['agent-rrl'] = servers.agent;
  const rrl = async (on) => {
    writeFileSync(configPath, benchConfig(o.port, on));
    process.kill(agentPid, 'SIGHUP');
    await sleep(500);
  };
  if (o.warmup > 0) {
    for (const who of order.filter((w) => w !== 'agent-rrl')) {
      log(`warm-up: ${who} for ${o.warmup} s`);
      await measure(o, who, servers[who].addr, servers[who].rec, queryPath, o.warmup);
    }
  }
  const agentMemAfterWarmup = agentPid ? memory(agentPid) : undefined;
  const runs = [];
  for (let i = 0; i < o.runs; i++) {
    for (const who of order) {
      const quiet = o.waitQuiet > 0 ? await waitQuiet(o) : undefined;
      if (who === 'agent-rrl') await rrl(true);
      const r = await measure(o, who, servers[who].addr, servers[who].rec, queryPath, o.seconds);
      if (who === 'agent-rrl') await rrl(false);
      if (quiet) Object.assign(r, { quietWaitS: quiet.waitedS, loadBefore: quiet.loadBefore });
      if (who.startsWith('agent')) Object.assign(r, memory(agentPid));
      r.run = i + 1;
      runs.push(r);
      log(`run ${i + 1} ${who}: ${fmtInt(r.qps)} q/s, lost ${r.lost}, avg latency ${fmt(r.avgLatencyMs, 3)} ms, server CPU ${pct(r.serverCpu)}, CPU0 other load ${pct(r.cpu0Other)}, CPU1 busy ${pct(r.cpu1Busy)}`);
      if (servers[who].rec.exited) throw new Error(`${who} exited during the run: see ${dir}/${who}.out (use --keep)`);
    }
  }
  const agentMem = agentPid ? memory(agentPid) : undefined;
  // RRL on must not have limited anything, or the run measured dropped queries, not the hot path.
  const rrlLimited = servers.agent ? await limitedResponses(o.port) : undefined;
  if (rrlLimited) log(`WARNING: ${rrlLimited} responses were rate limited in the RRL-on runs: the ratio is not the hot path's`);
  // The same answers after the load as before it (no node was declared down under load).
  let parAfter;
  if (par) {
    parAfter = await parity(o.port, queries.text);
    const bad = parAfter.diffs.filter((d) => d.problem);
    if (bad.length) log(`WARNING: after the runs ${bad.length} distinct queries answer differently, e.g. ${bad[0].query}: ${bad[0].problem}`);
  }

  let profile;
  if (o.cpuProf && servers.agent) {
    await stop(servers.agent.rec, 5000); // SIGTERM: the agent stops and node writes the profile
    profile = summariseProfile(o.cpuProf);
  }

  // summary
  const summary = {};
  for (const who of order) {
    const rs = runs.filter((r) => r.who === who);
    const best = rs.reduce((a, b) => (b.qps > a.qps ? b : a));
    summary[who] = {
      bestQps: best.qps,
      medianQps: median(rs.map((r) => r.qps)),
      runsQps: rs.map((r) => r.qps),
      lost: rs.reduce((s, r) => s + r.lost, 0),
      sent: rs.reduce((s, r) => s + r.sent, 0),
      avgLatencyMs: best.avgLatencyMs,
      serverCpu: best.serverCpu,
      /** Queries answered per second of the server's own CPU time: comparable even when dnsperf, not
       * the server, set the pace (the server then idles part of the time). */
      qpsPerCpu: Math.max(...rs.map((r) => r.qps / r.serverCpu)),
      responseBytes: best.responseBytes,
    };
  }
  const rrlRatio = summary.agent && summary['agent-rrl'] ? summary['agent-rrl'].bestQps / summary.agent.bestQps : undefined;
  const rrlRatioPerCpu = summary.agent && summary['agent-rrl'] ? summary['agent-rrl'].qpsPerCpu / summary.agent.qpsPerCpu : undefined;
  const ratioBest = summary.agent && summary.nsd ? summary.agent.bestQps / summary.nsd.bestQps : undefined;
  const ratioMedian = summary.agent && summary.nsd ? summary.agent.medianQps / summary.nsd.medianQps : undefined;
  const ratioPerCpu = summary.agent && summary.nsd ? summary.agent.qpsPerCpu / summary.nsd.qpsPerCpu : undefined;
  const targets = {
    // Both ratios must hold: q/s alone flatters the slower server when dnsperf sets the pace, and
    // q/CPU-s alone flatters a server that batches less when it is not saturated.
    ratio: { want: '>= 0.45 (q/s and q/CPU-s)', got: ratioBest, gotPerCpu: ratioPerCpu, ok: ratioBest === undefined ? undefined : ratioBest >= 0.45 && ratioPerCpu >= 0.45 },
    rrl: { want: '>= 0.90 of RRL off (q/s and q/CPU-s)', got: rrlRatio, gotPerCpu: rrlRatioPerCpu, limited: rrlLimited, ok: rrlRatio === undefined ? undefined : rrlRatio >= 0.9 && rrlRatioPerCpu >= 0.9 && rrlLimited === 0 },
    rss: { want: '< 80 MB', got: agentMem?.peakMB, ok: agentMem ? agentMem.peakMB < 80 : undefined },
  };

  // the table
  const rows = [['', 'agent', 'agent, RRL on', 'NSD']];
  const col = (who, f) => (summary[who] ? f(summary[who]) : '—');
  const cols = (f) => [col('agent', f), col('agent-rrl', f)];
  rows.push(['queries/s (best of runs)', ...cols((s) => fmtInt(s.bestQps)), col('nsd', (s) => fmtInt(s.bestQps))]);
  rows.push(['queries/s (median)', ...cols((s) => fmtInt(s.medianQps)), col('nsd', (s) => fmtInt(s.medianQps))]);
  rows.push(['queries/s (each run)', ...cols((s) => s.runsQps.map(fmtInt).join(' ')), col('nsd', (s) => s.runsQps.map(fmtInt).join(' '))]);
  rows.push(['lost / sent (all runs)', ...cols((s) => `${s.lost} / ${fmtInt(s.sent)}`), col('nsd', (s) => `${s.lost} / ${fmtInt(s.sent)}`)]);
  rows.push(['avg latency (best run)', ...cols((s) => `${fmt(s.avgLatencyMs, 3)} ms`), col('nsd', (s) => `${fmt(s.avgLatencyMs, 3)} ms`)]);
  rows.push(['server CPU (best run)', ...cols((s) => pct(s.serverCpu)), col('nsd', (s) => pct(s.serverCpu))]);
  rows.push(['queries per CPU-second (best)', ...cols((s) => fmtInt(s.qpsPerCpu)), col('nsd', (s) => fmtInt(s.qpsPerCpu))]);
  rows.push(['avg response size', ...cols((s) => `${s.responseBytes} B`), col('nsd', (s) => `${s.responseBytes} B`)]);
  if (agentMem) rows.push(['memory: peak RSS / RSS now', `${fmt(agentMem.peakMB)} / ${fmt(agentMem.rssMB)} MB`, '', '']);
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `  ${r[0].padEnd(w[0])}${r.slice(1).map((c, i) => `  ${c.padStart(w[i + 1])}`).join('')}`;
  const out = [];
  out.push('');
  out.push(`clusterdns DNS benchmark: dnsperf -c ${o.clients} -q ${o.outstanding}${o.qps ? ` -Q ${o.qps}` : ''}${o.edns ? ' -e' : ''}${o.dnssec ? ' -D (DO=1, signed zone)' : ''}, ${o.runs} × ${o.seconds} s per server, alternating; servers on CPU 0, dnsperf on CPU 1`);
  out.push(line(rows[0]));
  for (const r of rows.slice(1)) out.push(line(r));
  if (ratioBest !== undefined) {
    out.push(`  agent / NSD: ${fmt(ratioBest, 3)} (best of runs), ${fmt(ratioMedian, 3)} (median), ${fmt(ratioPerCpu, 3)} (per server CPU-second)   target ≥ 0.45 (both): ${targets.ratio.ok ? 'met' : 'NOT met'}`);
  }
  if (rrlRatio !== undefined) {
    out.push(`  RRL on / off: ${fmt(rrlRatio, 3)} (best of runs), ${fmt(rrlRatioPerCpu, 3)} (per server CPU-second), ${rrlLimited} responses limited   target ≥ 0.90: ${targets.rrl.ok ? 'met' : 'NOT met'}`);
  }
  if (agentMem) out.push(`  agent peak RSS ${fmt(agentMem.peakMB)} MB   target < 80 MB: ${targets.rss.ok ? 'met' : 'NOT met'}`);
  const notes = [];
  const noisy = runs.filter((r) => r.cpu0Other > 0.1);
  if (noisy.length) notes.push(`${noisy.length} of ${runs.length} runs had > 10% of CPU 0 used by other processes: the machine was not quiet`);
  const clientBound = runs.filter((r) => r.serverCpu < 0.85 && r.cpu1Busy > 0.95);
  if (clientBound.length) notes.push(`in ${clientBound.length} run(s) the server used < 85% of its CPU while dnsperf's CPU was saturated: those numbers are dnsperf's limit, not the server's`);
  for (const n of notes) out.push(`  note: ${n}`);
  if (profile) {
    out.push('');
    out.push(`agent CPU profile (${profile.file}), self time, top functions of ${fmt(profile.totalMs / 1000, 1)} s sampled:`);
    for (const t of profile.top) out.push(`  ${pct(t.share).padStart(4)}  ${fmt(t.ms, 0).padStart(7)} ms  ${t.fn}`);
  }
  out.push('');
  process.stdout.write(out.join('\n'));

  const result = {
    date: new Date().toISOString(),
    command: `node bench/dnsperf.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpu: cpus()[0]?.model, cpus: ncpu, kernel: release(), node: process.version,
      nsd: tryExec(nsdBin, ['-v']).split('\n')[0] || (spawnSync(nsdBin, ['-v'], { encoding: 'utf8' }).stderr || '').split('\n')[0],
      dnsperf: (tryExec('dnsperf', ['-h']).match(/Version ([\d.]+)/) ?? spawnSync('dnsperf', ['-h'], { encoding: 'utf8' }).stderr.match(/Version ([\d.]+)/) ?? [])[1],
      git: tryExec('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    },
    options: { ...o, agentBin: o.agentBin.replace(`${ROOT}/`, '') },
    dnsperfArgs: dnsperfArgs(o, '<server>', 'queries.txt', o.seconds).slice(1).join(' '),
    queries: { lines: queries.lines, mix: queries.counts, mixedCase: queries.mixedCase },
    parity: par,
    parityAfterRuns: parAfter && { distinct: parAfter.distinct, problems: parAfter.diffs.filter((d) => d.problem) },
    runs,
    summary,
    ratio: { best: ratioBest, median: ratioMedian, perCpu: ratioPerCpu, headline: 'best' },
    rrlRatio: { best: rrlRatio, perCpu: rrlRatioPerCpu, limited: rrlLimited, limit: RRL_ON },
    agentMemory: { afterWarmup: agentMemAfterWarmup, end: agentMem },
    targets,
    notes,
    profile,
  };
  if (o.save) {
    const file = o.out || join(ROOT, 'bench', 'results', `dnsperf-${result.date.slice(0, 16).replace(':', '')}Z.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${file.replace(`${ROOT}/`, '')}`);
  }
  if (o.strict && (targets.ratio.ok === false || targets.rss.ok === false || targets.rrl.ok === false)) process.exitCode = 1;
}

/** Responses the measured agent rate limited (dropped or slipped), from its /metrics. */
async function limitedResponses(port) {
  const text = await (await fetch(`http://${AGENT_ADDR}:${port + 3000}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('clusterdns_dns_rate_limited_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

main().catch(async (e) => {
  if (stopping) return; // a signal is already stopping everything
  log(`failed: ${e?.stack ?? e}`);
  await stopAll();
  process.exit(1);
});
