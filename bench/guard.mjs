#!/usr/bin/env node
// The decide step's cost per query, in process: the Responder answering the dnsperf mix's kinds of
// query with rate limiting off and on (limit high enough that nothing is limited), from one source.
//
//   npm run build && node bench/guard.mjs [--queries N]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const packet = require('dns-packet');
const { parseConfig } = require('../dist/config/load.js');
const { compile } = require('../dist/zone/compile.js');
const { buildZone } = require('../dist/zone/zone.js');
const { allUpInputs } = require('../dist/zone/inputs.js');
const { Responder } = require('../dist/server/responder.js');
const { Guard } = require('../dist/server/guard.js');
const { cookieKeys } = require('../dist/server/cookie-keys.js');
const { QueryStats } = require('../dist/server/stats.js');

const n = Number(process.argv[process.argv.indexOf('--queries') + 1]) || 2_000_000;
const config = parseConfig(
  ['zone: cluster.test', 'secret: "bench-secret-0123456789abcdef0123456789"', 'nodes:', ...[1, 2, 3].map((i) => `  - { name: node${i}, address: 192.0.2.${i} }`), 'services:', '  - { name: web, port: 443 }'].join('\n'),
);
const table = compile(buildZone(config, allUpInputs(config, 1)), { identity: 'node1', unavailable: 'refused' });
const edns = { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] };
const queries = [
  ['node1.cluster.test', 'A'], ['node2.cluster.test', 'AAAA'], ['ns1.cluster.test', 'A'], ['cluster.test', 'NS'],
  ['cluster.test', 'SOA'], ['web.cluster.test', 'A'], ['_web._tcp.cluster.test', 'SRV'], ['nothing.cluster.test', 'A'],
].map(([name, type]) => packet.encode({ type: 'query', id: 1, questions: [{ name, type }], additionals: [edns] }));

function measure(responder) {
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) bytes += responder.respond(queries[i & 7], 'udp', '198.51.100.7')?.length ?? 0;
  const ns = Number(process.hrtime.bigint() - t0);
  return { nsPerQuery: ns / n, bytes };
}

const rl = (rate) => ({ responsesPerSecond: rate, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: [] });
const make = (rate) => {
  const stats = new QueryStats();
  return new Responder(table, { identity: 'node1', stats, guard: new Guard({ rateLimit: rl(rate), keys: cookieKeys([config.secret]) }, stats) });
};
const results = { off: [], on: [] };
for (let round = 0; round < 5; round++) {
  results.off.push(measure(make(0)).nsPerQuery);
  results.on.push(measure(make(1_000_000_000)).nsPerQuery);
}
const best = (xs) => Math.min(...xs);
console.log(`respond(), ${n.toLocaleString('en')} queries per round, best of 5: RRL off ${best(results.off).toFixed(0)} ns, RRL on ${best(results.on).toFixed(0)} ns per query (${((best(results.on) / best(results.off) - 1) * 100).toFixed(0)} % more)`);
