// Runs scenarios on one lab (one cluster size): builds the network once, starts the cluster (as the
// cold-start scenario when that is selected), then runs each scenario on the whole cluster and checks
// the invariants over the window the scenario covered. Used by test/lab/faults.test.ts and
// bench/faults.mjs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, describe as describeViolation } from './invariants.mjs';
import { Lab, POLL_HZ, sleep } from './netlab.mjs';

export class LabSession {
  /** `profile`: the lab's `peer.profile` ('lan': the LAN timings as explicit keys; 'wan'). */
  /** `members`: the nodes the config names at first (a membership-change lab has room for more). */
  constructor({ size, log = () => undefined, keep = process.env.LAB_KEEP === '1', lossSeconds = 12, profile = 'lan', members }) {
    this.lab = new Lab({ size, log, keep, profile, members });
    this.size = size;
    this.profile = profile;
    this.log = log;
    this.lossSeconds = lossSeconds;
    this.dir = mkdtempSync(join(tmpdir(), 'cdl-scenario-'));
    this.started = false;
    this.seq = 0;
  }

  async open() {
    await this.lab.up();
  }

  async ensureCluster() {
    if (!this.started) {
      await this.lab.startAgents();
      this.started = true;
    }
    if (!this.timingChecked) {
      this.lab.assertTiming();
      this.timingChecked = true;
    }
    if (!this.lab.client) {
      await this.lab.waitSettled(30_000);
      this.lab.startClient();
      await sleep(1000);
    }
  }

  /** Puts the cluster back together after a scenario that failed half-way. */
  async recover() {
    const lab = this.lab;
    // Whatever the failed scenario did to the nodes' flap histories is not known any more.
    lab.flaps = new Map();
    lab.heal();
    for (const [name, a] of lab.agents) {
      a.proc.signal('SIGCONT');
      if (lab.redis.get(name)?.exited) lab.startRedis(name);
      if (!lab.members.includes(name)) {
        // A node a failed membership change left out of the config: not part of the cluster.
        a.proc.signal('SIGKILL');
        continue;
      }
      if (a.proc.exited) await lab.restart(name);
    }
    for (const name of lab.members) if (!lab.agents.has(name)) await lab.startAgent(name);
    if (await lab.settled(75_000)) return;
    // Last resort: a node locked out by its peers' replay marks comes back only with fresh peers.
    await lab.restartAllAgents();
    await lab.waitSettled(60_000);
  }

  /** Runs one trial of a scenario; returns { id, size, trial, violations, figures, error? }. */
  async run(scenario, trial = 0) {
    const lab = this.lab;
    const ctx = { trial, seq: this.seq++, dir: this.dir, lossSeconds: this.lossSeconds };
    const result = { id: scenario.id, size: this.size, profile: this.profile, trial, regressionOf: scenario.regressionOf ?? null, violations: [], figures: {} };
    let from;
    try {
      if (scenario.coldStart) {
        if (this.started) throw new Error('the cold-start scenario must run first on a fresh lab');
        this.started = true;
        from = lab.mark(`scenario ${scenario.id}`, { trial });
      } else {
        await this.ensureCluster();
        await lab.waitSettled(60_000);
        if (scenario.setup) await scenario.setup(lab, ctx);
        // Otherwise the client may still write where an earlier failover sent it, and (6) would
        // not see the fault at all.
        if (!(await lab.clientReconnect())) throw new Error('the client did not reconnect to every node\'s own address within 8 s');
        from = lab.mark(`scenario ${scenario.id}`, { trial });
      }
      const truth = await scenario.run(lab, ctx);
      const to = Date.now();
      // The cold start judged before ensureCluster ever ran: its agents are up now.
      if (!this.timingChecked) {
        lab.assertTiming();
        this.timingChecked = true;
      }
      await sleep(400); // the poller's last answers of the window
      const { violations, figures, history } = check({
        nodes: lab.nodes,
        answers: lab.answers,
        writes: lab.writes,
        events: lab.events,
        timing: lab.timing,
        window: { from, to },
        truth,
        pollMs: 1000 / POLL_HZ,
        rounds: lab.rounds,
        history: lab.flaps,
        names: lab.pollNames(),
      });
      lab.flaps = history;
      result.violations = violations;
      result.figures = figures;
      // What the agents' status APIs report, beside the hold-down the checker derived: a figure only.
      if (truth.holdDownsReported) result.figures.holdDownReportedMs = truth.holdDownsReported;
      if (truth.oneWay) {
        const v = oneWayVisible(truth.oneWay);
        result.figures.oneWayVisible = v;
        if (!v) {
          result.violations.push({
            invariant: 'V',
            name: 'one-way-visible',
            message: `${truth.oneWay.to} did not hear ${truth.oneWay.from} for 6 s and no agent's log line or /metrics says so (expected: a line naming both, e.g. "${truth.oneWay.to} does not hear ${truth.oneWay.from}", or a one_way/asymmetric metric labelled with both)`,
            timeline: '',
          });
        }
      }
      if (truth.soa) {
        result.figures.soaSerials = Object.fromEntries(truth.soa);
        const v = soaViolation(truth.soa, Date.now());
        if (v) result.violations.push(v);
      }
      if (truth.flood) {
        result.figures.floodQps = truth.flood.qps;
        const v = floodViolation(truth.flood);
        if (v) result.violations.push(v);
      }
      if (scenario.teardown) await scenario.teardown(lab, ctx);
    } catch (e) {
      if (scenario.teardown) await scenario.teardown(lab, ctx).catch(() => undefined);
      result.error = String(e?.stack ?? e);
      this.log(`scenario ${scenario.id} failed to run: ${e?.message ?? e}`);
      try {
        await this.recover();
      } catch (e2) {
        result.error += `\nrecovery failed: ${e2?.message ?? e2}`;
        this.broken = true;
      }
    }
    return result;
  }

