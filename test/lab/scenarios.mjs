// The lab's scenarios. Each one breaks the cluster in one way for a bounded time, undoes it, and
// returns the ground truth the invariants are checked against (see invariants.mjs). `setup` and
// `teardown` run outside the checked window (e.g. restarting a node under a fake clock and back);
// the runner waits for the whole cluster to answer normally before every scenario.
//
// `regressionOf`: the defect this scenario found in an earlier version (fixed since); it stays as
// the regression test for it (listed in test/lab/README.md). `profile`: the `peer.profile` of the
// cluster it runs on ('lan' unless said: the LAN timings; 'wan': a lab configured with
// `peer: { profile: wan }`). Timings come from `lab.timing`, what the lab's config gives the agents.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DNS_WORKERS, POLL_HZ, REPO, sleep } from './netlab.mjs';
import { previousCommit, previousRelease } from './previous-release.mjs';

const HEAD_VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;

/**
 * The node a run targets: rotates with every scenario run of the session, so faults spread over
 * the nodes and flap damping (a hold-down doubled for a node that fails again within maxUpAfter)
 * does not pile up on one node.
 */
const target = (lab, seq, k = 0) => lab.nodes[(seq + k) % lab.size].name;

/**
 * The least rate (answered queries per second, dnsperf's own figure) that counts as a flood: well
 * under what the agent answers on the 2-core CI machine (see test/lab/README.md), far over what the
 * poller sends (20 Hz × names).
 */
export const FLOOD_MIN_QPS = 5000;

/** Bound for the cluster to be whole again: a hold-down can have grown to maxUpAfter (60 s). */
const SETTLE_MS = 75_000;

/**
 * kill -9 of a node (agent and Redis), dead until detection (downAfter + 2 intervals) + 2.5 s (4 s
 * on LAN timing, 6.5 s on WAN) so the failover and the client's move complete, then restarted.
 */
async function killAndRestart(lab, { seq }) {
  const { interval, downAfter } = lab.timing;
  const x = target(lab, seq);
  const at = lab.kill(x);
  await sleep(downAfter + 2 * interval + 2500);
  const { listeningAt } = await lab.restart(x);
  await lab.waitSettled(SETTLE_MS);
  const holdDownsReported = [lab.holdDownOf(x)];
  await sleep(500);
  return { faulted: [x], unreachable: [{ node: x, from: at, to: listeningAt }], failovers: [{ node: x, at }], heals: [{ node: x, at: listeningAt }], client: [{ node: x, at }], holdDownsReported };
}

/** `pct` % loss on every peer link (and, with `delayMs`, netem delay on every node) for the session's loss time. */
function lossRun(pct, { delayMs } = {}) {
  return async (lab, { lossSeconds }) => {
    if (delayMs) lab.jitter(delayMs, 0);
    lab.loss(pct);
    await sleep(lossSeconds * 1000);
    lab.heal();
    await lab.waitSettled(SETTLE_MS);
    await sleep(500);
    // (4) asserted at every loss rate the lab runs (10, 20 and 30 %, and the WAN profile's 5 %).
    return { faulted: [] };
  };
}

