#!/usr/bin/env node
// How fast do real resolvers (unbound, BIND 9 `named`) move past a cluster name server that is in the
// minority, when that server answers REFUSED versus SERVFAIL (config `dns.minority`)? The owner needs
// this to choose the default (issue 3).
//
// Setup on loopback, port 53 (run as root), all in 127.0.15.0/24 (the test suite uses 127.0.8.0/24):
// NSD serves a root zone on .30 and `test.` on .31, which delegates `cluster.test.` to three agents on
// .21-23; node3 is cut off from its peers (it is given another secret, so no heartbeat authenticates),
// so it is in the minority and answers the zone with the configured rcode while node1 and node2 serve
// it. The resolver under test listens on .53 and resolves from the local root. named listens only on
// addresses an interface has, so the script adds 127.0.15.53/32 to `lo` (unless it is already there)
// and removes it when it ends, fails or is interrupted.
//
// For each rcode (and a baseline with all three nodes healthy), for each resolver in turn:
//   cold: a fresh resolver process per trial (empty cache, nothing known about the servers: no
//         `rndc flush`, which would leave BIND's per-server state), one query for node1.cluster.test;
//         the resolver picks one of the three servers, so about a third of the trials meet node3 first.
//   warm: sequential queries for distinct names (x<i>.cluster.test, NXDOMAIN from the zone), so every
//         query goes to a cluster server chosen by the resolver's server selection; split over
//         --warm-runs fresh resolvers (default 5), because one BIND tends to stick to the server it
//         found fastest, so a single run mostly tells which server that happened to be.
// Reported: latency percentiles, the queries that did not get the zone's answer, and how many queries
// reached node3 (from its /metrics; node3 is asked by nothing else).
//
// Resolver settings: both use their default QNAME minimisation (relaxed), no DNSSEC validation, a
// 60 s cache cap and a 1 s negative-cache cap. unbound: infra-host-ttl 2 (it forgets a server's
// state after 2 s; --unbound-infra-host-ttl 900 for its default). named: servfail-ttl 1 (its
// default), no control channel, `-4`.
//
//   node bench/minority-rcode.mjs [--trials 40] [--queries 300] [--warm-runs 5] [--resolvers unbound,bind] [--json FILE]

import { execFileSync, spawn, spawnSync } from 'node:child_process';
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
  console.log(
    'usage: node bench/minority-rcode.mjs [--trials N (cold, default 40)] [--queries N (warm, default 300)] [--warm-runs N (fresh resolvers the warm queries are split over, default 5)] [--resolvers unbound,bind] [--unbound-infra-host-ttl S (default 2)] [--max-minutes 15] [--json FILE]',
  );
  process.exit(0);
}
const TRIALS = Number(opt('trials', 40));
const QUERIES = Number(opt('queries', 300));
const WARM_RUNS = Number(opt('warm-runs', 5));
const UNBOUND_INFRA_TTL = Number(opt('unbound-infra-host-ttl', 2));
const JSON_OUT = opt('json', undefined);
const RESOLVERS = opt('resolvers', 'unbound,bind').split(',');
const MAX_MINUTES = Number(opt('max-minutes', 15));
for (const r of RESOLVERS) if (!['unbound', 'bind'].includes(r)) throw new Error(`unknown resolver ${r} (unbound, bind)`);

