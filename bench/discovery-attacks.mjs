#!/usr/bin/env node
// DNS latency under attacks on the discovery service and the HTTP API (issue 18: "the attacks above
// never delay a heartbeat or a DNS answer by more than 50 ms"). A 3-node cluster on loopback, node1
// with one answer thread (DNS on the main thread, beside discovery and HTTP, as on Node 20 or any
// 2-core machine); each attack in turn on node1 while a separate probe process asks node1 over UDP
// every 10 ms and records each answer's latency, and tcpdump records node1's heartbeats to node2. A
// second probe asks node2, which is not attacked, the same way: the control for the machine's noise.
//
//   npm run bench:discovery-attacks [-- --seconds 8 --attacks idle,psubscribe,subscribe,idle-conns,pipelined,http]
//   … --node /path/to/node          another Node binary (default: the one running this)
//   … --workers 2                   answer threads on node1 (default 1)
//   … --node1-args "--cpu-prof --cpu-prof-dir=/tmp/prof"   extra node flags for node1 only
//   … --agent-root DIR              another checkout's agent
//   … --node1-out FILE              node1's stdout and stderr (its log, --trace-gc lines) when it ends
//   … --nice 0                      the attacking process (this one) competes with the agents as an equal
//                                   (default: niceness 10, as if the attackers were other machines)
//
// Attacks: psubscribe: `PSUBSCRIBE [z-a]` and 40 `*` + `x` on 10 connections, 500 subscribers to
// `*`, then node3 (first for the service `moving`) is killed and started again, so node1 pushes
// +sdown/+odown/+switch-master and back. subscribe: 300 SUBSCRIBEs of 1,000 distinct 1 KB channels on
// one connection, round after round. idle-conns: 1,024 connections from one address, held open.
// pipelined: 10,000 connections from 40 addresses, each with 16 pipelined commands (bench:isolation's
// discovery load). http: 48 clients fetching /metrics back to back.
//
// Root (tcpdump on lo). Loopback block 127.0.215.0/24 (agents), 127.0.216.0/24 (attack sources).

import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hammer, pipelinedConnections } from './loads.mjs';
import { benchProcesses } from './procs.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const A = (i) => `127.0.215.${i}`;
const SRC = (i) => `127.0.216.${i}`;
const DNS = 7150, PEER = 7151, HTTP = 7152, DISC = 7153;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv.includes('--probe')) await probe();

/**
 * The probe, in its own process so the attacks this script makes never delay its clock: one UDP
 * query every `--every` ms to node1; per query, one line `sentAt latencyMs` (or `sentAt lost` after
 * 1 s). Runs until its stdin closes.
 */