export const SCENARIOS = [
  {
    id: 'start',
    title: 'cold start of every agent, polled from the first answer',
    regressionOf: 'start/restart: an agent serves before it has a verdict on every node (failover targets for healthy nodes)',
    coldStart: true,
    async run(lab) {
      await lab.startAgents();
      // An agent can serve once it listens and a majority of agents does (it must hear them):
      // silent until then, and the rejoin allowance after (invariants.mjs).
      const listening = lab.nodes.map((n) => lab.agents.get(n.name).listeningAt).sort((a, b) => a - b);
      const quorumAt = listening[Math.floor(lab.size / 2)];
      const silent = lab.nodes.map((n) => ({ node: n.name, from: 0, to: Math.max(lab.agents.get(n.name).listeningAt, quorumAt) }));
      await lab.waitSettled(SETTLE_MS);
      await sleep(1000);
      return { faulted: [], silent };
    },
  },
  {
    id: 'kill',
    title: 'kill -9 of a node (agent and Redis) for 4 s, then restart',
    regressionOf: 'start/restart: the restarted agent answers failover targets for healthy nodes before it has a verdict',
    run: killAndRestart,
  },
  {
    id: 'pause-0.5s',
    title: 'SIGSTOP of an agent for 0.5 s',
    async run(lab, { seq }) {
      const x = target(lab, seq);
      const at = lab.pause(x);
      await sleep(500);
      const back = lab.resume(x);
      await sleep(3000);
      // Shorter than downAfter: the node is not taken away (4), its agent just does not answer.
      return { faulted: [], silent: [{ node: x, from: at, to: back }] };
    },
  },
  {
    id: 'pause-5s',
    title: 'SIGSTOP of an agent for 5 s, then SIGCONT',
    async run(lab, { seq }) {
      const x = target(lab, seq);
      const at = lab.pause(x);
      await sleep(5000);
      const back = lab.resume(x);
      await lab.waitSettled(SETTLE_MS);
      const holdDownsReported = [lab.holdDownOf(x)];
      await sleep(500);
      return { faulted: [x], unreachable: [{ node: x, from: at, to: back }], failovers: [{ node: x, at }], heals: [{ node: x, at: back }], client: [{ node: x, at }], holdDownsReported };
    },
  },
  {
    id: 'isolate',
    title: 'one node cut off from its peers and the client for 5 s, then healed',
    regressionOf: 'heal after isolation: the rejoining node answers its own name with its own address during its hold-down while the majority answers the failover target',
    async run(lab, { seq }) {
      const x = target(lab, seq);
      const at = lab.partition([x]);
      await sleep(5000);
      const healed = lab.heal();
      await lab.waitSettled(SETTLE_MS);
      const holdDownsReported = [lab.holdDownOf(x)];
      await sleep(500);
      return {
        faulted: [x],
        unreachable: [{ node: x, from: at, to: healed }],
        minority: [{ node: x, from: at, to: healed }],
        failovers: [{ node: x, at }],
        heals: [{ node: x, at: healed }],
        client: [{ node: x, at }],
        holdDownsReported,
      };
    },
  },
  {
    id: 'split-2+3',
    title: 'a 2+3 split for 5 s, then healed',
    sizes: [5],
    regressionOf: 'heal after split: a rejoining node answers its own name with its own address during its hold-down',
    async run(lab, { seq }) {
      const side = [target(lab, seq), target(lab, seq, 1)];
      const at = lab.partition(side);
      await sleep(5000);
      const healed = lab.heal();
      await lab.waitSettled(SETTLE_MS);
      const holdDownsReported = side.map((n) => lab.holdDownOf(n));
      await sleep(500);
      return {
        faulted: side,
        unreachable: side.map((node) => ({ node, from: at, to: healed })),
        minority: side.map((node) => ({ node, from: at, to: healed })),
        failovers: side.map((node) => ({ node, at })),
        heals: side.map((node) => ({ node, at: healed })),
        client: side.map((node) => ({ node, at })),
        holdDownsReported,
      };
    },
  },
  {
    id: 'one-way',
    title: 'one-way link for 6 s: A→B dropped, B→A fine',
    regressionOf: 'one-way link visibility: no log line or metric says that B does not hear A',
    async run(lab, { seq }) {
      const from = target(lab, seq);
      const to = target(lab, seq, 1);
      const mark = lab.logMark();
      lab.oneWay(from, to);
      await sleep(4000);
      // Visibility, read while the link is broken: a log line or a metric naming both ends.
      const metrics = lab.nodes.map((n) => lab.metrics(n.name)).join('\n');
      await sleep(2000);
      lab.heal();
      await sleep(2000);
      const logs = lab.nodes.map((n) => lab.agentLog(n.name, mark[n.name])).join('\n');
      return { faulted: [], oneWay: { from, to, metrics, logs } };
    },
  },
  ...[10, 20, 30].map((pct) => ({
    id: `loss-${pct}%`,
    title: `${pct} % loss on every peer link (nftables numgen), then healed`,
    run: lossRun(pct),
  })),
  ...[
    ['clock-ahead-5min', '+300s'],
    ['clock-behind-5min', '-300s'],
  ].map(([id, clock]) => ({
    id,
    title: `one agent restarted with its clock ${clock} (faketime); then another node is killed and restarted`,
    regressionOf: [
      'start/restart: restarted agents answered failover targets for healthy nodes',
      ...(clock.startsWith('+') ? ['the SOA serial followed the fast clock (issue 10)'] : []),
      ...(clock.startsWith('-') ? ['issue 8 item 2: incarnations were wall-clock time, so a node restarted with its clock behind its previous boot was dropped as a replay'] : []),
    ].join('; '),
    async run(lab, { seq }) {
      const x = target(lab, seq);
      const y = target(lab, seq, 1);
      const at = lab.kill(x, { redis: false });
      const { listeningAt } = await lab.restart(x, { clock });
      const truth = { faulted: [x], unreachable: [{ node: x, from: at, to: listeningAt }], heals: [{ node: x, at: listeningAt }] };
      // A node that does not come back is reported by (5) with its timeline.
      // (25 s: a node locked out as a replay stays out for the clock's 5 min; wait longer only
      // for a hold-down that flap damping really grew.)
      let back = await lab.settled(25_000);
      if (!back && (lab.holdDownOf(x) ?? 0) > 15_000) back = await lab.settled(SETTLE_MS);
      if (!back) return truth;
      await sleep(1000);
      const at2 = lab.kill(y);
      await sleep(3000);
      const r = await lab.restart(y);
      await lab.settled(SETTLE_MS);
      truth.holdDownsReported = [lab.holdDownOf(y)];
      await sleep(500);
      truth.faulted.push(y);
      truth.unreachable.push({ node: y, from: at2, to: r.listeningAt });
      truth.heals.push({ node: y, at: r.listeningAt });
      truth.failovers = [{ node: y, at: at2 }];
      truth.client = [{ node: y, at: at2 }];
      truth.soa = lab.nodes.map((n) => [n.name, lab.status(n.name)?.serial ?? null]);
      return truth;
    },
    // Every agent restarts with its real clock: peers forget the fast clock's incarnation.
    async teardown(lab) {
      await lab.restartAllAgents();
    },
  })),
  {
    id: 'clock-step',
    title: 'wall clock of one agent stepped +5 min, then -10 min, then back, while it runs',
    async setup(lab, { seq, dir }) {
      const x = target(lab, seq);
      this.file = `${dir}/faketime-${x}`;
      (await import('node:fs')).writeFileSync(this.file, '+0\n');
      lab.kill(x, { redis: false });
      await lab.restart(x, { clockFile: this.file });
      await lab.waitSettled(SETTLE_MS);
    },
    async run(lab, { seq }) {
      const { writeFileSync } = await import('node:fs');
      const x = target(lab, seq);
      await sleep(1000);
      for (const step of ['+300s', '-300s', '+0']) {
        writeFileSync(this.file, `${step}\n`);
        lab.mark('clock step', { node: x, to: step });
        await sleep(4000);
      }
      return { faulted: [] };
    },
    async teardown(lab, { seq }) {
      const x = target(lab, seq);
      lab.kill(x, { redis: false });
      await lab.restart(x);
    },
  },
  {
    id: 'restart-storm',
    title: 'restart storm: 5 kills -9 of one node in about 20 s, each late in the restarted node\'s hold-down',
    async run(lab, { seq }) {
      const { downAfter, upAfter } = lab.timing;
      const x = target(lab, seq);
      const unreachable = [];
      let at = lab.kill(x);
      // The first kill is detected. Each later one comes shortly before the restarted agent's
      // hold-down (as a peer reports it once the node is down; 3 s unless earlier flaps doubled it,
      // counted from when a majority first hears the agent, an interval or two after it listens)
      // would end: that end then falls 0.15–1 s after the kill, inside the downAfter in which a
      // killed node still counts as heard. Ascending, so the early kills are not preceded by a
      // completed hold-down (which would count as a flap and double the next one).
      await sleep(downAfter + 500);
      const holdDown = lab.holdDownOf(x) ?? upAfter;
      for (const lead of [500, 300, 100, -100]) {
        const { listeningAt } = await lab.restart(x);
        unreachable.push({ node: x, from: at, to: listeningAt });
        await sleep(Math.max(0, listeningAt + holdDown - lead - Date.now()));
        at = lab.kill(x);
        await sleep(downAfter + 200);
      }
      const { listeningAt } = await lab.restart(x);
      unreachable.push({ node: x, from: at, to: listeningAt });
      await lab.waitSettled(SETTLE_MS);
      await sleep(500);
      // Several faults in a row: (6)'s single-fault bound does not apply; the outage is reported.
      return { faulted: [x], unreachable, failovers: [{ node: x, at: unreachable[0].from }], client: [{ node: x, at: unreachable[0].from }], assertClient: false };
    },
  },
  {
    id: 'jitter-200ms',
    title: 'netem delay 100 ms ± 100 ms on every node for 10 s (only where the kernel has netem)',
    requires: 'netem',
    async run(lab) {
      lab.jitter(100, 100);
      await sleep(10_000);
      lab.heal();
      await lab.waitSettled(SETTLE_MS);
      await sleep(500);
      return { faulted: [] };
    },
  },
  {
    id: 'dns-flood',
    title: 'DNS flood at one agent (dnsperf from its own prefix, unthrottled, 8 s): the poller is never limited',
    regressionOf: 'the lab\'s own poller shared the flood\'s client prefix, so rate limiting throttled it and its TC answers and timeouts were read as no answer',
    async run(lab, { seq, dir }) {
      const x = target(lab, seq);
      const { writeFileSync } = await import('node:fs');
      const qfile = `${dir}/flood-queries`;
      writeFileSync(qfile, lab.nodes.map((n) => `${n.name}.cluster.lab.example A\n`).join(''));
      lab.mark('flood', { node: x });
      // From the flood's own namespace and /24: rate limiting throttles it, never the poller, and
      // every answer the poller gets from the flooded agent is judged like any other.
      const r = await lab.runIn(lab.ns.flood, ['dnsperf', '-s', lab.node(x).addr, '-d', qfile, '-l', '8', '-c', '4', '-q', '200', '-t', '1'], 20_000);
      lab.mark('flood end', { node: x, code: r.code });
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.out)?.[1] ?? NaN);
      await sleep(2000);
      return { faulted: [], flood: { node: x, qps, code: r.code, signal: r.signal, out: r.out, minQps: FLOOD_MIN_QPS } };
    },
  },
  // A rolling upgrade from the previous release (test/lab/previous-release.txt) to this build and
  // back (issue 19 §2): one scenario per step, each judged in its own window with every invariant
  // (the two nodes not replaced keep (4)), selected together as `upgrade` in LAB_ONLY.
  ...upgradeSteps(),
  // The WAN profile (issue 10): a cluster configured with `peer: { profile: wan }` only, judged with
  // the profile's timings (500 ms / 3 s / 10 s: detection 4 s, client bound 6 s).
  {
    id: 'wan-loss-5%',
    profile: 'wan',
    title: 'peer.profile wan: 5 % loss on every peer link (nftables numgen), then healed; no false failover',
    run: lossRun(5),
  },
  {
    id: 'wan-loss-5%-rtt-300ms',
    profile: 'wan',
    requires: 'netem',
    title: 'peer.profile wan: netem delay 150 ms on every node (300 ms RTT between nodes) and 5 % loss on every peer link; no false failover (only where the kernel has netem)',
    run: lossRun(5, { delayMs: 150 }),
  },
  {
    id: 'wan-kill',
    profile: 'wan',
    title: 'peer.profile wan: kill -9 of a node (agent and Redis) for detection + 2.5 s, then restart',
    run: killAndRestart,
  },
  // Membership changes (issue 16 §2) on a lab with room for 6 nodes that configures 3 or 5 at a
  // time (profile 'rollout', LAN timings). Each reload is a SIGHUP of one node; the checker knows
  // which config every agent runs at every moment (truth.config) and holds every invariant across
  // all the steps. The three run in this order, each starting where the previous one ended; run
  // alone (LAB_ONLY) each first brings the cluster to its starting membership.
  {
    id: 'grow-3-5',
    profile: 'rollout',
    title: 'grow 3 → 5 nodes: node4 and node5 started with the 5-node config, then it is reloaded on node1, node2, node3 one at a time',
    setup: (lab) => ensureMembers(lab, ['node1', 'node2', 'node3']),
    run: (lab) => rollout(lab, { to: ['node1', 'node2', 'node3', 'node4', 'node5'] }),
  },
  {
    id: 'shrink-5-3',
    profile: 'rollout',
    title: 'shrink 5 → 3 nodes: node5 and node4 stopped (SIGTERM), then the 3-node config reloaded on node1, node2, node3 one at a time',
    setup: (lab) => ensureMembers(lab, ['node1', 'node2', 'node3', 'node4', 'node5']),
    run: (lab) => rollout(lab, { to: ['node1', 'node2', 'node3'] }),
  },
  {
    id: 'replace-3-by-6',
    profile: 'rollout',
    title: 'replace node3 by node6 at a new address: node3 stopped, node6 started with the config naming node1, node2, node6, then it is reloaded on node1 and node2',
    setup: (lab) => ensureMembers(lab, ['node1', 'node2', 'node3']),
    run: (lab) => rollout(lab, { to: ['node1', 'node2', 'node6'] }),
  },
];

