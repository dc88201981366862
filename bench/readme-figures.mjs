#!/usr/bin/env node
// The README's failover and fault-lab figures, recomputed from the committed result files (no run):
// `node bench/readme-figures.mjs`. Each figure names the file it comes from; medians of an even
// count are the mean of the middle two, as bench/failover.mjs computes them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'results');
const FAILOVER = 'failover-2026-11-28.json';
const LAN = 'faults-2026-11-28T09-08-53-692Z.json';
const WAN = ['faults-2026-11-28T08-24-25-357Z.json', 'faults-2026-11-28T08-41-12-145Z.json'];

const read = (f) => JSON.parse(readFileSync(join(DIR, f), 'utf8'));
const s = (ms) => (ms === undefined || ms === null ? '–' : `${(ms / 1000).toFixed(2)} s`);
function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  if (!v.length) return undefined;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}
const worst = (xs) => (xs.length ? Math.max(...xs) : undefined);

console.log(`## Failover (${FAILOVER})\n`);
console.log('| cluster | failover median | failover worst | recovery median | recovery worst | flap-damped recoveries: trials, median, worst |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of read(FAILOVER).results) {
  const d = r.damped;
  console.log(
    `| ${r.size} nodes | ${s(r.failover.median)} | ${s(r.failover.worst)} | ${s(r.recovery.median)} (${r.recovery.n} of ${r.failover.n}) | ${s(r.recovery.worst)} | ${d ? `${d.n} of ${r.failover.n}, ${s(d.median)}, ${s(d.worst)}` : '0'} |`,
  );
}

/** Per (scenario, size): every trial's figures pooled across `files`. */
function pooled(files) {
  const out = new Map();
  for (const f of files)
    for (const t of read(f).results) {
      const key = `${t.id}/${t.size}`;
      const p = out.get(key) ?? { id: t.id, size: t.size, trials: 0, passed: 0, failover: [], outage: [], recovery: [], refused: [], longest: 0, falseFailovers: 0 };
      p.trials++;
      if (!t.violations.length) p.passed++;
      const g = t.figures;
      p.failover.push(...g.failoverMs.filter((x) => x !== null));
      p.outage.push(...g.clientOutageMs.filter((x) => x !== null));
      p.recovery.push(...g.recoveryMs.filter((x) => x !== null));
      p.refused.push(...g.refusedAfterMs.filter((x) => x !== null));
      p.falseFailovers += g.falseFailovers;
      for (const d of g.disagreements) p.longest = Math.max(p.longest, d.ms);
      out.set(key, p);
    }
  return [...out.values()];
}

function table(title, rows) {
  console.log(`\n## ${title}\n`);
  console.log('| scenario | nodes | passed | failover median / worst | false failovers | longest disagreement | minority REFUSED after (worst) | client outage worst | recovery worst |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const p of rows)
    console.log(
      `| ${p.id} | ${p.size} | ${p.passed}/${p.trials} | ${s(median(p.failover))} / ${s(worst(p.failover))} | ${p.falseFailovers} | ${s(p.longest)} | ${s(worst(p.refused))} | ${s(worst(p.outage))} | ${s(worst(p.recovery))} |`,
    );
}

const lan = pooled([LAN]);
table(`Fault lab (${LAN})`, lan);
const wan = pooled(WAN);
table(`WAN profile, both runs pooled (${WAN.join(', ')})`, wan);
for (const f of WAN) table(`WAN profile, ${f} alone`, pooled([f]));

const longest = (rows) => Math.max(...rows.map((p) => p.longest));
const isWan = (p) => p.id.startsWith('wan-');
console.log(`\n## Longest disagreement between majority agents\n`);
console.log(`- ${LAN}: LAN scenarios ${s(longest(lan.filter((p) => !isWan(p))))}, wan-* scenarios ${s(longest(lan.filter(isWan)))}`);
console.log(`- ${WAN.join(' + ')}: ${s(longest(wan))}`);