async function probe() {
  const host = arg('--host'), port = Number(arg('--port')), every = Number(arg('--every', 10));
  const name = Buffer.from([5, ...Buffer.from('redis'), 7, ...Buffer.from('cluster'), 4, ...Buffer.from('test'), 0]);
  const sock = dgram.createSocket('udp4');
  const pending = new Map();
  let id = 0;
  sock.on('message', (m) => {
    const t = now();
    const q = m.readUInt16BE(0);
    const sent = pending.get(q);
    if (sent === undefined) return;
    pending.delete(q);
    process.stdout.write(`${sent.toFixed(1)} ${(t - sent).toFixed(2)}\n`);
  });
  const timer = setInterval(() => {
    const t = now();
    for (const [q, sent] of pending) {
      if (t - sent > 1000) {
        pending.delete(q);
        process.stdout.write(`${sent.toFixed(1)} lost\n`);
      }
    }
    id = (id + 1) & 0xffff;
    const msg = Buffer.concat([Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 1, 0, 1])]);
    pending.set(id, now());
    sock.send(msg, port, host);
  }, every);
  process.stdin.resume();
  process.stdin.on('end', () => {
    clearInterval(timer);
    sock.close();
    process.exit(0);
  });
  await new Promise(() => undefined);
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(arg('--seconds', 8));
const WORKERS = arg('--workers', '1');
const NODE = arg('--node', process.execPath);
const ATTACKS = arg('--attacks', 'idle,psubscribe,subscribe,idle-conns,pipelined,http').split(',');
const NODE1_ARGS = arg('--node1-args', '').split(/\s+/).filter(Boolean);
const OUT = arg('--out', join(ROOT, 'bench', 'results', `discovery-attacks-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
const CLI = join(arg('--agent-root', ROOT), 'bin', 'clusterdns.js');
const NODE_ARGS = readFileSync(CLI, 'utf8').split('\n')[0].replace(/^#!\S*env -S node\s*/, '').split(/\s+/).filter((a) => a.startsWith('--'));
const SECRET = 'bench-secret-0123456789abcdef-0123456789';

try {
  execFileSync('which', ['tcpdump'], { stdio: 'ignore' });
} catch {
  console.error('bench:discovery-attacks needs tcpdump (and root, for capturing on lo)');
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });

// Children get a stdin pipe: the probe and the control sampler run until theirs closes.
const { dir, start } = benchProcesses('clusterdns-attacks-', { stdin: 'pipe' });

const config = [
  'zone: cluster.test',
  `secret: "${SECRET}"`,
  `dns: { port: ${DNS}, workers: ${WORKERS}, rateLimit: { responsesPerSecond: 0 } }`,
  `peer: { port: ${PEER}, upAfter: 1s }`,
  `http: { port: ${HTTP} }`,
  `discovery: { enabled: true, port: ${DISC} }`,
  'nodes:',
  ...[1, 2, 3].map((i) => `  - { name: node${i}, address: ${A(i)} }`),
  'services:',
  '  - { name: redis, port: 6379 }',
  '  - { name: moving, port: 6380, nodes: [node3, node1, node2], policy: first-healthy }',
].join('\n');
const cfg = join(dir, 'cluster.yaml');
writeFileSync(cfg, config + '\n');
const agents = new Map();
function startAgent(i) {
  const args = [...NODE_ARGS, ...(i === 1 ? NODE1_ARGS : []), CLI, 'agent', '--config', cfg, '--node', `node${i}`];
  const p = start(NODE, args, { env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } });
  setPriority(p.pid, 0);
  agents.set(i, p);
}
for (const i of [1, 2, 3]) startAgent(i);
const capture = start('tcpdump', ['-i', 'lo', '-nn', '-tt', '-l', '-B', '8192', `udp and src host ${A(1)} and src port ${PEER} and dst host ${A(2)}`]);

async function status(i) {
  return (await fetch(`http://${A(i)}:${HTTP}/v1/status`)).json();
}
async function allUp(ms) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await Promise.all([1, 2, 3].map((i) => status(i).then((s) => s.serving && s.nodes.every((n) => n.up)).catch(() => false)));
    if (ok.every(Boolean)) return;
    if (Date.now() > end) {
      console.error('the cluster is not all up:\n' + [...agents.values()].map((a) => a.out.slice(-2000)).join('\n'));
      process.exit(1);
    }
    await sleep(200);
  }
}
await allUp(30_000);
const threads = (await status(1)).dns.threads?.length ?? 1;

const probeProc = start(process.execPath, [fileURLToPath(import.meta.url), '--probe', '--host', A(1), '--port', String(DNS), '--every', '10'], { detached: true });
// The control: node2, not attacked, asked the same way. What it sees too (the machine's other work,
// the kernel's loopback queue behind 10,000 closing connections) is not node1's doing.
const controlProc = start(process.execPath, [fileURLToPath(import.meta.url), '--probe', '--host', A(2), '--port', String(DNS), '--every', '10'], { detached: true });
// The attackers are this process; on a real network they are other machines. Niced, so that on this
// machine's few cores they take what the agents and the probe leave rather than the agents' time
// (--nice 0: compete as equals).
const NICE = Number(arg('--nice', 10));
setPriority(0, NICE);
await sleep(1500);