/**
 * The steps of a rolling upgrade of node1..node3 from the previous release to this build, then of
 * its rollback (node3, node2, node1): each stops one node's agent (SIGTERM, as `systemctl stop`),
 * leaves it down past detection (the failover completes: the harder case, a node dead and back on
 * another release) and starts the other release's agent on the same node with the same config file.
 * Each step's setup brings the cluster to the releases the step starts from (all agents restarted
 * when any differs, so a step can run alone); the last one's teardown puts every node back on this
 * build for the scenarios after it.
 */
function upgradeSteps() {
  const nodes = ['node1', 'node2', 'node3'];
  const prev = previousCommit().slice(0, 7);
  const steps = [];
  let state = Object.fromEntries(nodes.map((n) => [n, 'prev']));
  for (const [node, to] of [...nodes.map((n) => [n, 'head']), ...[...nodes].reverse().map((n) => [n, 'prev'])]) {
    const before = state;
    state = { ...state, [node]: to };
    const k = steps.length + 1;
    const mix = (st) => nodes.map((n) => `${n} ${st[n] === 'prev' ? prev : 'HEAD'}`).join(', ');
    steps.push({
      id: `${to === 'head' ? 'upgrade' : 'rollback'}-${node}`,
      group: 'upgrade',
      sizes: [3],
      title: `rolling ${to === 'head' ? 'upgrade' : 'rollback'}, step ${k} of 6: ${node}'s agent stopped and started on ${to === 'head' ? 'this build' : `the previous release (${prev})`} (${mix(before)} → ${mix(state)})`,
      setup: (lab) => ensureReleases(lab, before),
      run: (lab) => replaceAgent(lab, node, to),
      ...(k === 2 * nodes.length ? { teardown: (lab) => ensureReleases(lab, Object.fromEntries(nodes.map((n) => [n, 'head']))) } : {}),
    });
  }
  return steps;
}

