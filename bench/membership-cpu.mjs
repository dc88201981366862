#!/usr/bin/env node
// CPU of the membership protocol at rest: N real reducers and message codecs (HMAC included) on the
// in-memory network with a virtual clock, in one process. Forms the cluster, then measures the CPU
// spent over `--seconds` virtual seconds at rest and reports it per agent as a share of one core
// (CPU time / (virtual time × N)), plus heartbeat bytes. Sockets and the DNS side are not included.
//
//   npm run build && node bench/membership-cpu.mjs [-- --sizes 17,65 --seconds 60]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { parseConfig } = await import(join(root, 'dist/config/load.js'));
const { FakeClock } = await import(join(root, 'dist/membership/clock.js'));
const { MemoryNetwork } = await import(join(root, 'dist/membership/memory-network.js'));
const { Membership } = await import(join(root, 'dist/membership/runtime.js'));

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '17,65' },
    seconds: { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);

function config(n) {
  const nodes = Array.from({ length: n }, (_, i) => ({ name: `node${i + 1}`, address: `198.51.100.${i + 1}` }));
  return parseConfig(JSON.stringify({ zone: 'cluster.test', secret: 'bench-secret-0123456789abcdef-0123456789', nodes }));
}

function run(n) {
  const cfg = config(n);
  const clock = new FakeClock(1_000_000);
  const net = new MemoryNetwork(clock, { seed: 1, delayMs: 1 });
  let bytes = 0;
  let largest = 0;
  net.tap = (_from, _to, b) => {
    bytes += b.length;
    largest = Math.max(largest, b.length);
  };
  const members = cfg.nodes.map((node, i) => {
    const m = new Membership({
      config: cfg,
      self: node.name,
      transport: net.transport(node.name),
      clock,
      getLocalHealth: () => ({ nodeHealthy: true, services: {} }),
      incarnation: BigInt(i + 1) << 20n,
    });
    m.start();
    return m;
  });
  // Out of phase, as real agents are: spread the starts over one interval by running a little between them.
  clock.advance(5000);
  const formed = members.every((m) => m.view().serving && m.view().nodes.every((v) => v.up));
  bytes = 0;
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  clock.advance(SECONDS * 1000);
  const cpu = process.cpuUsage(t0);
  const wallMs = performance.now() - w0;
  for (const m of members) m.stop();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    nodes: n,
    formed,
    virtualSeconds: SECONDS,
    cpuMs: Math.round(cpuMs),
    wallMs: Math.round(wallMs),
    cpuPercentPerAgent: +((100 * cpuMs) / (SECONDS * 1000 * n)).toFixed(3),
    bytesPerAgentPerSecond: Math.round(bytes / SECONDS / n),
    largestHeartbeat: largest,
  };
}

const results = args.sizes.split(',').map(Number).map(run);
if (args.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log('| nodes | formed | CPU per agent at rest (% of a core) | bytes/s per agent | largest heartbeat |');
  console.log('| ---: | :---: | ---: | ---: | ---: |');
  for (const r of results) console.log(`| ${r.nodes} | ${r.formed ? 'yes' : 'no'} | ${r.cpuPercentPerAgent} | ${r.bytesPerAgentPerSecond} | ${r.largestHeartbeat} |`);
}
