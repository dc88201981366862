#!/usr/bin/env node
// Fault-lab report: runs the lab's scenarios (test/lab/scenarios.mjs) on real agents in network
// namespaces, several trials each, and writes a markdown table and the raw figures as JSON to
// bench/results/. Needs root, iproute2, nftables, unbound, nsd, redis-server, dnsperf, faketime.
//
// The WAN profile's scenarios (`wan-*`) run on a second cluster of each size configured with
// `peer: { profile: wan }`; `--only wan-kill,wan-loss-5%` runs only those.
//
//   npm run bench:faults [-- --sizes 3,5 --trials 3 --loss-seconds 60 --only kill,isolate --keep]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labUnavailable, netemAvailable, REPO } from '../test/lab/netlab.mjs';
import { failureText, LabSession, markdownTable, summarize } from '../test/lab/runner.mjs';
import { scenariosFor, unavailableScenarios } from '../test/lab/scenarios.mjs';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '3,5' },
    trials: { type: 'string', default: '3' },
    'loss-seconds': { type: 'string', default: '60' },
    only: { type: 'string' },
    out: { type: 'string', default: join(REPO, 'bench/results') },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run bench:faults [-- --sizes 3,5 --trials 3 --loss-seconds 60 --only kill,isolate --out DIR --keep --quiet]');
  process.exit(0);
}
if (!existsSync(join(REPO, 'dist/cli/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
const why = labUnavailable();
if (why) {
  console.error(`bench:faults: ${why}`);
  process.exit(2);
}

const sizes = args.sizes.split(',').map(Number);
const trials = Number(args.trials);
const only = args.only?.split(',');
const log = args.quiet ? () => undefined : (s) => process.stderr.write(`${s}\n`);
const results = [];
const started = new Date();
const netem = netemAvailable();
/** Per profile: the peer timing the lab's config gave the agents (as the invariants used it). */
const timings = {};
const notRun = unavailableScenarios({ netem }).filter((u) => !only || only.includes(u.id));

// The membership-change lab (6 namespaces, 3 nodes configured at first) runs once, whatever --sizes.
const sessions = [...sizes.flatMap((size) => ['lan', 'wan'].map((profile) => [size, profile])), [6, 'rollout', ['node1', 'node2', 'node3']]];
for (const [size, profile, members] of sessions) {
  const scenarios = scenariosFor(size, only, { netem, profile });
  if (scenarios.length === 0) continue;
  const session = new LabSession({ size, profile, members, log, keep: args.keep, lossSeconds: Number(args['loss-seconds']) });
  try {
    await session.open();
    if (profile !== 'rollout') timings[profile] = session.lab.timing;
    for (const s of scenarios) {
      const n = s.coldStart ? 1 : trials;
      for (let trial = 0; trial < n && !session.broken; trial++) {
        log(`\n=== ${s.id} on ${size} nodes (peer ${profile}), trial ${trial + 1}/${n}`);
        const r = await session.run(s, trial);
        results.push(r);
        log(r.error || r.violations.length ? `FAIL\n${failureText(r)}` : `ok ${JSON.stringify(r.figures)}`);
      }
    }
  } finally {
    await session.close();
  }
}

const rows = summarize(results);
const table = markdownTable(rows);
mkdirSync(args.out, { recursive: true });
const stamp = started.toISOString().replace(/[:.]/g, '-');
const md = `# Fault lab, ${started.toISOString()}\n\n${trials} trial(s) per scenario (cold start: 1), sizes ${sizes.join(', ')}, loss held ${args['loss-seconds']} s; commit ${gitHead()}.\n\n${timingLines(timings)}${table}\n${notRun.map((u) => `\nNot run: ${u.id} (${u.title}): ${u.reason}.`).join('')}\n`;
writeFileSync(join(args.out, `faults-${stamp}.md`), md);
writeFileSync(join(args.out, `faults-${stamp}.json`), JSON.stringify({ started: started.toISOString(), commit: gitHead(), trials, sizes, netem, timings, notRun, rows, results }, null, 1));
console.log(md);
console.log(`written: ${join(args.out, `faults-${stamp}.md`)} and .json`);
process.exit(rows.every((r) => r.passed === r.trials) ? 0 : 1);

function gitHead() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function timingLines(t) {
  const one = (p) => `${p === 'lan' ? 'LAN timing (explicit keys)' : `\`peer.profile: ${p}\` (\`wan-*\` rows)`}: interval ${t[p].interval} ms, downAfter ${t[p].downAfter} ms, upAfter ${t[p].upAfter} ms`;
  const ps = Object.keys(t);
  return ps.length ? `Peer timing, as the agents' config loader reads the lab's config: ${ps.map(one).join('; ')}.\n\n` : '';
}