/** The start options of a release: 'prev' (built on first use, then cached) or 'head' (this build). */
async function releaseOpts(lab, which) {
  if (which !== 'prev') return {};
  const release = await previousRelease({ log: lab.log });
  // Told apart by their versions (assertRelease): a release bumps package.json's.
  if (release.version === HEAD_VERSION) throw new Error(`the previous release (${release.commit}) has this build's version ${HEAD_VERSION}: bump package.json's version`);
  return { release };
}

/** Restarts every agent, each on its release of `want` (node → 'prev' | 'head'), unless all run it already. */
async function ensureReleases(lab, want) {
  const opts = Object.fromEntries(await Promise.all(lab.memberNodes().map(async (n) => [n.name, await releaseOpts(lab, want[n.name] ?? 'head')])));
  const right = lab.memberNodes().every((n) => {
    const a = lab.agents.get(n.name);
    return a && !a.proc.exited && a.release === opts[n.name].release?.version;
  });
  if (right) return;
  // All at once: peers that saw a node go down and come back would hold flap history the lab's
  // record (lab.flaps) does not have.
  lab.mark('restart all agents', { releases: want });
  lab.flaps = new Map();
  for (const a of lab.agents.values()) {
    a.proc.signal('SIGCONT');
    a.proc.signal('SIGKILL');
  }
  await Promise.all([...lab.agents.values()].map((a) => Promise.race([a.proc.done, sleep(5000)])));
  await Promise.all(lab.memberNodes().map((n) => lab.startAgent(n.name, opts[n.name])));
  await lab.waitSettled(SETTLE_MS);
  for (const n of lab.memberNodes()) assertRelease(lab, n.name, opts[n.name]);
}

