#!/usr/bin/env node
// The simulated half of bench:scale: N real reducers and message codecs (HMAC included) on the
// in-memory network with a virtual clock, in one process; no sockets, no DNS side. Per size:
//   - formation: all agents started, out of phase (spread over one interval) → every agent serving
//     and every node up in every view (virtual ms, checked every --step ms);
//   - failover for one kill (the agent stops sending and receiving, as kill -9; median of --kills,
//     different nodes, the cluster at rest before each): → every survivor's view has the node down,
//     and → every survivor's zone inputs (failover/zone-inputs.ts) answer its name with a live node;
//   - at rest (--seconds virtual seconds, --repeats times): CPU per agent as a share of one core
//     (process CPU time / (virtual time × N); the range over the repeats, since the machine may be
//     loaded), peer bytes per agent per second, and the largest heartbeat seen on any run; then CPU
//     per agent with one node down (--down-seconds virtual seconds, once).
// Each peer gets its own heartbeat with its own echo alone, so up to 150 nodes fit 1,200 bytes; a
// size the config refuses is reported as refused. Writes a markdown table and JSON to bench/results/.
//
//   npm run bench:scale:sim [-- --sizes 33,65,129 --kills 3 --seconds 30 --repeats 3]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '33,65,129' },
    kills: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '30' },
    repeats: { type: 'string', default: '3' },
    'down-seconds': { type: 'string', default: '2' },
    step: { type: 'string', default: '5' },
    out: { type: 'string', default: join(root, 'bench/results') },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:scale:sim [-- --sizes 33,65,129 --kills 3 --seconds 30 --repeats 3 --down-seconds 2 --step 5 --out DIR --json]');
  process.exit(0);
}
if (!existsSync(join(root, 'dist/membership/runtime.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
const { parseConfig } = await import(join(root, 'dist/config/load.js'));
const { FakeClock } = await import(join(root, 'dist/membership/clock.js'));
const { MemoryNetwork } = await import(join(root, 'dist/membership/memory-network.js'));
const { Membership } = await import(join(root, 'dist/membership/runtime.js'));
const { zoneInputs } = await import(join(root, 'dist/failover/zone-inputs.js'));

const SECONDS = Number(args.seconds);
const STEP = Number(args.step);
const log = (s) => process.stderr.write(`${s}\n`);

function config(n) {
  const nodes = Array.from({ length: n }, (_, i) => ({ name: `node${i + 1}`, address: `198.51.${100 + (i >> 8)}.${(i % 254) + 1}` }));
  return parseConfig(JSON.stringify({ zone: 'cluster.test', secret: 'bench-secret-0123456789abcdef-0123456789', nodes }));
}

/** Advances in steps until `pred` holds; the virtual ms it took, or null after `maxMs`. */
function until(clock, pred, maxMs) {
  const t0 = clock.now();
  while (!pred()) {
    if (clock.now() - t0 >= maxMs) return null;
    clock.advance(STEP);
  }
  return clock.now() - t0;
}

const med = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

function run(n) {
  let cfg;
  try {
    cfg = config(n);
  } catch (e) {
    return { nodes: n, refused: [e.code, ...(e.details ?? [e.message])].join(': ') };
  }
  const clock = new FakeClock(1_000_000);
  const net = new MemoryNetwork(clock, { seed: 1, delayMs: 1 });
  let bytes = 0;
  let largest = 0;
  net.tap = (_from, _to, b) => {
    bytes += b.length;
    largest = Math.max(largest, b.length);
  };
  // The agents' real rhythm: the virtual clock with a wall clock's phase, so heartbeats go out on
  // common interval boundaries with a check half an interval after each (membership/runtime.ts).
  const rhythm = clock.withWallPhase();
  const make = (node, i) =>
    new Membership({
      config: cfg,
      self: node.name,
      transport: net.transport(node.name),
      clock: rhythm,
      getLocalHealth: () => ({ nodeHealthy: true, services: {} }),
      bootIds: () => ({ incarnation: (BigInt(i + 1) << 20n) + BigInt(clock.now()), sequence: 0 }),
    });
  const members = cfg.nodes.map(make);
  const interval = cfg.peer.intervalMs;
  const allFormed = (ms) => ms.every((m) => { const v = m.view(); return v.serving && v.nodes.every((x) => x.up); });

  // Started at odd times, as real agents are (the rhythm lines them up): spread over one interval; timed from the first.
  const t0 = clock.now();
  let started = 0;
  members.forEach((m, i) =>
    clock.setTimeout(() => {
      m.start();
      started++;
    }, Math.floor((i * interval) / n)),
  );
  const formMs = until(clock, () => started === n && allFormed(members), 60_000);
  log(`${n} nodes: formed in ${formMs} virtual ms`);

  const failovers = [];
  for (let k = 0; k < Number(args.kills); k++) {
    clock.advance(cfg.peer.upAfterMs * 3 + 2000); // every hold-down from the last restart long over
    // Failures do not wait for a heartbeat: each kill at another moment of the interval.
    clock.advance(Math.floor(((k * 0.37) % 1) * interval));
    if (!allFormed(members)) log(`${n} nodes: not all up before kill ${k + 1}`);
    const xi = (k * 7) % n;
    const x = members[xi];
    const xname = cfg.nodes[xi].name;
    const survivors = members.filter((m) => m !== x);
    x.stop();
    const downMs = until(clock, () => survivors.every((m) => m.view().nodes.find((v) => v.name === xname).up === false), 30_000);
    const start = clock.now() - (downMs ?? 0);
    until(clock, () => survivors.every((m) => { const t = zoneInputs(cfg, m.view(), 0).nodeTargets.get(xname); return t !== undefined && t !== xname; }), 30_000);
    const answeredMs = clock.now() - start;
    failovers.push({ node: xname, downMs, answeredElsewhereMs: downMs === null ? null : answeredMs });
    log(`${n} nodes: ${xname} down in every survivor's view after ${downMs} virtual ms, answered elsewhere after ${answeredMs}`);
    // Restart it (a new boot id) for the next kill.
    members[xi] = make(cfg.nodes[xi], xi);
    members[xi].start();
  }

  clock.advance(cfg.peer.upAfterMs * 3 + 2000);
  const restFormed = allFormed(members);
  const cpu = [];
  const bps = [];
  for (let r = 0; r < Number(args.repeats); r++) {
    bytes = 0;
    const c0 = process.cpuUsage();
    clock.advance(SECONDS * 1000);
    const c = process.cpuUsage(c0);
    cpu.push((100 * (c.user + c.system)) / 1000 / (SECONDS * 1000 * n));
    bps.push(bytes / SECONDS / n);
  }
  // The same with one node down (stopped, its verdict long settled): the reducer must skip the
  // verdicts then too (membership/settled.ts), or every heartbeat costs O(N²).
  members[n - 1].stop();
  clock.advance(cfg.peer.downAfterMs + 2000);
  const DOWN = Number(args['down-seconds']);
  const d0 = process.cpuUsage();
  clock.advance(DOWN * 1000);
  const d = process.cpuUsage(d0);
  const cpuOneDown = +((100 * (d.user + d.system)) / 1000 / (DOWN * 1000 * (n - 1))).toFixed(2);
  log(`${n} nodes: CPU per agent with one node down ${cpuOneDown} %`);
  for (const m of members) m.stop();
  return {
    cpuPercentPerAgentOneDown: cpuOneDown,
    nodes: n,
    intervalMs: interval,
    downAfterMs: cfg.peer.downAfterMs,
    formMs,
    failoverDownMedianMs: med(failovers.map((f) => f.downMs)),
    failoverAnsweredMedianMs: med(failovers.map((f) => f.answeredElsewhereMs)),
    failovers,
    formedAtRest: restFormed,
    cpuPercentPerAgent: cpu.map((x) => +x.toFixed(3)),
    bytesPerAgentPerSecond: Math.round(med(bps)),
    largestHeartbeat: largest,
  };
}

const results = args.sizes.split(',').map(Number).map(run);
const s2 = (ms) => (ms === null || ms === undefined ? 'never' : `${(ms / 1000).toFixed(3)} s`);
const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
const table = [
  '| nodes | formation | failover: down in every view (median; each kill) | failover: answered elsewhere (median) | CPU % of a core per agent at rest (range) | … with one node down | bytes/s per agent | largest heartbeat |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map((r) =>
    r.refused
      ? `| ${r.nodes} | refused by the config: ${r.refused} | | | | | | |`
      : `| ${r.nodes} | ${s2(r.formMs)} | ${s2(r.failoverDownMedianMs)} (${r.failovers.map((f) => f.downMs ?? 'never').join(', ')} ms) | ${s2(r.failoverAnsweredMedianMs)} | ${range(r.cpuPercentPerAgent)} | ${r.cpuPercentPerAgentOneDown} | ${r.bytesPerAgentPerSecond} | ${r.largestHeartbeat} B |`,
  ),
].join('\n');
const started = new Date().toISOString();
const stamp = started.replace(/[:.]/g, '-');
const md = `# Scale, simulated, ${started}\n\nReal reducers and codec (HMAC included) on the in-memory network, virtual clock, one process, this machine (${cpus().length} CPUs, shared and loaded); default LAN profile; ${args.kills} kills per size, ${args.repeats} × ${SECONDS} virtual s at rest, checked every ${STEP} virtual ms.\n\n${table}\n`;
mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, `scale-sim-${stamp}.md`), md);
writeFileSync(join(args.out, `scale-sim-${stamp}.json`), JSON.stringify({ started, results }, null, 1));
console.log(args.json ? JSON.stringify(results, null, 2) : md);
