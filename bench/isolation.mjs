#!/usr/bin/env node
// Isolation of the failure detector (issue 17): a 3-node cluster on loopback; one node (node1) gets
// each load in turn, and for each the heartbeats it sends to node2 are captured on the wire
// (tcpdump on lo). Per load: node1's largest heartbeat gap, false failovers (any agent declaring
// node1, node2 or node3 down), and node1's DNS answers/s (the flood's own rate, else a fixed-rate
// probe). Goal: gap ≤ interval + 50 ms, no false failover.
//
//   npm run bench:isolation [-- --seconds 8 --workers 1 --node /path/to/node --loads idle,dns,discovery,http,sighup,tcp]
//   npm run bench:isolation -- --agent-root /path/to/0.2-checkout --workers none   # the same loads on another build
//
// Root (tcpdump on lo); needs dnsperf and tcpdump. Loopback block 127.0.194.0/24 (agents),
// 127.0.195.0/24 (load sources), 127.0.197.0/24 (the 150-node config's absent nodes).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hammer, pipelinedConnections } from './loads.mjs';
import { benchProcesses } from './procs.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const SECONDS = Number(arg('--seconds', 8));
const WORKERS = arg('--workers', '1');
const NODE = arg('--node', process.execPath);
const LOADS = arg('--loads', 'idle,dns,discovery,http,sighup,tcp').split(',');
const OUT = arg('--out', join(ROOT, 'bench', 'results', `isolation-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));
const NODE_ARGS = readFileSync(join(ROOT, 'bin', 'clusterdns.js'), 'utf8').split('\n')[0].replace(/^#!\S*env -S node\s*/, '').split(/\s+/).filter((a) => a.startsWith('--'));
// --agent-root DIR: benchmark another checkout's agent (e.g. 0.2, with --workers none: no such field).
const CLI = join(arg('--agent-root', ROOT), 'bin', 'clusterdns.js');
const A = (i) => `127.0.194.${i}`;
const DNS = 6590, PEER = 6591, HTTP = 6592, DISC = 6593;
const INTERVAL = 250;
const SECRET = 'bench-secret-0123456789abcdef-0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const tool of ['dnsperf', 'tcpdump']) {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
  } catch {
    console.error(`bench:isolation needs ${tool}`);
    process.exit(2);
  }
}

const { dir, start } = benchProcesses('clusterdns-isolation-');

const key = execFileSync(NODE, [CLI, 'dnssec', 'keygen', '--config', writeCfg('keygen.yaml', 3), '--directory', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

function configYaml(nodes, withKey = true) {
  const lines = [
    'zone: cluster.test',
    `secret: "${SECRET}"`,
    `dns: { port: ${DNS},${WORKERS === 'none' ? '' : ` workers: ${WORKERS},`} rateLimit: { responsesPerSecond: 0 } }`,
    `peer: { port: ${PEER} }`,
    `http: { port: ${HTTP} }`,
    `discovery: { enabled: true, port: ${DISC} }`,
    ...(withKey ? [`dnssec: { keys: [${JSON.stringify(key)}] }`] : []),
    'nodes:',
  ];
  for (let i = 1; i <= nodes; i++) lines.push(i <= 3 ? `  - { name: node${i}, address: ${A(i)} }` : `  - { name: node${i}, address: 192.0.2.${i}, address6: "2001:db8::${i}", peerAddress: 127.0.197.${i - 3}, listen: [127.0.197.${i - 3}] }`);
  lines.push('services:', '  - { name: redis, port: 6379 }', '  - { name: pg, port: 5432 }');
  return lines.join('\n') + '\n';
}
function writeCfg(name, nodes, withKey = false) {
  const p = join(dir, name);
  writeFileSync(p, configYaml(nodes, withKey && nodes > 0));
  return p;
}

const base = configYaml(3);
const big = configYaml(150);
const cfg = (i) => join(dir, `node${i}.yaml`);
for (const i of [1, 2, 3]) writeFileSync(cfg(i), base);
const agents = [1, 2, 3].map((i) => start(NODE, [...NODE_ARGS, CLI, 'agent', '--config', cfg(i), '--node', `node${i}`], { env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } }));
const capture = start('tcpdump', ['-i', 'lo', '-nn', '-tt', '-l', '-B', '8192', `udp and src host ${A(1)} and src port ${PEER} and dst host ${A(2)}`]);
const queries = join(dir, 'queries.txt');
writeFileSync(queries, ['node1.cluster.test A', 'node2.cluster.test A', 'node3.cluster.test A', 'cluster.test NS', 'redis.cluster.test A', '_pg._tcp.cluster.test SRV', 'cluster.test SOA', 'nx.cluster.test A'].join('\n') + '\n');

async function status(i) {
  return (await fetch(`http://${A(i)}:${HTTP}/v1/status`)).json();
}
const end = Date.now() + 30_000;
for (;;) {
  const ok = await Promise.all([1, 2, 3].map((i) => status(i).then((s) => s.serving && s.nodes.every((n) => n.up)).catch(() => false)));
  if (ok.every(Boolean)) break;
  if (Date.now() > end) {
    console.error('the cluster did not come up:\n' + agents.map((a) => a.out.slice(-2000)).join('\n'));
    process.exit(1);
  }
  await sleep(200);
}
const threads = (await status(1)).dns.threads?.length ?? 1;
await sleep(1500);

/** Heartbeat arrival times (s) node1 → node2 captured so far. */
function beats() {
  return capture.out
    .split('\n')
    .map((l) => Number(l.split(' ')[0]))
    .filter((t) => Number.isFinite(t) && t > 0);
}
const downs = () => agents.reduce((n, a) => n + (a.out.match(/"event":"verdict","subject":"node[123]","up":false/g) ?? []).length, 0);

/** dnsperf against node1 for `seconds`; qps 0: as fast as it answers. */
function dnsperf(seconds, qps) {
  return new Promise((resolve) => {
    const args = ['-s', A(1), '-p', String(DNS), '-d', queries, '-l', String(seconds), '-c', '4', '-q', '200', '-t', '2', ...(qps ? ['-Q', String(qps)] : [])];
    const p = start('dnsperf', args);
    p.on('exit', () => {
      const rate = Number(/Queries per second:\s+([\d.]+)/.exec(p.out)?.[1] ?? 0);
      const lost = Number(/Queries lost:\s+(\d+)/.exec(p.out)?.[1] ?? 0);
      const sent = Number(/Queries sent:\s+(\d+)/.exec(p.out)?.[1] ?? 0);
      resolve({ answersPerSecond: Math.round(rate), lost, sent });
    });
  });
}

const loads = {
  idle: async (stopAt) => {
    await sleep(stopAt - Date.now());
  },
  dns: async () => undefined, // the probe is the flood (no rate cap)
  // 10,000 connections, each with pipelined commands, from 40 source addresses.
  discovery: (stopAt) => pipelinedConnections(stopAt, { host: A(1), port: DISC, source: (k) => `127.0.195.${1 + k}` }),
  http: (stopAt) => hammer(`http://${A(1)}:${HTTP}/metrics`, stopAt),
  sighup: async (stopAt) => {
    // The 150-node signed config and back, in turn; how long each reload held node1's main thread:
    // from the signal to its 'reload' log line (written when the reload is done).
    let n = 0;
    const held = [];
    const reloadLines = () => agents[0].out.split('\n').filter((l) => l.includes('"event":"reload"'));
    while (Date.now() < stopAt) {
      writeFileSync(cfg(1), n % 2 === 0 ? big : base);
      const seen = reloadLines().length;
      const sent = Date.now();
      process.kill(agents[0].pid, 'SIGHUP');
      n++;
      while (reloadLines().length === seen && Date.now() - sent < 10_000) await sleep(20);
      const line = reloadLines()[seen];
      if (line && n % 2 === 1) held.push(JSON.parse(line).time - sent);
      await sleep(Math.max(0, 1500 - (Date.now() - sent)));
    }
    writeFileSync(cfg(1), base);
    process.kill(agents[0].pid, 'SIGHUP');
    return { reloads: n + 1, failedReloads: (agents[0].out.match(/"event":"reload-failed"/g) ?? []).length, mainThreadHeldMsPer150NodeReload: held.join('/') };
  },
  tcp: async (stopAt) => {
    const q = Buffer.from('002e1234010000010000000000010000000000000', 'hex');
    const query = (id) => {
      const name = Buffer.concat([Buffer.from([5]), Buffer.from('node1'), Buffer.from([7]), Buffer.from('cluster'), Buffer.from([4]), Buffer.from('test'), Buffer.from([0])]);
      const msg = Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 1, 0, 1])]);
      return Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg]);
    };
    void q;
    const socks = [];
    let connected = 0;
    for (let i = 0; i < 1000; i++) {
      const s = net.connect({ host: A(1), port: DNS, localAddress: `127.0.195.${1 + (i % 100)}` });
      s.on('error', () => undefined);
      s.on('connect', () => {
        connected++;
        s.write(Buffer.concat(Array.from({ length: 20 }, (_, k) => query(k))));
      });
      s.on('data', () => undefined);
      socks.push(s);
    }
    await sleep(Math.max(0, stopAt - Date.now()));
    for (const s of socks) s.destroy();
    return { connected };
  },
};