/**
 * The agent says (/v1/status `version`) it runs the release it was started from: a build step that
 * quietly ran this build twice would make every step pass and prove nothing.
 */
function assertRelease(lab, node, opts) {
  const want = opts.release?.version ?? HEAD_VERSION;
  const got = lab.status(node)?.version;
  if (got !== want) throw new Error(`${node} runs version ${got}, the step started it on ${want}`);
}

/** One step: `node`'s agent stopped, down for detection + 2.5 s, started on release `to`. */
async function replaceAgent(lab, node, to) {
  const { interval, downAfter } = lab.timing;
  const opts = await releaseOpts(lab, to);
  await sleep(1000);
  const at = await lab.stop(node);
  await sleep(downAfter + 2 * interval + 2500);
  const { listeningAt } = await lab.startAgent(node, opts);
  // A cluster that never settles (releases that do not work together) is judged, not thrown: the
  // invariants name what broke and show the timeline.
  await lab.settled(SETTLE_MS);
  assertRelease(lab, node, opts);
  const holdDownsReported = [lab.holdDownOf(node)];
  await sleep(500);
  return { faulted: [node], unreachable: [{ node, from: at, to: listeningAt }], failovers: [{ node, at }], heals: [{ node, at: listeningAt }], client: [{ node, at }], holdDownsReported };
}