/** A probe's samples sent in [t0, t1): latencies (ms) and how many got no answer within 1 s. */
function samples(t0, t1, probeProc) {
  const lat = [];
  const slow = [];
  let lost = 0;
  for (const line of probeProc.out.split('\n')) {
    const [at, v] = line.split(' ');
    const t = Number(at);
    if (!(t >= t0 && t < t1)) continue;
    if (v === 'lost') lost++;
    else lat.push(Number(v));
    // When in the attack the slow answers came (ms from its start), for finding their cause.
    if (v === 'lost' || Number(v) > 30) slow.push(`${Math.round(t - t0)}:${v === 'lost' ? v : Math.round(Number(v))}`);
  }
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN);
  return { asked: lat.length + lost, lost, medianMs: +q(0.5).toFixed(1), p99Ms: +q(0.99).toFixed(1), worstMs: +(lat.at(-1) ?? NaN).toFixed(1), over50: lat.filter((x) => x > 50).length, slowAt: slow.join(' ') };
}
/** node1 → node2 heartbeats (s) seen on the wire. */
function beats() {
  return capture.out
    .split('\n')
    .map((l) => Number(l.split(' ')[0]))
    .filter((t) => Number.isFinite(t) && t > 0);
}
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agents.get(1).pid}/status`, 'utf8'))[1]) / 1024;

function connect(opts, onConnect) {
  const s = net.connect({ host: A(1), port: DISC, ...opts });
  s.on('error', () => undefined);
  s.got = '';
  s.on('data', (d) => {
    if (s.got.length < 1 << 20) s.got += d.toString('latin1');
  });
  if (onConnect) s.on('connect', () => onConnect(s));
  return s;
}
const cmd = (...args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

const attacks = {
  idle: async (stopAt) => {
    await sleep(stopAt - Date.now());
  },
  psubscribe: async (stopAt) => {
    const stars = `${'*'.repeat(40)}x`;
    const socks = [];
    for (let i = 0; i < 10; i++) socks.push(connect({ localAddress: SRC(1) }, (s) => s.write(cmd('PSUBSCRIBE', '[z-a]', stars, '[', '\\', '[^'))));
    for (let i = 0; i < 500; i++) socks.push(connect({ localAddress: SRC(2 + (i % 10)) }, (s) => s.write(cmd('PSUBSCRIBE', '*'))));
    await sleep(1000);
    agents.get(3).kill('SIGKILL');
    // Over the window: the kill's +sdown/+odown/+switch-master, then node3 back and the way back.
    await sleep(Math.max(0, (stopAt - Date.now()) / 2));
    startAgent(3);
    await sleep(Math.max(0, stopAt - Date.now()));
    const heard = socks.slice(10).filter((s) => s.got.includes('+switch-master')).length;
    const badMessages = socks.slice(0, 10).filter((s) => s.got.includes('pmessage')).length;
    for (const s of socks) s.destroy();
    return { subscribersThatHeardSwitch: `${heard}/500`, badPatternMessages: badMessages };
  },
  subscribe: async (stopAt) => {
    // One command: SUBSCRIBE and 1,000 channels of 1,024 bytes, distinct across the whole run.
    const head = Buffer.from('*1001\r\n$9\r\nSUBSCRIBE\r\n');
    const one = Buffer.from(`$1024\r\n00000000${'c'.repeat(1016)}\r\n`);
    const template = Buffer.concat([head, ...Array.from({ length: 1000 }, () => one)]);
    let serial = 0;
    let rounds = 0, refused = 0, other = 0;
    while (Date.now() < stopAt) {
      const got = await new Promise((done) => {
        const s = connect({ localAddress: SRC(50) });
        let lines = 0, text = '';
        const t = setTimeout(() => finish(), Math.max(1000, stopAt - Date.now() + 5000));
        const finish = () => {
          clearTimeout(t);
          s.destroy();
          done(text);
        };
        s.on('data', (d) => {
          text += d.toString('latin1');
          lines = text.split('\r\n').length - 1;
          if (lines >= 300) finish();
        });
        s.on('close', finish);
        s.on('connect', async () => {
          for (let k = 0; k < 300 && !s.destroyed; k++) {
            const b = Buffer.from(template);
            for (let c = 0; c < 1000; c++) b.write(String(serial++).padStart(8, '0'), head.length + c * one.length + 7, 'latin1');
            if (!s.write(b)) await new Promise((r) => s.once('drain', r));
          }
        });
      });
      rounds++;
      const lines = got.split('\r\n').filter(Boolean);
      refused += lines.filter((l) => l.startsWith('-ERR SUBSCRIBE refused')).length;
      other += lines.filter((l) => !l.startsWith('-ERR SUBSCRIBE refused')).length;
    }
    return { rounds, refused, otherReplyLines: other };
  },
  'idle-conns': async (stopAt) => {
    const socks = Array.from({ length: 1024 }, () => connect({ localAddress: SRC(60) }));
    await sleep(1500);
    const open = socks.filter((s) => !s.destroyed && !s.got.startsWith('-ERR')).length;
    const other = await new Promise((done) => {
      const s = connect({ localAddress: SRC(61) }, (x) => x.write(cmd('SENTINEL', 'get-master-addr-by-name', 'redis')));
      const t0 = Date.now();
      s.on('data', () => {
        if (s.got.endsWith('6379\r\n')) {
          s.destroy();
          done(Date.now() - t0);
        }
      });
      setTimeout(() => done(-1), 2000);
    });
    await sleep(Math.max(0, stopAt - Date.now()));
    for (const s of socks) s.destroy();
    return { held: open, otherAddressAnsweredMs: other };
  },
  pipelined: (stopAt) => pipelinedConnections(stopAt, { host: A(1), port: DISC, source: (k) => SRC(100 + k) }),
  http: (stopAt) => hammer(`http://${A(1)}:${HTTP}/metrics`, stopAt),
};