const results = [];
for (const name of LOADS) {
  if (!loads[name]) {
    console.error(`no load named ${name}`);
    continue;
  }
  const t0 = Date.now() / 1000;
  const downsBefore = downs();
  const stopAt = Date.now() + SECONDS * 1000;
  const [extra, dns] = await Promise.all([loads[name](stopAt), dnsperf(SECONDS, name === 'dns' ? 0 : 2000)]);
  await sleep(1000); // the capture's buffer reaches us
  const t1 = Date.now() / 1000;
  const b = beats().filter((t) => t >= t0 && t <= t1 - 0.5);
  const gaps = b.slice(1).map((t, i) => (t - b[i]) * 1000);
  const row = {
    load: name,
    heartbeats: b.length,
    largestGapMs: Math.round(Math.max(...gaps)),
    falseFailovers: downs() - downsBefore,
    dnsAnswersPerSecond: dns.answersPerSecond,
    dnsLost: dns.lost,
    dnsSent: dns.sent,
    ...(extra ?? {}),
  };
  results.push(row);
  console.log(JSON.stringify(row));
  await sleep(2000);
}

const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agents[0].pid}/status`, 'utf8'))[1]) / 1024;
const report = { date: new Date().toISOString(), node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(), nodeArgs: NODE_ARGS, cpus: cpus().length, workers: WORKERS, answerThreads: threads, intervalMs: INTERVAL, seconds: SECONDS, node1RssMb: Math.round(rss), results };
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
const md = [
  `| load (on node1, ${SECONDS} s) | largest heartbeat gap | heartbeats | false failovers | node1 DNS answers/s (lost) | notes |`,
  '| --- | --- | --- | --- | --- | --- |',
  ...results.map((r) => `| ${r.load} | ${r.largestGapMs} ms | ${r.heartbeats} | ${r.falseFailovers} | ${r.dnsAnswersPerSecond.toLocaleString('en')} (${r.dnsLost}) | ${Object.entries(r).filter(([k]) => !['load', 'heartbeats', 'largestGapMs', 'falseFailovers', 'dnsAnswersPerSecond', 'dnsLost', 'dnsSent'].includes(k)).map(([k, v]) => `${k} ${v}`).join(', ')} |`),
];
writeFileSync(OUT.replace(/\.json$/, '.md'), `${report.node}, ${threads} answer thread(s) (dns.workers: ${WORKERS}), ${report.cpus} CPUs, interval ${INTERVAL} ms, node1 RSS after ${Math.round(rss)} MB\n\n${md.join('\n')}\n`);
console.log(md.join('\n'));
console.log(`written ${OUT}`);
process.exit(0);
