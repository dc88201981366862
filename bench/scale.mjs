#!/usr/bin/env node
// Scale benchmark: real agents at 3, 9 and 17 nodes on this machine, each in its own network
// namespace on the fault lab's bridge (test/lab/netlab.mjs; agents only). Per size:
//   - time to form: all agents started together → every agent answers every node's name with that
//     node's own address (polled at 4 Hz from the observer namespace);
//   - failover for one kill -9 (median of --kills): → every survivor answers the node's name with
//     a live address (that name polled at 20 Hz on every agent);
//   - at rest (no poller, --rest-seconds): CPU % of one core and RSS per agent (/proc); then, over
//     another --rest-seconds, peer bytes/s per agent and the largest heartbeat (UDP payload to the
//     peer port), both captured in the
//     bridge's namespace with an AF_PACKET socket on every port (python3); each frame is counted
//     once, as it enters the bridge (copies leaving it are PACKET_OUTGOING and skipped).
// Writes a markdown table and JSON to bench/results/. Root only.
//
//   npm run bench:scale [-- --sizes 3,9,17 --kills 3 --rest-seconds 10]
//   npm run bench:scale -- --sim [...]   the simulated sizes instead: bench/scale-sim.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lab, labUnavailable, REPO, sleep } from '../test/lab/netlab.mjs';