const ROOT_NS = '127.0.15.30';
const PARENT_NS = '127.0.15.31';
const RESOLVER = '127.0.15.53';
const NODES = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.15.${20 + i}` }));
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

/** Loopback addresses this run added (and so removes); named binds only to interface addresses. */
const added = [];
function addAddress(address) {
  const has = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' });
  if (has.includes(` ${address}/`)) return;
  execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
  added.push(address);
}
function removeAddresses() {
  while (added.length) {
    const address = added.pop();
    try {
      execFileSync('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo'], { stdio: 'ignore' });
    } catch {}
  }
}
async function cleanup() {
  await stopAll();
  removeAddresses();
  rmSync(dir, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => cleanup().then(() => process.exit(130)));
// Every wait below is bounded; this bounds the whole run too.
setTimeout(() => {
  console.error(`gave up after ${MAX_MINUTES} minutes`);
  cleanup().then(() => process.exit(2));
}, MAX_MINUTES * 60_000).unref();

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
    `server:\n  interface: ${RESOLVER}\n  port: 53\n  do-ip6: no\n  do-not-query-localhost: no\n  module-config: "iterator"\n  root-hints: "${d}/root.hints"\n  username: ""\n  chroot: ""\n  directory: "${d}"\n  pidfile: "${d}/unbound.pid"\n  use-syslog: no\n  logfile: ""\n  cache-max-ttl: 60\n  cache-max-negative-ttl: 1\n  infra-host-ttl: ${UNBOUND_INFRA_TTL}\n  access-control: 127.0.0.0/8 allow\n  local-zone: "test." nodefault\nremote-control:\n  control-enable: no\n`,
  );
  const child = start('unbound', ['-d', '-c', join(d, 'unbound.conf')]);
  // Ready when it answers anything at all; asking `test. SOA` warms only the root and test. servers.
  await until('unbound', 10_000, async () => (await query(RESOLVER, 'test', 'SOA', { rd: true, timeoutMs: 300 })).rcode === 'NOERROR');
  return child;
}

async function startNamed() {
  const d = join(dir, 'named');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'root.hints'), `. 3600 IN NS rootns.\nrootns. 3600 IN A ${ROOT_NS}\n`);
  writeFileSync(
    join(d, 'named.conf'),
    [
      'options {',
      `  directory "${d}";`,
      `  pid-file "${d}/named.pid";`,
      `  lock-file "${d}/named.lock";`,
      `  session-keyfile "${d}/session.key";`,
      `  managed-keys-directory "${d}";`,
      `  listen-on port 53 { ${RESOLVER}; };`,
      '  listen-on-v6 { none; };',
      '  recursion yes;',
      '  allow-recursion { any; };',
      '  allow-query-cache { any; };',
      '  dnssec-validation no;',
      '  qname-minimization relaxed;',
      '  max-cache-ttl 60;',
      '  max-ncache-ttl 1;',
      '  servfail-ttl 1;',
      '  notify no;',
      '};',
      'controls { };',
      'zone "." { type hint; file "root.hints"; };',
      '',
    ].join('\n'),
  );
  // -g: foreground, log to stderr (kept in child.out); as root, no -u.
  const child = start('named', ['-g', '-4', '-c', join(d, 'named.conf')]);
  await until('named', 15_000, async () => (await query(RESOLVER, 'test', 'SOA', { rd: true, timeoutMs: 300 })).rcode === 'NOERROR');
  return child;
}
const startResolver = { unbound: startUnbound, bind: startNamed };

/** What the resolver logged about node3 (named: "unexpected RCODE ... 127.0.15.23#53", lame servers). */
function logsAbout(child, address) {
  return child.out
    .split('\n')
    .filter((l) => l.includes(address))
    .map((l) => l.replace(/^\S+ \S+ /, '').replace(/'x\d+-/, "'x<i>-"));
}

/** Queries node3's agent has answered so far, from its /metrics (every transport, type and rcode). */
async function answeredBy(node) {
  return Object.values(await answeredByLabel(node)).reduce((a, b) => a + b, 0);
}
/** The same by label set ({transport,qtype,rcode}), to see what a resolver asks node3. */
async function answeredByLabel(node) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 5000);
  try {
    const text = await (await fetch(`http://${node.address}:55/metrics`, { signal: ctl.signal })).text();
    const out = {};
    for (const l of text.split('\n').filter((l) => l.startsWith('clusterdns_dns_queries_total{'))) {
      out[l.slice(l.indexOf('{'), l.lastIndexOf('}') + 1)] = Number(l.split(' ').pop());
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}
const diff = (after, before) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v > 0));

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
    max: ms.length ? +Math.max(...ms).toFixed(1) : NaN,
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
  const out = [];
  for (const resolver of RESOLVERS) {
    const cold = [];
    const coldLogs = {};
    for (let i = 0; i < TRIALS; i++) {
      const u = await startResolver[resolver]();
      const before = await answeredBy(node3);
      const r = await query(RESOLVER, 'node1.cluster.test', 'A', { rd: true });
      cold.push({ ...r, askedNode3: (await answeredBy(node3)) - before });
      await stop(u);
      for (const l of logsAbout(u, node3.address)) coldLogs[l] = (coldLogs[l] ?? 0) + 1;
    }
    const warm = [];
    const warmPerRun = [];
    const warmByLabel = {};
    const warmLogs = {};
    for (let run = 0, i = 0; run < WARM_RUNS; run++) {
      const u = await startResolver[resolver]();
      const runStart = await answeredByLabel(node3);
      let toNode3 = 0;
      for (let end = Math.round(((run + 1) * QUERIES) / WARM_RUNS); i < end; i++) {
        const before = await answeredBy(node3);
        const r = await query(RESOLVER, `x${i}-${mode}.cluster.test`, 'A', { rd: true });
        const asked = (await answeredBy(node3)) - before;
        warm.push({ ...r, askedNode3: asked });
        toNode3 += asked;
      }
      for (const [k, v] of Object.entries(diff(await answeredByLabel(node3), runStart))) warmByLabel[k] = (warmByLabel[k] ?? 0) + v;
      warmPerRun.push(toNode3);
      await stop(u);
      for (const l of logsAbout(u, node3.address)) warmLogs[l] = (warmLogs[l] ?? 0) + 1;
    }
    const met = cold.filter((r) => r.askedNode3 > 0);
    const rcodes = (xs) => xs.reduce((a, r) => ({ ...a, [r.rcode]: (a[r.rcode] ?? 0) + 1 }), {});
    out.push({
      mode,
      resolver,
      cold: { ...summary(cold, okNode1), rcodes: rcodes(cold), trialsByQueriesToNode3: rcodes(cold.map((r) => ({ rcode: r.askedNode3 }))) },
      /** Cold trials in which the resolver asked node3 (first, or at all): what meeting it costs. */
      coldMetNode3: { ...summary(met, okNode1), queriesToNode3: met.reduce((a, r) => a + r.askedNode3, 0) },
      coldMissedNode3: summary(cold.filter((r) => r.askedNode3 === 0), okNode1),
      warm: {
        ...summary(warm, (r) => r.rcode === 'NXDOMAIN'),
        rcodes: rcodes(warm),
        queriesToNode3: warm.reduce((a, r) => a + r.askedNode3, 0),
        /** Client queries for which the resolver asked node3 at least once, and how often per query. */
        clientQueriesThatAskedNode3: warm.filter((r) => r.askedNode3 > 0).length,
        clientQueriesByQueriesToNode3: rcodes(warm.map((r) => ({ rcode: r.askedNode3 }))),
        /** Queries to node3 in each warm run (a fresh resolver each): BIND tends to stick to one server. */
        queriesToNode3PerRun: warmPerRun,
        queriesToNode3ByLabel: warmByLabel,
      },
      /** Warm queries for which the resolver asked node3: what meeting it costs a resolver that knows the zone. */
      warmMetNode3: summary(warm.filter((r) => r.askedNode3 > 0), (r) => r.rcode === 'NXDOMAIN'),
      /** Resolver log lines naming node3's address (named logs rcodes it did not expect), with counts. */
      logsAboutNode3: { cold: coldLogs, warm: warmLogs },
    });
  }
  for (const a of agents) await stop(a);
  return out;
}