const results = [];
for (const name of ATTACKS) {
  if (!attacks[name]) {
    console.error(`no attack named ${name} (${Object.keys(attacks).join(', ')})`);
    continue;
  }
  const rssBefore = rssMb();
  const t0 = now();
  // The monotonic clock (µs) at the start, which a --cpu-prof profile's timestamps are read on.
  const t0MonotonicUs = Number(process.hrtime.bigint() / 1000n);
  const extra = await attacks[name](Date.now() + SECONDS * 1000);
  // What the attack's end costs (10,000 sockets closing) counts too.
  await sleep(1000);
  const t1 = now();
  await sleep(1200); // the probe's lost verdicts and the capture reach us
  const b = beats().filter((t) => t * 1000 >= t0 && t * 1000 <= t1);
  const gaps = b.slice(1).map((t, i) => (t - b[i]) * 1000);
  const control = samples(t0, t1, controlProc);
  const row = { attack: name, ...samples(t0, t1, probeProc), node2: `p99 ${control.p99Ms} ms, worst ${control.worstMs} ms${control.slowAt ? ` (${control.slowAt})` : ''}`, heartbeats: b.length, largestHeartbeatGapMs: Math.round(Math.max(...gaps)), rssMb: `${Math.round(rssBefore)} → ${Math.round(rssMb())}`, ...(extra ?? {}), t0MonotonicUs };
  results.push(row);
  console.log(JSON.stringify(row));
  if (name === 'psubscribe') await allUp(30_000);
  await sleep(1500);
}

probeProc.stdin.end();
controlProc.stdin.end();
// A clean stop, so node1's --cpu-prof is written; its output (--trace-gc lines too) on request.
for (const a of agents.values()) a.kill('SIGTERM');
const stopBy = Date.now() + 10_000;
while ([...agents.values()].some((a) => a.exitCode === null && a.signalCode === null) && Date.now() < stopBy) await sleep(100);
if (arg('--node1-out')) writeFileSync(arg('--node1-out'), agents.get(1).out);
const report = { date: new Date().toISOString(), attackerNice: NICE, node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(), nodeArgs: [...NODE_ARGS, ...NODE1_ARGS], cpus: cpus().length, load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '), workers: WORKERS, answerThreads: threads, probeEveryMs: 10, seconds: SECONDS, results };
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
const fixed = ['t0MonotonicUs', 'slowAt', 'node2', 'attack', 'asked', 'lost', 'medianMs', 'p99Ms', 'worstMs', 'over50', 'heartbeats', 'largestHeartbeatGapMs'];
const md = [
  `| attack on node1 (${SECONDS} s + 1 s) | DNS asked | lost | median | p99 | worst | answers > 50 ms | node2 (not attacked) | largest heartbeat gap | notes |`,
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.attack} | ${r.asked} | ${r.lost} | ${r.medianMs} ms | ${r.p99Ms} ms | ${r.worstMs} ms | ${r.over50} | ${r.node2.replace(/ \(.*/, '')} | ${r.largestHeartbeatGapMs} ms | ${Object.entries(r).filter(([k]) => !fixed.includes(k)).map(([k, v]) => `${k} ${v}`).join(', ')} |`),
];
writeFileSync(OUT.replace(/\.json$/, '.md'), `${report.node}, ${threads} answer thread(s) (dns.workers: ${WORKERS}), ${report.cpus} CPUs, load ${report.load}, probe every 10 ms over UDP, attackers at niceness ${NICE}; node flags ${report.nodeArgs.join(' ')}\n\n${md.join('\n')}\n`);
console.log(md.join('\n'));
console.log(`written ${OUT}`);
process.exit(0);