// --sim: the simulated half (33, 65 and 129 nodes in one process, virtual clock; no root, no lab).
if (process.argv.includes('--sim')) {
  const r = spawnSync(process.execPath, [join(REPO, 'bench/scale-sim.mjs'), ...process.argv.slice(2).filter((a) => a !== '--sim')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '3,9,17' },
    kills: { type: 'string', default: '3' },
    'rest-seconds': { type: 'string', default: '10' },
    out: { type: 'string', default: join(REPO, 'bench/results') },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:scale [-- --sizes 3,9,17 --kills 3 --rest-seconds 10 --out DIR]');
  process.exit(0);
}
if (!existsSync(join(REPO, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
const why = labUnavailable() ?? (spawnSync('python3', ['-c', '1']).status === 0 ? undefined : 'python3 is needed to capture heartbeats');
if (why) {
  console.error(`bench:scale: ${why}`);
  process.exit(2);
}
const log = (s) => process.stderr.write(`${s}\n`);
const PEER_PORT = 7946;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Every agent answers every node's name with that node's address. */
function formed(lab) {
  return lab.nodes.every((a) => lab.nodes.every((n) => lab.current(a.name, n.name) === n.addr));
}

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(20);
  }
  return Date.now();
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime, stime
}
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

/** Peer-port UDP on the bridge for `seconds`: total payload bytes, packets, largest payload. */
function capture(lab, seconds) {
  const py = `
import socket, struct, time, json
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))
# Agents send on common interval boundaries, so every heartbeat of an interval crosses the bridge
# within milliseconds: a default-sized buffer overflowed at 17 nodes and half went uncounted.
try:
    s.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE (root)
except OSError:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
s.settimeout(0.2)
end = time.time() + ${seconds}
total = packets = largest = 0
while time.time() < end:
    try:
        f, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(f) < 42 or f[12:14] != b'\\x08\\x00' or f[23] != 17:
        continue
    ihl = (f[14] & 15) * 4
    dport, ulen = struct.unpack('!HH', f[14 + ihl + 2:14 + ihl + 6])
    if dport != ${PEER_PORT}:
        continue
    total += ulen - 8; packets += 1; largest = max(largest, ulen - 8)
packets_seen, drops = struct.unpack('II', s.getsockopt(263, 6, 8))  # SOL_PACKET, PACKET_STATISTICS
print(json.dumps({'bytes': total, 'packets': packets, 'largest': largest, 'drops': drops}))
`;
  return JSON.parse(execFileSync('ip', ['netns', 'exec', lab.ns.br, 'python3', '-c', py], { encoding: 'utf8', timeout: (seconds + 10) * 1000 }));
}

const med = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

const rows = [];
for (const size of args.sizes.split(',').map(Number)) {
  const lab = new Lab({ size, log });
  try {
    await lab.up({ services: false });
    await lab.startPoller({ names: lab.nodes.map((n) => n.name), hz: 4 });
    const t0 = Date.now();
    await lab.startAgents();
    const formedAt = await until(() => formed(lab), 120_000, `${size} agents to form`);
    const formMs = formedAt - t0;
    log(`${size} nodes formed in ${formMs} ms`);

    const failovers = [];
    for (let k = 0; k < Number(args.kills); k++) {
      const x = lab.nodes[k % size];
      lab.answers = new Map();
      await lab.startPoller({ names: [x.name], hz: 20 });
      await until(() => lab.nodes.every((a) => lab.current(a.name, x.name) === x.addr), 30_000, `${x.name} answered by every agent`);
      const at = lab.kill(x.name, { redis: false });
      const live = (v) => v !== undefined && /^\d/.test(v) && !v.split(',').includes(x.addr);
      const done = await until(() => lab.nodes.every((a) => a === x || live(lab.current(a.name, x.name))), 30_000, `${x.name} failed over`).catch(() => null);
      failovers.push(done === null ? null : done - at);
      log(`${size} nodes: failover of ${x.name} ${done === null ? 'never' : `${done - at} ms`}`);
      await lab.restart(x.name);
      await until(() => lab.nodes.every((a) => lab.current(a.name, x.name) === x.addr), 60_000, `${x.name} back on every agent`);
    }

    // At rest: no poller; wait for the restarted node's hold-down to be long over, and the restarted
    // agents' own start-up (compiling their hot paths) with it: measured 3 s after the last
    // restart, 17 agents cost 1.4-1.7 % each, 10 s after, 0.8-1.0 %.
    await lab.stopPoller();
    await sleep(10_000);
    const pids = [...lab.agents.values()].map((a) => a.proc.pid);
    const secs = Number(args['rest-seconds']);
    // CPU first, with nothing else running: the capture (python reading every frame on the
    // bridge) shares the two cores and would be counted into the agents' cost by contention.
    const before = pids.map(cpuTicks);
    const wall0 = performance.now();
    await sleep(secs * 1000);
    const wall = (performance.now() - wall0) / 1000;
    const cpu = pids.map((p, i) => ((cpuTicks(p) - before[i]) / CLK_TCK / wall) * 100);
    const rss = pids.map(rssMb);
    const cap = capture(lab, secs);
    const row = {
      nodes: size,
      formMs,
      failoverMedianMs: med(failovers),
      failovers,
      cpuPctMedian: med(cpu),
      cpuPctMax: Math.max(...cpu),
      rssMbMedian: med(rss),
      rssMbMax: Math.max(...rss),
      peerBytesPerSecPerAgent: cap.bytes / secs / size,
      heartbeatsPerSec: cap.packets / secs,
      largestHeartbeatBytes: cap.largest,
      captureDrops: cap.drops,
    };
    if (cap.drops) log(`${size} nodes: the capture dropped ${cap.drops} frames: peer bytes/s is short`);
    rows.push(row);
    log(JSON.stringify(row));
  } finally {
    await lab.down();
  }
}

const f1 = (x) => (x === null || x === undefined ? '–' : x.toFixed(1));
const s2 = (ms) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
const table = [
  '| nodes | time to form | failover (median of kills) | CPU % per agent at rest (median / max) | RSS per agent (median / max) | peer bytes/s per agent (sent) | largest heartbeat (UDP payload) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.nodes} | ${s2(r.formMs)} | ${s2(r.failoverMedianMs)} (${r.failovers.map((x) => (x === null ? 'never' : `${x}`)).join(', ')} ms) | ${f1(r.cpuPctMedian)} / ${f1(r.cpuPctMax)} | ${f1(r.rssMbMedian)} / ${f1(r.rssMbMax)} MB | ${Math.round(r.peerBytesPerSecPerAgent)}${r.captureDrops ? ` (capture dropped ${r.captureDrops} frames)` : ''} | ${r.largestHeartbeatBytes} B |`),
].join('\n');
const started = new Date().toISOString();
const stamp = started.replace(/[:.]/g, '-');
mkdirSync(args.out, { recursive: true });
const md = `# Scale, ${started}\n\nReal agents in network namespaces on one bridge, this machine (${(await import('node:os')).cpus().length} CPUs); ${args.kills} kills per size, ${args['rest-seconds']} s at rest.\n\n${table}\n`;
writeFileSync(join(args.out, `scale-${stamp}.md`), md);
writeFileSync(join(args.out, `scale-${stamp}.json`), JSON.stringify({ started, rows }, null, 1));
console.log(md);
