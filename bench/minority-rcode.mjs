#!/usr/bin/env node
// How fast does a real resolver (unbound) move past a cluster name server that is in the minority,
// when that server answers REFUSED versus SERVFAIL (config `dns.minority`)? The owner needs this to
// choose the default.
//
// Setup on loopback, port 53 (run as root): NSD serves a root zone and `test.`, which delegates
// `cluster.test.` to three agents on 127.0.8.21-23; node3 is cut off from its peers (it is given
// another secret, so no heartbeat authenticates), so it is in the minority and answers the zone with
// the configured rcode while node1 and node2 serve it. unbound resolves from the local root.
//
// For each rcode (and a baseline with all three nodes healthy):
//   cold: a fresh unbound per trial (nothing known about the servers), one query for node1.cluster.test;
//         unbound picks one of the three servers at random, so about a third of the trials meet node3 first.
//   warm: one unbound, sequential queries for distinct names (x<i>.cluster.test, NXDOMAIN from the zone),
//         so every query goes to a cluster server chosen by unbound's server selection.
// Reported: latency percentiles and the share of queries that did not get the zone's answer.
//
//   node bench/minority-rcode.mjs [--trials 40] [--queries 300] [--json FILE]

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packet = createRequire(join(REPO, 'package.json'))('dns-packet');
const CLI = join(REPO, 'bin', 'clusterdns.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
if (args.includes('--help')) {
  console.log('usage: node bench/minority-rcode.mjs [--trials N (cold, default 40)] [--queries N (warm, default 300)] [--json FILE]');
  process.exit(0);
}
const TRIALS = Number(opt('trials', 40));
const QUERIES = Number(opt('queries', 300));
const JSON_OUT = opt('json', undefined);

const ROOT_NS = '127.0.8.30';
const PARENT_NS = '127.0.8.31';
const RESOLVER = '127.0.8.63';
const NODES = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.8.${20 + i}` }));
const SECRET = 'bench-secret-0123456789abcdef-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'clusterdns-minority-'));

const children = new Set();
function start(cmd, argv) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.out = '';
  child.stdout.on('data', (d) => (child.out += d));
  child.stderr.on('data', (d) => (child.out += d));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
}
async function stopAll() {
  await Promise.all([...children].map(stop));
}
process.on('SIGINT', () => stopAll().then(() => process.exit(130)));

/** One query; resolves { ms, rcode, answers } or { ms, rcode: 'TIMEOUT' }. */
function query(host, name, type, { rd = false, timeoutMs = 5000 } = {}) {
  return new Promise((done) => {
    const s = dgram.createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    const t0 = performance.now();
    const timer = setTimeout(() => finish({ rcode: 'TIMEOUT', answers: [] }), timeoutMs);
    function finish(r) {
      clearTimeout(timer);
      s.close();
      done({ ms: performance.now() - t0, ...r });
    }
    s.on('error', () => finish({ rcode: 'ERROR', answers: [] }));
    s.on('message', (raw) => {
      const p = packet.decode(raw);
      if (p.id === id) finish({ rcode: p.rcode, answers: p.answers ?? [] });
    });
    s.send(packet.encode({ type: 'query', id, flags: rd ? packet.RECURSION_DESIRED : 0, questions: [{ name, type, class: 'IN' }] }), 53, host);
  });
}
async function until(what, ms, probe) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function nsd(name, address, zone, text) {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'zone'), text);
  writeFileSync(
    join(d, 'nsd.conf'),
    `server:\n  ip-address: ${address}\n  port: 53\n  username: ""\n  chroot: ""\n  zonesdir: "${d}"\n  database: ""\n  pidfile: "${d}/nsd.pid"\n  xfrdfile: "${d}/xfrd.state"\n  zonelistfile: "${d}/zone.list"\n  server-count: 1\nremote-control:\n  control-enable: no\nzone:\n  name: "${zone}"\n  zonefile: "${d}/zone"\n`,
  );
  const child = start('nsd', ['-d', '-c', join(d, 'nsd.conf')]);
  await until(`nsd on ${address}`, 10_000, async () => (await query(address, zone, 'SOA', { timeoutMs: 200 })).rcode === 'NOERROR');
  return child;
}

function clusterConfig(minority, secret) {
  return [
    'zone: cluster.test',
    'ttl: 2',
    `secret: "${secret}"`,
    `dns: { port: 53, minority: ${minority} }`,
    'peer: { port: 54 }',
    'http: { port: 55 }',
    'parent: { ttl: 2 }',
    'nodes:',
    ...NODES.map((n) => `  - { name: ${n.name}, address: ${n.address} }`),
    '',
  ].join('\n');
}

async function startUnbound() {
  const d = join(dir, 'unbound');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'root.hints'), `. 3600 IN NS rootns.\nrootns. 3600 IN A ${ROOT_NS}\n`);
  writeFileSync(
    join(d, 'unbound.conf'),
    `server:\n  interface: ${RESOLVER}\n  port: 53\n  do-ip6: no\n  do-not-query-localhost: no\n  module-config: "iterator"\n  root-hints: "${d}/root.hints"\n  username: ""\n  chroot: ""\n  directory: "${d}"\n  pidfile: "${d}/unbound.pid"\n  use-syslog: no\n  logfile: ""\n  cache-max-ttl: 60\n  cache-max-negative-ttl: 1\n  infra-host-ttl: 2\n  access-control: 127.0.0.0/8 allow\n  local-zone: "test." nodefault\nremote-control:\n  control-enable: no\n`,
  );
  const child = start('unbound', ['-d', '-c', join(d, 'unbound.conf')]);
  // Ready when it answers anything at all; asking `test. SOA` warms only the root and test. servers.
  await until('unbound', 10_000, async () => (await query(RESOLVER, 'test', 'SOA', { rd: true, timeoutMs: 300 })).rcode === 'NOERROR');
  return child;
}

/** Queries node3's agent has answered so far, from its /metrics (every transport, type and rcode). */
async function answeredBy(node) {
  const text = await (await fetch(`http://${node.address}:55/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('clusterdns_dns_queries_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const summary = (results, ok) => {
  const ms = results.map((r) => r.ms);
  return {
    n: results.length,
    failed: results.filter((r) => !ok(r)).length,
    p50: +pct(ms, 50).toFixed(1),
    p90: +pct(ms, 90).toFixed(1),
    p99: +pct(ms, 99).toFixed(1),
    max: +Math.max(...ms).toFixed(1),
    over100ms: ms.filter((x) => x > 100).length,
  };
};

