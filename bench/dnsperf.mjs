#!/usr/bin/env node
// DNS serving benchmark: one clusterdns agent against NSD serving the same zone, measured by dnsperf
// on loopback. Each server is pinned to CPU 0 and dnsperf to CPU 1; the two servers are measured in
// turn (agent, NSD, agent, NSD, ...) after a warm-up of each, and the best run of each is compared.
//
//   npm run bench                      # 2 runs of 15 s per server
//   npm run bench -- --seconds 30 --runs 3
//   npm run bench -- --threads         # issue 17: 1 and 2 answer threads, NSD server-count 1 and 2,
//                                      # a bare Node UDP server (bench/bare-udp-server.mjs), DO=1, RRL
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
  --qps N|max        dnsperf -Q, cap the send rate (default: no cap, as fast as answers come; with
                     --threads 40000, every case at the same load, and a few cases also uncapped)
  --no-edns          send queries without EDNS(0) (default: EDNS on, as resolvers send)
  --dnssec           sign the zone (a fresh ECDSA P-256 CSK, both servers) and send every query with DO=1
  --port N           DNS port for both servers (default 5399)
  --workers N        answer threads: the agent's dns.workers and NSD's server-count (default 1); the
                     servers are pinned to CPUs 0..N-1, dnsperf to CPU 1 (N > 1 needs Node >= 22.12)
  --threads          issue 17: in one run, on the same CPUs, the agent with 1 and 2 answer threads,
                     NSD with server-count 1 and 2, and a bare Node UDP server (bench/bare-udp-server.mjs,
                     pre-built answers: the platform's ceiling) with 1 and 2 threads; each unsigned
                     (DO=0) and DO=1 (the zone is signed), the agents also with rate limiting on;
                     queries per CPU-second of each server. 1 thread on the installed node and on
                     --new-node, 2 threads on --new-node (default --clients 64: SO_REUSEPORT spreads
                     by source port). See bench/README.md
  --new-node FILE    node >= 22.12 for --threads (default: scripts/node-binary.sh 24)
  --net A.B.C        the loopback /24 the servers listen in (default 127.0.10: NSD .1, agents .11-.15)
  --agent-bin FILE   clusterdns entry point to benchmark (default: bin/clusterdns.js of this repo)
  --node-args ARGS   node options for the measured agent (default: the ones bin/clusterdns.js's
                     shebang gives every installed agent, "--max-semi-space-size=2 --expose-gc"
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
    waitQuiet: 20, nice: 0, nodeArgs: shebangNodeArgs(), workers: 1, threads: false, newNode: '', net: '127.0.10',
  };
  let clientsGiven = false;
  let qpsGiven = false;
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
      case '--clients': o.clients = num(a, next(), 1); clientsGiven = true; break;
      case '--threads': o.threads = true; break;
      case '--new-node': o.newNode = resolve(next()); break;
      case '--net': o.net = next(); if (!/^127\.\d{1,3}\.\d{1,3}$/.test(o.net) || o.net.split('.').some((x) => Number(x) > 255)) die(`--net takes the first three bytes of a loopback /24 (e.g. 127.0.230), got ${o.net}`); break;
      case '--outstanding': o.outstanding = num(a, next(), 1); break;
      case '--qps': { const v = next(); o.qps = v === 'max' ? 0 : num(a, v, 1); qpsGiven = true; break; }
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
  if (o.threads && !clientsGiven) o.clients = 64;
  if (o.threads && !qpsGiven) o.qps = THREADS_QPS;
  if (o.threads && (o.only || o.cpuProf || o.workers > 1 || o.dnssec)) die('--threads measures every server, 1 and 2 threads, DO=0 and DO=1 itself: no --only, --cpu-prof, --workers or --dnssec with it');
  setNet(o.net);
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

/** CPU ticks of every thread of every live process of the group, by "pid/tid", with its name. */
function threadTicks(pgid) {
  const out = new Map();
  for (const pid of groupPids(pgid)) {
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        out.set(`${pid}/${tid}`, { comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        /* the thread ended */
      }
    }
  }
  return out;
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
/** --net: the /24 on loopback the servers listen in (NSD .1, node1 .11, …). */
let NET = '127.0.10';
let NSD_ADDR = `${NET}.1`;
let AGENT_ADDR = `${NET}.11`;
function setNet(net) {
  NET = net;
  NSD_ADDR = `${NET}.1`;
  AGENT_ADDR = `${NET}.11`;
}

/**
 * Rate limiting for the measured runs: off ("agent"), or on with a limit above any one response's
 * rate in the mix from dnsperf's one source ("agent, RRL on"), so that every query pays for the
 * rate table and cookie check but none is limited: what a varied client costs (issue 9).
 */
const RRL_ON = 100_000;
/**
 * --threads: the rate every case is offered (dnsperf -Q), which every server sustains with dnsperf on
 * one CPU of two: queries per CPU-second compared at the same load, whatever dnsperf's own CPU gets.
 */
const THREADS_QPS = 40_000;
/** --workers: the agent's answer threads and NSD's server processes. */
let WORKERS = 1;

function benchConfig(port, rrl = false, workers = WORKERS) {
  // Five nodes (two with IPv6), a first-healthy and an all-healthy service. node1 (NET.11) is
  // measured; nodes 2-5 run only so that node1 hears a majority (--threads measures node1-3). Slow heartbeats and a long
  // downAfter: a server starved of CPU by the benchmark must not be declared down mid-run.
  return `# written by bench/dnsperf.mjs
zone: ${ZONE}
ttl: 30
negativeTtl: 5
secret: "bench-secret-0123456789abcdef0123456789"
dns: { port: ${port}, workers: ${workers}, rateLimit: { responsesPerSecond: ${rrl ? RRL_ON : 0} } }
peer: { port: ${port + 2000}, interval: 500ms, downAfter: 5s }
http: { port: ${port + 3000} }
nodes:
  - { name: node1, address: ${AGENT_ADDR}, address6: "2001:db8::11", listen: [${AGENT_ADDR}], rack: a }
  - { name: node2, address: ${NET}.12, rack: b }
  - { name: node3, address: ${NET}.13, address6: "2001:db8::13", listen: [${NET}.13], rack: c }
  - { name: node4, address: ${NET}.14, rack: a }
  - { name: node5, address: ${NET}.15, rack: b }
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

/** One query over UDP: { msg (decoded), size, raw, query } or undefined on timeout. `dnssecOk` sets DO. */
function ask(server, port, name, type, timeoutMs = 1000, dnssecOk = false) {
  return new Promise((resolvePromise) => {
    const sock = dgram.createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    const q = packet.encode({
      type: 'query', id, flags: 0,
      questions: [{ type, name, class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnssecOk ? packet.DNSSEC_OK : 0, options: [] }],
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
        if (d.id === id) done({ msg: d, size: msg.length, raw: msg, query: q });
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
async function parity(port, queryText, agentAddr = AGENT_ADDR, nsdAddr = NSD_ADDR) {
  // One query per distinct (lowercased) question, in the letter case it first appears with.
  const seen = new Map();
  for (const l of queryText.trim().split('\n')) if (!seen.has(l.toLowerCase())) seen.set(l.toLowerCase(), l);
  const distinct = [...seen.values()];
  const diffs = [];
  const sizes = { agent: 0, nsd: 0 };
  for (const line of distinct) {
    const [name, type] = line.split(' ');
    const [a, n] = [await ask(agentAddr, port, name, type), await ask(nsdAddr, port, name, type)];
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
  return pinTo(o, cpu === 0 && o.workers > 1 ? `0-${o.workers - 1}` : String(cpu), cmd, args);
}

/** [command, args] that runs `cmd` on the CPU list `cpus` ("0", "0-1"), at the --nice level. */
function pinTo(o, cpus, cmd, args) {
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
  const before = { ticks: groupTicks(serverRec.pid), threads: threadTicks(serverRec.pid), cpu: cpuTicks(), t: process.hrtime.bigint() };
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
  const after = { ticks: groupTicks(serverRec.pid), threads: threadTicks(serverRec.pid), cpu: cpuTicks(), t: process.hrtime.bigint() };
  const wall = Number(after.t - before.t) / 1e9;
  const serverCpu = (after.ticks - before.ticks) / CLK_TCK / wall;
  // Each thread's CPU over the run (fraction of a CPU), busiest first: how the answer threads shared
  // the load (SO_REUSEPORT spreads by source address and port), and what the busiest one had to do.
  const threads = [];
  for (const [id, t] of after.threads) {
    const cpu = (t.ticks - (before.threads.get(id)?.ticks ?? 0)) / CLK_TCK / wall;
    if (cpu >= 0.01) threads.push({ id, comm: t.comm, cpu });
  }
  threads.sort((a, b) => b.cpu - a.cpu);
  const busy = (c) => {
    const b = after.cpu[c] && before.cpu[c] ? after.cpu[c].busy - before.cpu[c].busy : NaN;
    const t = after.cpu[c] && before.cpu[c] ? after.cpu[c].total - before.cpu[c].total : NaN;
    return b / t;
  };
  const r = parseDnsperf(out);
  return { who, ...r, serverCpu, threads, cpu0Busy: busy('0'), cpu1Busy: busy('1'), cpu0Other: Math.max(0, busy('0') - serverCpu) };
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
// --threads (issue 17): answer threads, NSD's server processes and a bare Node UDP server

/** A node binary's version ("24.11.1"), or '' when it does not run. */
function nodeVersion(bin) {
  const r = spawnSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** UDP SO_REUSEPORT between threads: Node >= 22.12 (src/server/dns-server.ts, reusePortWorks). */
function hasReusePort(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

function defaultNewNode() {
  const r = spawnSync(join(ROOT, 'scripts', 'node-binary.sh'), ['24'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n').pop() : '';
}

/** The question of an encoded query (name as asked, type, class): what the bare server keys on. */
function questionKey(query) {
  let i = 12;
  while (query[i] !== 0) i += query[i] + 1;
  return query.subarray(12, i + 5);
}

/**
 * Every server of issue 17 in one run, on the same CPUs: a server with one thread on CPU 0, one with
 * two threads on CPUs 0-1, dnsperf always on CPU 1; each case measured in turn, round after round
 * (the order reversed every other round), and compared within a round.
 */
async function runThreads(o, dir, nsdBin) {
  const oldNode = process.execPath;
  const oldVersion = process.versions.node;
  const newNode = o.newNode || defaultNewNode();
  const newVersion = newNode ? nodeVersion(newNode) : '';
  if (!newVersion) die(`--threads needs a node >= 22.12 for 2 threads: give --new-node FILE (scripts/node-binary.sh 24 gave "${newNode}")`);
  if (!hasReusePort(newVersion)) die(`--new-node ${newNode} is Node ${newVersion}: 2 threads on one UDP port need Node >= 22.12 (SO_REUSEPORT)`);
  const oldLabel = `Node ${oldVersion.split('.')[0]}`;
  const newLabel = `Node ${newVersion.split('.')[0]}`;
  const loadAvgStart = readFileSync('/proc/loadavg', 'utf8').trim();
  log(`load average at the start: ${loadAvgStart}`);

  // The zone is signed: DO=0 queries get the unsigned answers, DO=1 the signed ones, from the same servers.
  const basePath = join(dir, 'cluster.yaml');
  writeFileSync(basePath, benchConfig(o.port, false, 1));
  const gen = spawnSync(process.execPath, [o.agentBin, 'dnssec', 'keygen', '--config', basePath, '--directory', dir], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`clusterdns dnssec keygen failed (exit ${gen.status}):\n${gen.stderr}`);
  const config = (workers, rrl = false) => `${benchConfig(o.port, rrl, workers)}dnssec: { keys: ["${gen.stdout.trim()}"] }\n`;
  writeFileSync(basePath, config(1));
  const zonePath = join(dir, `${ZONE}.zone`);
  const exp = spawnSync(process.execPath, [o.agentBin, 'zone', 'export', '--config', basePath, '--output', zonePath], { encoding: 'utf8' });
  if (exp.status !== 0) throw new Error(`clusterdns zone export failed (exit ${exp.status}):\n${exp.stderr}`);
  const queries = queryFile();
  const queryPath = join(dir, 'queries.txt');
  writeFileSync(queryPath, queries.text);

  const S = {};
  const server = (id, def) => (S[id] = { id, ...def, cpus: def.threads > 1 ? `0-${def.threads - 1}` : '0' });
  server('bare-1-old', { kind: 'bare', label: `bare Node UDP, 1 thread, ${oldLabel}`, threads: 1, node: oldNode, addr: `${NET}.3` });
  server('agent-1-old', { kind: 'agent', label: `agent, 1 thread, ${oldLabel}`, threads: 1, node: oldNode, addr: `${NET}.11`, nodeName: 'node1' });
  server('nsd-1', { kind: 'nsd', label: 'NSD, server-count 1', threads: 1, addr: `${NET}.1` });
  server('bare-1-new', { kind: 'bare', label: `bare Node UDP, 1 thread, ${newLabel}`, threads: 1, node: newNode, addr: `${NET}.4` });
  server('agent-1-new', { kind: 'agent', label: `agent, 1 thread, ${newLabel}`, threads: 1, node: newNode, addr: `${NET}.12`, nodeName: 'node2' });
  server('bare-2-new', { kind: 'bare', label: `bare Node UDP, 2 threads, ${newLabel}`, threads: 2, node: newNode, addr: `${NET}.5` });
  server('agent-2-new', { kind: 'agent', label: `agent, 2 threads, ${newLabel}`, threads: 2, node: newNode, addr: `${NET}.13`, nodeName: 'node3' });
  server('nsd-2', { kind: 'nsd', label: 'NSD, server-count 2', threads: 2, addr: `${NET}.2` });
  const all = Object.values(S);

  // Agents: node1-3 measured (each its own config file, which differs in dns.workers only: the
  // same cluster to its peers), node4-5 only make the majority, on dnsperf's CPU.
  const helpers = [];
  for (const s of all.filter((x) => x.kind === 'agent')) {
    s.configPath = join(dir, `${s.nodeName}.yaml`);
    writeFileSync(s.configPath, config(s.threads));
    s.rec = start(s.id, ...pinTo(o, s.cpus, s.node, [...o.nodeArgs, o.agentBin, 'agent', '--config', s.configPath, '--node', s.nodeName]), join(dir, `${s.id}.out`));
  }
  for (const k of [4, 5]) helpers.push(start(`agent node${k}`, 'taskset', ['-c', '1', oldNode, o.agentBin, 'agent', '--config', basePath, '--node', `node${k}`], join(dir, `agent-node${k}.out`)));
  for (const s of all.filter((x) => x.kind === 'nsd')) {
    writeFileSync(join(dir, `${s.id}.conf`), nsdConf(dir, s.addr, o.port, s.threads, `-${s.id}`));
    s.rec = start(s.id, ...pinTo(o, s.cpus, nsdBin, ['-d', '-c', join(dir, `${s.id}.conf`)]), join(dir, `${s.id}.out`));
  }
  const showLogs = () => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.out'))) log(`${f}:\n${readFileSync(join(dir, f), 'utf8').slice(-2000)}`);
  };
  try {
    for (const s of all.filter((x) => x.rec)) await waitReady(s.rec, s.addr, o.port, s.kind === 'agent' ? helpers : []);
  } catch (e) {
    showLogs();
    throw e;
  }

  // The bare server's answers: node1's, to every question of the query file as asked (letter case
  // included), with DO=0 and DO=1.
  const asked = [...new Set(queries.text.trim().split('\n'))];
  const answers = [];
  for (const line of asked) {
    const [name, type] = line.split(' ');
    const [a, sgn] = [await ask(S['agent-1-old'].addr, o.port, name, type), await ask(S['agent-1-old'].addr, o.port, name, type, 1000, true)];
    if (!a?.raw || !sgn?.raw) throw new Error(`node1 did not answer ${line} (DO=${a?.raw ? 1 : 0}): cannot build the bare server's answers`);
    answers.push({ q: questionKey(a.query).toString('hex'), a: a.raw.toString('hex'), s: sgn.raw.toString('hex') });
  }
  const answersPath = join(dir, 'bare-answers.json');
  writeFileSync(answersPath, JSON.stringify(answers));
  log(`bare server: ${answers.length} questions, answers from node1`);
  for (const s of all.filter((x) => x.kind === 'bare')) {
    s.rec = start(s.id, ...pinTo(o, s.cpus, s.node, [join(ROOT, 'bench', 'bare-udp-server.mjs'), '--address', s.addr, '--port', String(o.port), '--threads', String(s.threads), '--answers', answersPath]), join(dir, `${s.id}.out`));
  }
  try {
    for (const s of all.filter((x) => x.kind === 'bare')) await waitReady(s.rec, s.addr, o.port);
  } catch (e) {
    showLogs();
    throw e;
  }
  for (const s of all.filter((x) => x.kind === 'agent')) {
    s.pid = groupPids(s.rec.pid).find((p) => /node/.test(readFileSync(`/proc/${p}/comm`, 'utf8'))) ?? s.rec.pid;
    s.answerThreads = Number(/"answerThreads":(\d+)/.exec(readFileSync(join(dir, `${s.id}.out`), 'utf8'))?.[1] ?? NaN);
    if (s.answerThreads !== s.threads) log(`WARNING: ${s.label} logged ${s.answerThreads} answer threads`);
  }

  // Parity: every agent, NSD with 2 servers and the bare server give NSD's rcode, answer and authority.
  const parities = {};
  for (const s of all.filter((x) => x.id !== 'nsd-1')) {
    const p = await parity(o.port, queries.text, s.addr, S['nsd-1'].addr);
    const bad = p.diffs.filter((d) => d.problem);
    parities[s.id] = { distinct: p.distinct, problems: bad, additionalOnly: p.diffs.length - bad.length, avgResponse: p.avgResponse };
    if (bad.length) log(`WARNING: ${s.label}: ${bad.length} of ${p.distinct} distinct queries answer unlike NSD, e.g. ${bad[0].query}: ${bad[0].problem}`);
  }
  log(`parity: checked ${Object.keys(parities).length} servers against NSD (${asked.length} questions as asked, ${parities['agent-1-old'].distinct} distinct)`);

  const cases = [];
  for (const s of all) {
    // Uncapped too (as fast as answers come): what q/s 1 and 2 threads reach on this machine.
    if (o.qps && (s.threads === 2 || s.id.endsWith('-new') || s.id === 'nsd-1')) cases.push({ id: `${s.id}-max`, server: s.id, do: false, rrl: false, max: true, label: `${s.label}, uncapped` });
    cases.push({ id: s.id, server: s.id, do: false, rrl: false, label: s.label });
    if (s.kind === 'agent') cases.push({ id: `${s.id}-rrl`, server: s.id, do: false, rrl: true, label: `${s.label}, RRL on` });
    cases.push({ id: `${s.id}-do`, server: s.id, do: true, rrl: false, label: `${s.label}, DO=1` });
  }
  const rrl = async (s, on) => {
    writeFileSync(s.configPath, config(s.threads, on));
    process.kill(s.pid, 'SIGHUP');
    await sleep(500);
  };
  if (o.warmup > 0) {
    for (const s of all) {
      log(`warm-up: ${s.label} for ${o.warmup} s`);
      await measure(o, s.id, s.addr, s.rec, queryPath, o.warmup);
    }
  }
  const runs = [];
  for (let round = 1; round <= o.runs; round++) {
    for (const c of round % 2 ? cases : [...cases].reverse()) {
      const s = S[c.server];
      const quiet = o.waitQuiet > 0 ? await waitQuiet(o) : undefined;
      if (c.rrl) await rrl(s, true);
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
      const r = await measure({ ...o, dnssec: c.do, qps: c.max ? 0 : o.qps }, c.id, s.addr, s.rec, queryPath, o.seconds);
      if (c.rrl) await rrl(s, false);
      Object.assign(r, { round, loadAvg1: Number(load) }, quiet ? { quietWaitS: quiet.waitedS, loadBefore: quiet.loadBefore } : {});
      r.qpcs = r.qps / r.serverCpu;
      r.busiestThreadCpu = r.threads[0]?.cpu ?? NaN;
      r.capacity = r.qps / r.busiestThreadCpu;
      r.keptUp = c.max || !o.qps ? undefined : r.qps >= 0.98 * o.qps && r.lost === 0;
      runs.push(r);
      if (r.keptUp === false) log(`WARNING: ${c.label} answered ${fmtInt(r.qps)} of ${fmtInt(o.qps)} q/s offered (lost ${r.lost}): not the same load as the other cases`);
      log(`round ${round} ${c.label}: ${fmtInt(r.qps)} q/s, ${fmtInt(r.qpcs)} q per CPU-s, server CPU ${pct(r.serverCpu)} (threads ${r.threads.slice(0, 3).map((t) => pct(t.cpu)).join(' ')}), lost ${r.lost}, CPU1 busy ${pct(r.cpu1Busy)}`);
      if (s.rec.exited) {
        showLogs();
        throw new Error(`${s.label} exited during the run`);
      }
    }
  }
  const memoryEnd = Object.fromEntries(all.filter((x) => x.kind === 'agent').map((s) => [s.id, memory(s.pid)]));
  const limited = {};
  for (const s of all.filter((x) => x.kind === 'agent')) limited[s.id] = await limitedResponses(o.port, s.addr);
  const reloads = Object.fromEntries(all.filter((x) => x.kind === 'agent').map((s) => [s.id, (readFileSync(join(dir, `${s.id}.out`), 'utf8').match(/"event":"reload"/g) ?? []).length]));
  const unknown = {};
  for (const s of all.filter((x) => x.kind === 'bare')) {
    await stop(s.rec);
    unknown[s.id] = /no answer for (\d+)/.exec(readFileSync(join(dir, `${s.id}.out`), 'utf8'))?.[1];
  }

  const summary = {};
  for (const c of cases) {
    const rs = runs.filter((r) => r.who === c.id);
    summary[c.id] = {
      label: c.label,
      qps: median(rs.map((r) => r.qps)),
      qpcs: median(rs.map((r) => r.qpcs)),
      capacity: median(rs.map((r) => r.capacity)),
      serverCpu: median(rs.map((r) => r.serverCpu)),
      busiestThreadCpu: median(rs.map((r) => r.busiestThreadCpu)),
      threadSplit: rs.map((r) => r.threads.slice(0, S[c.server].threads).map((t) => Number(t.cpu.toFixed(3)))),
      avgLatencyMs: median(rs.map((r) => r.avgLatencyMs)),
      responseBytes: median(rs.map((r) => r.responseBytes)),
      lost: rs.reduce((t, r) => t + r.lost, 0),
      sent: rs.reduce((t, r) => t + r.sent, 0),
      runsQps: rs.map((r) => Math.round(r.qps)),
      runsQpcs: rs.map((r) => Math.round(r.qpcs)),
    };
  }
  /** a / b of `metric`, round by round (each round measures both minutes apart at most), and the median. */
  const ratio = (a, b, metric) => {
    const each = [];
    for (let round = 1; round <= o.runs; round++) {
      const x = runs.find((r) => r.who === a && r.round === round);
      const y = runs.find((r) => r.who === b && r.round === round);
      if (x && y) each.push(x[metric] / y[metric]);
    }
    return { median: median(each), rounds: each.map((v) => Number(v.toFixed(3))) };
  };
  const goals = [];
  const goal = (what, a, b, metric, want) => {
    const r = ratio(a, b, metric);
    goals.push({ what, a, b, metric, want, ...r, met: want === undefined ? undefined : r.median >= want });
  };
  for (const [agent, bare] of [['agent-1-old', 'bare-1-old'], ['agent-1-new', 'bare-1-new'], ['agent-2-new', 'bare-2-new']]) {
    goal('per thread: agent / bare Node, q per CPU-s', agent, bare, 'qpcs', 0.95);
    goal('per thread: agent / bare Node, q per CPU-s, DO=1', `${agent}-do`, `${bare}-do`, 'qpcs', 0.95);
  }
  for (const x of ['agent', 'bare', 'nsd']) {
    const [one, two] = x === 'nsd' ? ['nsd-1', 'nsd-2'] : [`${x}-1-new`, `${x}-2-new`];
    const max = o.qps ? '-max' : '';
    goal('2 threads / 1, q/s on this machine (uncapped, dnsperf on CPU 1)', two + max, one + max, 'qps', x === 'agent' ? 1.5 : undefined);
    goal('2 threads / 1, capacity (q per CPU-s of the busiest thread)', two, one, 'capacity', x === 'agent' ? 1.5 : undefined);
    goal('2 threads / 1, q per CPU-s', two, one, 'qpcs', undefined);
  }
  for (const id of ['agent-1-old', 'agent-1-new', 'agent-2-new']) {
    goal('RRL on / off, q per CPU-s', `${id}-rrl`, id, 'qpcs', 0.9);
    goal('RRL on / off, q/s', `${id}-rrl`, id, 'qps', 0.9);
  }
  for (const id of all.map((s) => s.id)) goal('DO=1 / DO=0, q per CPU-s', `${id}-do`, id, 'qpcs', id.startsWith('agent') ? 0.9 : undefined);
  const nsdVsAgent = ['1-old', '1-new'].map((t) => ratio(`agent-${t}`, 'nsd-1', 'qpcs')).concat([ratio('agent-2-new', 'nsd-2', 'qpcs')]);

  // the table
  const rows = [['', 'q/s', 'server CPU', 'q per CPU-s', 'busiest thread', 'threads', 'avg latency', 'response', 'lost']];
  for (const c of cases) {
    const x = summary[c.id];
    rows.push([c.label, fmtInt(x.qps), pct(x.serverCpu), fmtInt(x.qpcs), pct(x.busiestThreadCpu), x.threadSplit.at(-1).map(pct).join('+'), `${fmt(x.avgLatencyMs, 3)} ms`, `${x.responseBytes} B`, `${x.lost}`]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `  ${r[0].padEnd(w[0])}${r.slice(1).map((c, i) => `  ${c.padStart(w[i + 1])}`).join('')}`;
  const out = ['', `issue 17 thread benchmark: dnsperf ${dnsperfArgs(o, 'ADDR', 'queries.txt', o.seconds).slice(3).join(' ')} (+ -D for DO=1; no -Q for "uncapped"), ${o.runs} rounds × ${o.seconds} s per case, medians; 1-thread servers on CPU 0, 2-thread servers on CPUs 0-1, dnsperf on CPU 1; load average at the start ${loadAvgStart}`];
  for (const r of rows) out.push(line(r));
  out.push('');
  for (const g of goals) {
    out.push(`  ${`${g.what}: ${summary[g.a].label} / ${summary[g.b].label.replace(/, (RRL on|DO=1|uncapped)$/, '')}`.padEnd(110)} ${fmt(g.median, 3)} (rounds ${g.rounds.join(' ')})${g.want === undefined ? '' : `   goal ≥ ${g.want}: ${g.met ? 'met' : 'NOT met'}`}`);
  }
  out.push(`  agent / NSD, q per CPU-s: ${nsdVsAgent.map((r) => fmt(r.median, 3)).join(', ')} (1 thread ${oldLabel}, 1 thread ${newLabel}, 2 threads ${newLabel})`);
  out.push(`  agent RSS at the end (peak): ${Object.entries(memoryEnd).map(([id, m]) => `${S[id].label} ${fmt(m.rssMB)} MB (${fmt(m.peakMB)})`).join('; ')}`);
  out.push(`  rate limited responses (must be 0): ${Object.values(limited).join(', ')}; reloads logged: ${Object.values(reloads).join(', ')}; bare server questions without an answer: ${Object.values(unknown).join(', ')}`);
  out.push('');
  process.stdout.write(out.join('\n'));

  const result = {
    date: new Date().toISOString(),
    command: `node bench/dnsperf.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpu: cpus()[0]?.model, cpus: cpus().length, kernel: release(), node: oldVersion, newNode: newVersion,
      nsd: (spawnSync(nsdBin, ['-v'], { encoding: 'utf8' }).stderr || '').split('\n')[0],
      dnsperf: (spawnSync('dnsperf', ['-h'], { encoding: 'utf8' }).stderr.match(/Version ([\d.]+)/) ?? [])[1],
      git: tryExec('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
      loadAvgStart,
    },
    options: { ...o, agentBin: o.agentBin.replace(`${ROOT}/`, '') },
    placement: 'servers with 1 thread on CPU 0, with 2 threads on CPUs 0-1; dnsperf and the two helper agents on CPU 1',
    dnsperfArgs: dnsperfArgs(o, '<server>', 'queries.txt', o.seconds).slice(1).join(' '),
    queries: { lines: queries.lines, asked: asked.length, mix: queries.counts, mixedCase: queries.mixedCase },
    servers: Object.fromEntries(all.map((s) => [s.id, { label: s.label, kind: s.kind, threads: s.threads, addr: s.addr, cpus: s.cpus, answerThreads: s.answerThreads }])),
    parity: parities,
    runs,
    summary,
    goals,
    agentVsNsdPerCpu: nsdVsAgent,
    agentMemoryEnd: memoryEnd,
    rateLimited: limited,
    reloads,
    bareUnknown: unknown,
  };
  if (o.save) {
    const file = o.out || join(ROOT, 'bench', 'results', `dnsperf-threads-${result.date.slice(0, 16).replace(':', '')}Z.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${file.replace(`${ROOT}/`, '')}`);
  }
  if (o.strict && goals.some((g) => g.met === false)) process.exitCode = 1;
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

/** NSD's config: its own files under `dir` (suffix `tag`), no rate limiting, minimal responses, no chroot. */
function nsdConf(dir, addr, port, serverCount, tag) {
  return `# written by bench/dnsperf.mjs: ${serverCount} server process(es), no rate limiting, minimal responses, no chroot
server:
  ip-address: ${addr}
  port: ${port}
  server-count: ${serverCount}
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  pidfile: "${dir}/nsd${tag}.pid"
  database: ""
  zonelistfile: "${dir}/zone${tag}.list"
  xfrdfile: "${dir}/xfrd${tag}.state"
  xfrdir: "${dir}"
  logfile: "${dir}/nsd${tag}.log"
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
`;
}

async function run(o, dir, nsdBin, ncpu) {
  if (o.threads) return runThreads(o, dir, nsdBin);
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

  writeFileSync(join(dir, 'nsd.conf'), nsdConf(dir, NSD_ADDR, o.port, o.workers, ''));

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
async function limitedResponses(port, addr = AGENT_ADDR) {
  const text = await (await fetch(`http://${addr}:${port + 3000}/metrics`)).text();
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