  async close() {
    await this.lab.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The zone's serial must not follow one node's fast clock (issue 10): whatever its scheme (time or
 * counter), no agent's serial may be ahead of the real clock. `soa`: [node, serial | null][].
 */
export function soaViolation(soa, now) {
  const limit = Math.floor(now / 1000) + 60;
  const ahead = soa.filter(([, serial]) => serial !== null && serial > limit);
  if (!ahead.length) return undefined;
  return {
    invariant: 'S',
    name: 'soa-serial-not-ahead',
    message: `SOA serials ahead of the real clock (now ${limit - 60}) after a node ran with its clock ahead: ${ahead.map(([n, v]) => `${n}=${v} (+${v - (limit - 60)} s)`).join(', ')}`,
    timeline: '',
  };
}

/** The flood really happened: dnsperf ran to its end (exit 0) and achieved at least `minQps`. */
export function floodViolation({ code, signal, qps, minQps, out = '' }) {
  if (code === 0 && qps >= minQps) return undefined;
  return {
    invariant: 'F',
    name: 'flood-happened',
    message: `dnsperf ${code !== 0 ? `exited with ${code}${signal ? ` (${signal})` : ''}` : 'ran'} and achieved ${Number.isNaN(qps) ? 'no readable rate' : `${qps} queries/s`} (needs exit 0 and ≥ ${minQps}/s)`,
    timeline: out.slice(-1500),
  };
}

/** A log line or a metric names both ends of the broken direction. */
export function oneWayVisible({ from, to, metrics, logs }) {
  const both = (s) => s.includes(from) && s.includes(to);
  const metric = metrics.split('\n').some((l) => !l.startsWith('#') && /one_?way|asymmetr/i.test(l) && both(l) && !/\s0$/.test(l.trim()));
  // ("not heard by" is the down verdict's reason, not a report of a one-way link.)
  const log = logs.split('\n').some((l) => /one[- ]?way|asymmetr|does not hear|doesn't hear|cannot hear/i.test(l) && both(l));
  return metric || log;
}

export function failureText(result) {
  const parts = [];
  if (result.error) parts.push(`scenario did not complete: ${result.error}`);
  for (const v of result.violations) parts.push(describeViolation(v));
  return parts.join('\n\n');
}

const med = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
const max = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined);
  return s.length ? Math.max(...s) : null;
};

/** Per scenario × size: the figures of all trials folded into one row. */
export function summarize(results) {
  const rows = new Map();
  for (const r of results) {
    const key = `${r.id}|${r.size}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { scenario: r.id, size: r.size, profile: r.profile ?? 'lan', trials: 0, passed: 0, regressionOf: r.regressionOf, failover: [], falseFailovers: 0, disagreements: 0, longestDisagreementMs: 0, refusedAfter: [], majorityRefusedMs: 0, clientOutage: [], recovery: [], broken: new Set(), errors: 0, extra: {} }));
    row.trials++;
    if (!r.error && r.violations.length === 0) row.passed++;
    if (r.error) row.errors++;
    const f = r.figures;
    row.failover.push(...(f.failoverMs ?? []));
    row.falseFailovers += f.falseFailovers ?? 0;
    const bad = (f.disagreements ?? []).filter((d) => !d.ok);
    row.disagreements += (f.disagreements ?? []).length;
    row.longestDisagreementMs = Math.max(row.longestDisagreementMs, ...(f.disagreements ?? []).map((d) => d.ms), 0);
    row.badDisagreements = (row.badDisagreements ?? 0) + bad.length;
    row.refusedAfter.push(...(f.refusedAfterMs ?? []));
    row.majorityRefusedMs = Math.max(row.majorityRefusedMs, f.majorityRefusedMs ?? 0);
    row.clientOutage.push(...(f.clientOutageMs ?? []));
    row.recovery.push(...(f.recoveryMs ?? []));
    row.lostPolls = (row.lostPolls ?? 0) + (f.lostPolls ?? 0);
    for (const v of r.violations) row.broken.add(String(v.invariant));
    if (f.soaSerials) row.extra.soaSerials = f.soaSerials;
    if (f.floodQps !== undefined) row.extra.floodQps = f.floodQps;
    if (f.oneWayVisible !== undefined) row.extra.oneWayVisible = f.oneWayVisible;
  }
  return [...rows.values()].map((r) => ({
    scenario: r.scenario,
    size: r.size,
    profile: r.profile,
    trials: r.trials,
    passed: r.passed,
    errors: r.errors,
    regressionOf: r.regressionOf,
    brokenInvariants: [...r.broken].sort(),
    failoverMedianMs: med(r.failover),
    failoverWorstMs: max(r.failover),
    failoverMissed: r.failover.filter((x) => x === null).length,
    falseFailovers: r.falseFailovers,
    disagreementWindows: r.disagreements,
    disagreementWindowsBroken: r.badDisagreements,
    longestDisagreementMs: r.longestDisagreementMs,
    refusedAfterMedianMs: med(r.refusedAfter),
    refusedAfterWorstMs: max(r.refusedAfter),
    majorityRefusedMs: r.majorityRefusedMs,
    clientOutageMedianMs: med(r.clientOutage),
    clientOutageWorstMs: max(r.clientOutage),
    recoveryWorstMs: max(r.recovery),
    lostPolls: r.lostPolls ?? 0,
    ...r.extra,
  }));
}

export function markdownTable(rows) {
  const ms = (x) => (x === null || x === undefined ? '–' : `${(x / 1000).toFixed(2)} s`);
  const lines = [
    '| scenario | nodes | passed | broken | failover median / worst | false failovers | disagreement windows (broken, longest) | minority REFUSED after (median / worst) | majority REFUSED | client outage (median / worst) | recovery worst | lost polls |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario}${r.regressionOf ? ' ¹' : ''} | ${r.size} | ${r.passed}/${r.trials}${r.errors ? ` (${r.errors} errors)` : ''} | ${r.brokenInvariants.join(', ') || '–'} | ${ms(r.failoverMedianMs)} / ${ms(r.failoverWorstMs)}${r.failoverMissed ? ` (${r.failoverMissed} never)` : ''} | ${r.falseFailovers} | ${r.disagreementWindows} (${r.disagreementWindowsBroken}, ${ms(r.longestDisagreementMs)}) | ${ms(r.refusedAfterMedianMs)} / ${ms(r.refusedAfterWorstMs)} | ${ms(r.majorityRefusedMs)} | ${ms(r.clientOutageMedianMs)} / ${ms(r.clientOutageWorstMs)} | ${ms(r.recoveryWorstMs)} | ${r.lostPolls} |`,
    );
  }
  lines.push('', '¹ the regression test of a defect it found in an earlier version (test/lab/README.md). Lost polls: TIMEOUTs of one (agent, name) of at most 2 poll rounds, allowed and counted (test/lab/invariants.mjs).');
  return lines.join('\n');
}
