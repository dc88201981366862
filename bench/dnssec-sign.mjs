#!/usr/bin/env node
// What a failover costs a signed zone: the time to compile the answer table of a 9-node zone (IPv6,
// two services) after one node fails over, signed (only the changed RRsets are signed again: the
// signer caches by content) and unsigned, alternating failed-over and recovered views so that every
// compile has something to re-sign, as on a real agent.
//
//   npm run bench:dnssec [-- --rounds 200 --algorithm 13|15]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));
if (!existsSync(join(ROOT, 'dist', 'zone', 'compile.js'))) {
  const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
const { parseConfig } = require('./dist/config/load.js');
const { generateKey } = require('./dist/dnssec/keys.js');
const { Signer } = require('./dist/dnssec/signer.js');
const { compile } = require('./dist/zone/compile.js');
const { allUpInputs } = require('./dist/zone/inputs.js');
const { buildZone } = require('./dist/zone/zone.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const rounds = opt('--rounds', 200);
const algorithm = opt('--algorithm', 13);

const lines = ['zone: cluster.example.com', `secret: "${'s'.repeat(40)}"`, 'nodes:'];
for (let i = 1; i <= 9; i++) lines.push(`  - { name: node${i}, address: 192.0.2.${i}, address6: "2001:db8::${i}" }`);
lines.push('services:', '  - { name: redis-12000, port: 12000, policy: first-healthy }', '  - { name: pg, port: 5432 }');
const config = parseConfig(lines.join('\n'));

const up = (serial) => allUpInputs(config, serial);
const down = (serial) => {
  const u = up(serial);
  return { ...u, upNodes: u.upNodes.filter((n) => n !== 'node1'), nodeTargets: new Map([...u.nodeTargets].map(([n, t]) => [n, n === 'node1' ? 'node2' : t])), services: new Map([...u.services].map(([s, ns]) => [s, ns.filter((n) => n !== 'node1')])) };
};

function measure(dnssec) {
  const signer = dnssec ? new Signer(config.zone, [generateKey(config.zone, algorithm, 257, {})], { validity: 14 * 86400, refresh: 7 * 86400 }) : undefined;
  const now = Math.floor(Date.now() / 1000);
  const opts = (serial) => ({ identity: 'node1', unavailable: 'refused', ...(signer ? { dnssec: { signer, now: now + serial } } : {}) });
  compile(buildZone(config, up(1)), opts(1)); // the first compile signs everything: not a failover
  const firstSigned = signer?.signed ?? 0;
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const serial = i + 2;
    const t0 = process.hrtime.bigint();
    compile(buildZone(config, i % 2 === 0 ? down(serial) : up(serial)), opts(serial));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], p95: times[Math.floor(times.length * 0.95)], perFailover: signer ? (signer.signed - firstSigned) / rounds : 0, first: firstSigned };
}

// Warm up the JIT on both paths before measuring.
measure(false);
measure(true);
const plain = measure(false);
const signed = measure(true);
const f = (x) => x.toFixed(2);
process.stdout.write(
  [
    `9-node zone (IPv6, 2 services), ${rounds} compiles alternating node1 failed over / recovered, algorithm ${algorithm}:`,
    `  unsigned compile:  median ${f(plain.median)} ms, p95 ${f(plain.p95)} ms`,
    `  signed compile:    median ${f(signed.median)} ms, p95 ${f(signed.p95)} ms (${f(signed.perFailover)} RRsets re-signed per failover; ${signed.first} signed at start)`,
    `  signing cost of a failover: ${f(signed.median - plain.median)} ms (median difference)`,
    '',
  ].join('\n'),
);