async function measure(mode) {
  const agents = [];
  for (const n of NODES) {
    const cut = mode !== 'healthy' && n.name === 'node3';
    const file = join(dir, `${mode}-${n.name}.yaml`);
    writeFileSync(file, clusterConfig(mode === 'healthy' ? 'refused' : mode, cut ? `${SECRET}-partitioned` : SECRET));
    agents.push(start(process.execPath, [CLI, 'agent', '--config', file, '--node', n.name]));
  }
  const expectNode3 = mode === 'healthy' ? 'NOERROR' : mode.toUpperCase();
  for (const n of NODES) {
    const want = n.name === 'node3' ? expectNode3 : 'NOERROR';
    await until(`${n.name} answering ${want}`, 15_000, async () => (await query(n.address, 'cluster.test', 'SOA', { timeoutMs: 300 })).rcode === want);
  }
  const okNode1 = (r) => r.rcode === 'NOERROR' && r.answers.some((a) => a.type === 'A' && a.data === NODES[0].address);
  const node3 = NODES[2];
  const cold = [];
  for (let i = 0; i < TRIALS; i++) {
    const u = await startUnbound();
    const before = await answeredBy(node3);
    const r = await query(RESOLVER, 'node1.cluster.test', 'A', { rd: true });
    cold.push({ ...r, askedNode3: (await answeredBy(node3)) - before });
    await stop(u);
  }
  const u = await startUnbound();
  const warm = [];
  const before = await answeredBy(node3);
  for (let i = 0; i < QUERIES; i++) warm.push(await query(RESOLVER, `x${i}-${mode}.cluster.test`, 'A', { rd: true }));
  const warmToNode3 = (await answeredBy(node3)) - before;
  await stop(u);
  for (const a of agents) await stop(a);
  const met = cold.filter((r) => r.askedNode3 > 0);
  return {
    mode,
    cold: summary(cold, okNode1),
    /** Cold trials in which unbound asked node3 (first, or at all): what meeting it costs. */
    coldMetNode3: { ...summary(met, okNode1), queriesToNode3: met.reduce((a, r) => a + r.askedNode3, 0) },
    coldMissedNode3: summary(cold.filter((r) => r.askedNode3 === 0), okNode1),
    warm: { ...summary(warm, (r) => r.rcode === 'NXDOMAIN'), queriesToNode3: warmToNode3 },
  };
}

try {
  await nsd('root', ROOT_NS, '.', `$TTL 60\n. SOA rootns. h.root. 1 3600 600 86400 5\n. NS rootns.\nrootns. A ${ROOT_NS}\ntest. NS ns.test.\nns.test. A ${PARENT_NS}\n`);
  await nsd(
    'parent',
    PARENT_NS,
    'test.',
    `$TTL 60\ntest. SOA ns.test. h.test. 1 3600 600 86400 5\ntest. NS ns.test.\nns.test. A ${PARENT_NS}\n` +
      NODES.map((n, i) => `cluster.test. 2 NS ns${i + 1}.cluster.test.\nns${i + 1}.cluster.test. 2 A ${n.address}\n`).join(''),
  );
  const results = [];
  for (const mode of ['healthy', 'refused', 'servfail']) {
    const r = await measure(mode);
    results.push(r);
    const line = (label, x) => `${label.padEnd(36)} n ${String(x.n).padStart(3)}  p50 ${x.p50} ms  p90 ${x.p90} ms  max ${x.max} ms  failed ${x.failed}`;
    console.log(`${mode}:`);
    console.log(`  ${line('cold, unbound asked node3', r.coldMetNode3)}  (${r.coldMetNode3.queriesToNode3} queries to node3)`);
    console.log(`  ${line('cold, unbound did not ask node3', r.coldMissedNode3)}`);
    console.log(`  ${line('warm, distinct names', r.warm)}  (${r.warm.queriesToNode3} of them reached node3)`);
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify({ date: new Date().toISOString(), trials: TRIALS, queries: QUERIES, results }, null, 2)}\n`);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
