#!/usr/bin/env node
// Failover benchmark: real agents on 127.0.13.x; `kill -9` a random one and time until every
// survivor answers its name with a live address; restart it and time until every agent answers its
// own address again (that includes the hold-down, peer.upAfter). Prints medians and worst cases,
// then the CPU and memory of one agent of a five-node cluster at rest.
//
//   npm run bench:failover [-- --trials 20 --sizes 3,5 --rest-seconds 10]
import { spawn, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import packet from 'dns-packet';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' },
    sizes: { type: 'string', default: '3,5' },
    'rest-seconds': { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const TRIALS = Number(args.trials);
const SIZES = args.sizes.split(',').map(Number);
const DNS_PORT = 5313;
const SECRET = 'bench-secret-0123456789abcdef-0123456789';
const CLI = join(root, 'bin/clusterdns.js');

if (!existsSync(join(root, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });

const children = new Set();
function stopAll() {
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {}
  }
  children.clear();
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

const address = (i) => `127.0.13.${i + 1}`;

/** The running cluster's folder: its config and each agent's log (kept when a trial fails). */
let logDir = '';

function startAgent(dir, name) {
  // Each agent's log is kept next to the config: a trial that does not converge says why there.
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [CLI, 'agent', '--config', join(dir, 'cluster.yaml'), '--node', name], {
    stdio: ['ignore', log, log],
    detached: true,
    env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' },
  });
  closeSync(log);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const sock = dgram.createSocket('udp4');
await new Promise((r) => sock.bind(0, '127.0.13.200', r));
let nextId = 1;
const pending = new Map();
sock.on('message', (m) => {
  try {
    const d = packet.decode(m);
    const p = pending.get(d.id);
    if (p) {
      pending.delete(d.id);
      p(d);
    }
  } catch {}
});

/** The A addresses `server` gives for `name`, or null (no answer in 200 ms / not NOERROR). */
function ask(server, name) {
  const id = nextId++ & 0xffff || 1;
  nextId = id + 1;
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      pending.delete(id);
      resolve(null);
    }, 200);
    pending.set(id, (d) => {
      clearTimeout(t);
      resolve(d.rcode === 'NOERROR' ? d.answers.filter((a) => a.type === 'A').map((a) => a.data).sort() : null);
    });
    sock.send(packet.encode({ type: 'query', id, questions: [{ name, type: 'A' }] }), DNS_PORT, server);
  });
}