/** Brings a membership-change lab to `members` (all running, nothing else) unless it is there. */
async function ensureMembers(lab, members) {
  const running = [...lab.agents].filter(([, a]) => !a.proc.exited).map(([n]) => n);
  if (lab.members.join() === members.join() && running.sort().join() === [...members].sort().join()) return;
  lab.writeConfig(members);
  for (const [name, a] of lab.agents) if (!members.includes(name)) a.proc.signal('SIGKILL');
  await lab.restartAllAgents();
  await lab.waitSettled(SETTLE_MS);
}

/**
 * The operator's procedure (README, "Adding and removing nodes") from the running membership to
 * `to`: 1. stop every node that leaves (SIGTERM), one at a time, each failed over before the next;
 * 2. write the new config; start every node that joins with it: it refuses (a minority: the running
 * agents do not know it yet and drop its heartbeats); 3. reload (SIGHUP) every staying node, one at
 * a time, a few intervals apart: the first one to know the joining nodes gives them a majority.
 * Started before the reloads, a joining node is heard by the first reloaded agent at once: no agent
 * ever answers a name with the address of a node that is not running (reloading first made the
 * reloaded agents answer the new names with the new nodes' addresses before they ran, failing
 * unassessed nodes open, until a majority of the new config could vote them down).
 * Returns the truth: each agent's config over time, leaving nodes unreachable from their stop
 * (failed over), joining nodes in the minority until the first reload.
 */
async function rollout(lab, { to }) {
  const { interval, downAfter } = lab.timing;
  const pollMs = 1000 / POLL_HZ;
  const from = [...lab.members];
  const leaving = from.filter((n) => !to.includes(n));
  const joining = to.filter((n) => !from.includes(n));
  const staying = from.filter((n) => to.includes(n));
  const truth = { faulted: [...leaving, ...joining], config: [], unreachable: [], minority: [], failovers: [] };
  for (const n of from) truth.config.push({ node: n, from: -Infinity, nodes: from });
  await sleep(1000);
  for (const n of [...leaving].reverse()) {
    const at = await lab.stop(n);
    truth.unreachable.push({ node: n, from: at });
    truth.failovers.push({ node: n, at });
    await sleep(downAfter + 4 * interval + 1000);
  }
  lab.writeConfig(to);
  const waiting = [];
  for (const n of joining) {
    const { listeningAt } = await lab.startAgent(n);
    truth.config.push({ node: n, from: listeningAt, nodes: to });
    const m = { node: n, from: listeningAt };
    truth.minority.push(m);
    waiting.push(m);
  }
  if (joining.length) await sleep(downAfter + 4 * interval);
  for (const n of staying) {
    const { at, done } = await lab.reload(n);
    // From the signal until a poll after the reload was logged, either config may answer.
    truth.config.push({ node: n, signalled: at, from: done + 2 * pollMs, nodes: to });
    for (const m of waiting.splice(0)) m.to = done;
    // A few intervals with this node on the new config and the others not, so the verdicts of the
    // mixed cluster are watched.
    await sleep(downAfter + 4 * interval);
  }
  await lab.waitSettled(SETTLE_MS);
  await sleep(500);
  return truth;
}

/**
 * The scenarios for a cluster size and peer profile (a session runs one profile's scenarios);
 * `netem`: whether the kernel can delay packets.
 */
export function scenariosFor(size, only, { netem = false, profile = 'lan' } = {}) {
  // The previous release refuses `dns.workers` (a key it does not know): upgrades run on the default.
  const upgradable = DNS_WORKERS === undefined;
  return SCENARIOS.filter((s) => (s.profile ?? 'lan') === profile && (!s.sizes || s.sizes.includes(size)) && (!only || only.includes(s.id) || (s.group !== undefined && only.includes(s.group))) && (s.requires !== 'netem' || netem) && (upgradable || s.group !== 'upgrade'));
}

/** Scenarios of a profile this machine cannot run, with the reason (reported, never emulated). */
export function unavailableScenarios({ netem, profile }) {
  return netem ? [] : SCENARIOS.filter((s) => s.requires === 'netem' && (profile === undefined || (s.profile ?? 'lan') === profile)).map((s) => ({ id: s.id, title: s.title, reason: 'this kernel has no netem qdisc (tc qdisc add … netem fails)' }));
}