const version = (cmd, argv) => {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 5000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim() || 'unknown';
};
try {
  addAddress(RESOLVER);
  await nsd('root', ROOT_NS, '.', `$TTL 60\n. SOA rootns. h.root. 1 3600 600 86400 5\n. NS rootns.\nrootns. A ${ROOT_NS}\ntest. NS ns.test.\nns.test. A ${PARENT_NS}\n`);
  await nsd(
    'parent',
    PARENT_NS,
    'test.',
    `$TTL 60\ntest. SOA ns.test. h.test. 1 3600 600 86400 5\ntest. NS ns.test.\nns.test. A ${PARENT_NS}\n` +
      NODES.map((n, i) => `cluster.test. 2 NS ns${i + 1}.cluster.test.\nns${i + 1}.cluster.test. 2 A ${n.address}\n`).join(''),
  );
  const results = [];
  const line = (label, x) => `${label.padEnd(38)} n ${String(x.n).padStart(3)}  p50 ${x.p50} ms  p90 ${x.p90} ms  max ${x.max} ms  failed ${x.failed}`;
  for (const mode of ['healthy', 'refused', 'servfail']) {
    for (const r of await measure(mode)) {
      results.push(r);
      console.log(`${mode}, ${r.resolver}:`);
      console.log(`  ${line('cold, resolver asked node3', r.coldMetNode3)}  (${r.coldMetNode3.queriesToNode3} queries to node3)`);
      console.log(`  ${line('cold, resolver did not ask node3', r.coldMissedNode3)}`);
      console.log(
        `  ${line('warm, distinct names', r.warm)}  (${r.warm.queriesToNode3} queries to node3, for ${r.warm.clientQueriesThatAskedNode3} of them; per run ${r.warm.queriesToNode3PerRun.join(' ')})`,
      );
    }
  }
  if (JSON_OUT)
    writeFileSync(
      JSON_OUT,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          command: `node bench/minority-rcode.mjs ${args.join(' ')}`.trim(),
          versions: { unbound: version('unbound', ['-V']), named: version('named', ['-v']), nsd: version('nsd', ['-v']), node: process.version },
          commit: version('git', ['-C', REPO, 'rev-parse', 'HEAD']),
          trials: TRIALS,
          queries: QUERIES,
          warmRuns: WARM_RUNS,
          unboundInfraHostTtl: UNBOUND_INFRA_TTL,
          resolvers: RESOLVERS,
          results,
        },
        null,
        2,
      )}\n`,
    );
} finally {
  await cleanup();
}