/** Polls every 5 ms until `ok(answers)` holds for every server; returns elapsed ms from `since`. */
async function until(servers, name, ok, since, limitMs = 20_000) {
  for (;;) {
    const answers = await Promise.all(servers.map((s) => ask(s, name)));
    if (answers.every(ok)) return performance.now() - since;
    if (performance.now() - since > limitMs) throw new Error(`${name}: no convergence in ${limitMs} ms: ${JSON.stringify(answers)} (agents' logs: ${logDir})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, median: Math.round(median), p90: Math.round(s[Math.floor(s.length * 0.9)] ?? s[s.length - 1]), worst: Math.round(s[s.length - 1]), best: Math.round(s[0]) };
};

async function runCluster(size) {
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-bench-failover-'));
  logDir = dir;
  const names = Array.from({ length: size }, (_, i) => `node${i + 1}`);
  writeFileSync(
    join(dir, 'cluster.yaml'),
    [
      'zone: cluster.test',
      `secret: "${SECRET}"`,
      `dns: { port: ${DNS_PORT} }`,
      `peer: { port: ${DNS_PORT + 1} }`,
      `http: { port: ${DNS_PORT + 2}, enabled: false }`,
      'nodes:',
      ...names.map((n, i) => `  - { name: ${n}, address: ${address(i)} }`),
    ].join('\n'),
  );
  const agents = new Map(names.map((n) => [n, startAgent(dir, n)]));
  const all = names.map((_, i) => address(i));
  await until(all, 'cluster.test', (a) => a?.length === size, performance.now(), 20_000);
  const failover = [];
  const recovery = [];
  // A node killed again within peer.maxUpAfter (60 s) of its last recovery is flapping: its
  // hold-down doubles by design, so those recoveries are reported apart.
  const damped = [];
  const recoveredAt = new Map();
  for (let t = 0; t < TRIALS; t++) {
    const victim = Math.floor(Math.random() * size);
    const name = names[victim];
    const survivors = all.filter((_, i) => i !== victim);
    // Failures do not wait for a heartbeat: kill at a random moment of the interval. Agents send on
    // the shared clock's interval boundaries and the recovery just seen ended on one, so killing at
    // once would always kill just after a heartbeat (the slowest case).
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const killedAt = performance.now();
    process.kill(-agents.get(name).pid, 'SIGKILL');
    failover.push(await until(survivors, `${name}.cluster.test`, (a) => a?.length === 1 && survivors.includes(a[0]), killedAt));
    const flapping = recoveredAt.has(name) && killedAt - recoveredAt.get(name) < 60_000;
    const startedAt = performance.now();
    agents.set(name, startAgent(dir, name));
    const took = await until(all, `${name}.cluster.test`, (a) => a?.length === 1 && a[0] === address(victim), startedAt, 130_000);
    recoveredAt.set(name, performance.now());
    (flapping ? damped : recovery).push(took);
    process.stdout.write(
      `  ${size} nodes, trial ${t + 1}/${TRIALS}: killed ${name}, failover ${Math.round(failover.at(-1))} ms, recovery ${Math.round(took)} ms${flapping ? ' (flapping: hold-down doubled)' : ''}\n`,
    );
  }
  let rest;
  if (size === Math.max(...SIZES)) rest = await measureRest(agents.get(names[0]).pid, Number(args['rest-seconds']));
  stopAll();
  rmSync(dir, { recursive: true, force: true });
  return { size, failover: stats(failover), recovery: stats(recovery), damped: damped.length ? stats(damped) : null, rest };
}

/** CPU share and memory of one agent over `seconds` with nothing to do but heartbeats. */
async function measureRest(pid, seconds) {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const cpu = () => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / ticks;
  };
  const mem = () => {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)[1]);
    return { rssMB: +(kb('VmRSS') / 1024).toFixed(1), peakMB: +(kb('VmHWM') / 1024).toFixed(1) };
  };
  const c0 = cpu();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const share = (cpu() - c0) / ((performance.now() - t0) / 1000);
  return { seconds, cpuPercent: +(share * 100).toFixed(2), ...mem() };
}

const node = process.version;
console.log(`clusterdns failover benchmark — ${TRIALS} trials per cluster, default timings (interval 250 ms, downAfter 1 s, upAfter 3 s), Node ${node}`);
const results = [];
for (const size of SIZES) results.push(await runCluster(size));
sock.close();

console.log('\n| cluster | trials | failover median | failover p90 | failover worst | recovery median | recovery worst | flapping recoveries (n, median) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results)
  console.log(
    `| ${r.size} nodes | ${r.failover.n} | ${r.failover.median} ms | ${r.failover.p90} ms | ${r.failover.worst} ms | ${r.recovery.n ? `${r.recovery.median} ms` : '–'} | ${r.recovery.n ? `${r.recovery.worst} ms` : '–'} | ${r.damped ? `${r.damped.n}, ${r.damped.median} ms` : '0'} |`,
  );
const rest = results.find((r) => r.rest)?.rest;
if (rest) console.log(`\nOne agent of a ${Math.max(...SIZES)}-node cluster at rest over ${rest.seconds} s: CPU ${rest.cpuPercent} %, RSS ${rest.rssMB} MB (peak ${rest.peakMB} MB)`);
console.log(
  "failover: from kill -9 to every survivor answering the dead node's name with a live address; recovery: from restart to every agent answering the node's own address again (includes the 3 s hold-down); a node killed again within 60 s of recovering is flapping and its hold-down doubles (6 s, 12 s, …), reported apart",
);

const out = args.json ?? join(root, 'bench/results', `failover-${new Date().toISOString().slice(0, 10)}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node, trials: TRIALS, results }, null, 2) + '\n');
console.log(`\nwrote ${out}`);
