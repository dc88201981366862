// The lab's invariants, checked over a recorded timeline. Pure: it reads the poller's changes and
// rounds, the client's writes and the scenario's ground truth (which node was unreachable or in a
// minority and when, which nodes the fault touched), and returns the violations — each naming its
// invariant and carrying the part of the timeline that broke it — and the scenario's figures.
//
// Unknown is a failure: every answer an agent of the majority gives for a node's or name server's
// name must be an address (all of them should resolve: to the node, or to its failover target).
// REFUSED, SERVFAIL, NXDOMAIN, NODATA, an empty TC=1 answer (TRUNCATED) or no answer (TIMEOUT) count
// against (3), or (4) for a node the fault does not touch, except where stated:
//   - lost polls: a TIMEOUT of one (agent, name) lasting at most LOST_POLL_ROUNDS poll rounds
//     (100 ms at 20 Hz). The lab drops no packet between the observer and the agents (loss rules
//     name only peer addresses), so these are the poller's or the agent's process stalling on a
//     loaded 2-core machine; a resolver retries such a query after its own timeout (unbound starts
//     at 376 ms). Counted (figures.lostPolls) and reported, never hidden;
//   - rejoining: an agent that was unreachable, silent or in a minority hears a majority again only
//     when its peers' heartbeats arrive (≤ 1 interval) and publishes at its next evaluation
//     (≤ 1 interval): for 2 intervals + 2 poll periods after it comes back it may answer REFUSED,
//     SERVFAIL or nothing (never a wrong address: (3) and (4) still judge those);
//   - silent: `truth.silent` agents (a 0.5 s SIGSTOP, an agent not yet started) are not asked to
//     answer while silent;
//   - leaving: a query sent up to the poller's timeout (250 ms) before an agent is killed, stopped or
//     paused gets no answer and is stamped with its send time, before the fault: TIMEOUT only.
//
// Timeline: answers: Map<`${agent}|${name}`, [t, value][]> (changes only, value = sorted addresses
// joined by ",", an rcode name, NODATA, TRUNCATED or TIMEOUT); rounds: send times of the poller's
// rounds every query of which got an answer or timed out (the poller's proof that it is alive);
// writes: Map<name, {t, ok, addr}[]>.
//
// Truth (all times in ms since the epoch, intervals half-open [from, to)):
//   unreachable: [{ node, from, to }]   the majority cannot reach the node (killed, paused, cut off)
//   minority:    [{ node, from, to }]   the node does not reach a majority
//   silent:      [{ node, from, to }]   the agent does not answer and is not taken away (SIGSTOP
//                                       shorter than downAfter, not started yet)
//   faulted:     [node]                 nodes the fault touches; every other node is protected by (4)
//   assertNoFalseFailover: bool         (4) asserted (default) or only counted
//   heals:       [{ node, at }]         (5) answered with its own address by at + hold-down + slack,
//                                       the hold-down being the protocol's for the node's flap history
//                                       (holdDownFor), never what the agents report
//   client:      [{ node, at }]         (6) the client's writes to node's name after a single fault
//   failovers:   [{ node, at }]         every majority agent must come to answer a live address
//   config:      [{ node, from, nodes, signalled? }] (membership changes) agent `node` runs a config
//                                       naming `nodes` from `from` on (its start or a reload; a reload
//                                       signalled earlier may answer either config from then); it serves from its first
//                                       entry and must resolve exactly those nodes' names. Missing: every
//                                       agent runs a config naming every node.
// names: the names the poller asks (default: every node's and name server's).
//
// history (in and out): per node { holdDownMs, recoveredAt } as the majority's flap damping holds
// it (src/membership/holddown.ts): a node found down within maxUpAfter of its last recovery has its
// hold-down doubled (up to maxUpAfter), otherwise it starts over at upAfter.

export const INVARIANTS = {
  0: 'poller-alive: every (agent, name) pair is sampled in every 250 ms of the window, or the run is blind',
  1: 'no-dead-address: after detection (downAfter + 2 intervals) no majority agent answers with the address of an unreachable node, none switches to it later than 2 intervals after it became unreachable, and every failover completes',
  2: 'minority-refuses: a node without a majority answers REFUSED/SERVFAIL within downAfter + 1 interval, and until then nothing but what it answered before (silence is not refusing)',
  3: 'majority-agrees: the majority agents answer every name with an address and give identical answers, except for at most 2 intervals around a change of the agreed answer',
  4: 'no-false-failover: a node the fault does not take away is never answered with another address or with no address',
  5: 'heal-answers-self: a healed node is answered with its own address by every agent within the hold-down its flap history gives + max(1 s, 4 intervals), and stays so',
  6: 'client-writes: the Redis client resolving through the system resolver writes again within detection + TTL + 1 s',
};

/** A TIMEOUT of one (agent, name) up to this many poll rounds is a lost poll (counted), beyond it a violation. */
export const LOST_POLL_ROUNDS = 2;
/** The window in which every (agent, name) pair must have been sampled. */
export const LIVENESS_MS = 250;

const REFUSING = new Set(['REFUSED', 'SERVFAIL']);
// The lab's agents answer IPv4 addresses; everything else the poller records is an upper-case word.
const isAddr = (v) => v !== undefined && /^\d/.test(v);

/**
 * The hold-down the majority must give `node` for a failure found at `downAt` (protocol rule,
 * src/membership/holddown.ts), from the flap history before it. `slackMs` widens the window in which
 * a failure counts as a flap: the lab sees a recovery in the answers, a little after the verdict.
 */
export function holdDownFor(history, node, downAt, { upAfter, maxUpAfter }, slackMs = 0) {
  const h = history.get(node);
  if (!h || h.recoveredAt === undefined) return upAfter;
  const flapped = downAt - h.recoveredAt < maxUpAfter + slackMs;
  return flapped ? Math.min(h.holdDownMs * 2, maxUpAfter) : upAfter;
}

export function check({ nodes, answers, writes, events = [], timing, window, truth, pollMs = 50, pollTimeoutMs = 250, rounds = [], history = new Map(), names: pollNames }) {
  const { interval, downAfter, upAfter, ttl } = timing;
  const maxUpAfter = Math.max(timing.maxUpAfter ?? 60_000, upAfter);
  const detection = downAfter + 2 * interval;
  const addrOf = new Map(nodes.map((n) => [n.name, n.addr]));
  const nsOf = new Map(nodes.map((n, k) => [n.name, `ns${k + 1}`]));
  const ownerOfNs = new Map(nodes.map((n, k) => [`ns${k + 1}`, n.name]));
  const unreachable = truth.unreachable ?? [];
  const minority = truth.minority ?? [];
  const silent = truth.silent ?? [];
  const faulted = new Set(truth.faulted ?? []);
  const violations = [];
  const figures = {};
  // During a rollout the configured nodes differ by agent and step: an agent serves from its first
  // config on, and answers (must resolve) the names of the nodes in the config it runs at the time.
  const configs = truth.config;
  const configOf = (a, t) => {
    if (!configs) return nodes.map((n) => n.name);
    let c;
    let next;
    for (const x of configs) {
      if (x.node !== a) continue;
      if (x.from <= t && (!c || x.from >= c.from)) c = x;
      else if (x.from > t && x.signalled !== undefined && x.signalled <= t && (!next || x.from < next.from)) next = x;
    }
    // Between the SIGHUP and the reload's certain end, either config may answer: only the names
    // both name must resolve.
    return next && c ? c.nodes.filter((n) => next.nodes.includes(n)) : c?.nodes;
  };
  /** When `a`'s config first named `node` (−∞ without rollout). */
  const configSince = (a, node) => (configs ? Math.min(...configs.filter((x) => x.node === a && x.nodes.includes(node)).map((x) => x.from)) : -Infinity);
  const serves = (a, t) => configOf(a, t) !== undefined;
  const names = pollNames ?? nodes.flatMap((n) => [n.name, nsOf.get(n.name)]);
  /** Whether `a` must resolve `name` at `t`: its node is in the config `a` runs. */
  const resolvable = (a, n, t) => configOf(a, t)?.includes(ownerOfNs.get(n) ?? n) ?? false;
  const ownerOf = (name) => ownerOfNs.get(name) ?? name;

  const series = (a, n) => answers.get(`${a}|${n}`) ?? [];
  const indexAt = (s, t) => {
    let lo = 0;
    let hi = s.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid][0] <= t) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return i;
  };
  const valueAt = (a, n, t) => {
    const s = series(a, n);
    const i = indexAt(s, t);
    return i < 0 ? undefined : s[i][1];
  };
  /** A TIMEOUT at `t` no longer than LOST_POLL_ROUNDS rounds (the next change ends it). */
  const lostPollAt = (a, n, t) => {
    const s = series(a, n);
    const i = indexAt(s, t);
    if (i < 0 || s[i][1] !== 'TIMEOUT') return false;
    const end = i + 1 < s.length ? s[i + 1][0] : window.to;
    return end - s[i][0] <= LOST_POLL_ROUNDS * pollMs;
  };
  const inAny = (list, node, t) => list.some((x) => x.node === node && t >= x.from && t < (x.to ?? Infinity));
  const isMajorityAgent = (a, t) => serves(a, t) && !inAny(minority, a, t) && !inAny(unreachable, a, t) && !inAny(silent, a, t);
  const rejoinMs = 2 * interval + 2 * pollMs;
  /**
   * Back from unreachable, silent or a minority within rejoinMs: may still refuse or be silent. Or
   * about to be taken away: a query sent up to a poll timeout before the kill, SIGSTOP or cut gets
   * no answer, and is stamped with its send time.
   */
  const rejoining = (a, t) => [...unreachable, ...minority, ...silent].some((x) => x.node === a && x.to !== undefined && t >= x.to && t < x.to + rejoinMs);
  const leaving = (a, t) => [...unreachable, ...silent].some((x) => x.node === a && t >= x.from - pollTimeoutMs && t < x.from);
  const grid = [];
  for (let t = window.from; t < window.to; t += pollMs) grid.push(t);
  const rel = (t) => `${((t - window.from) / 1000).toFixed(2)}s`;

  /** The changes of these keys and the lab's events around `t`, as lines relative to the window. */
  const timeline = (keys, t, before = 2000, after = 2000) => {
    const rows = [];
    for (const [a, n] of keys) {
      const was = valueAt(a, n, t - before);
      if (was !== undefined) rows.push([t - before - 1, `${a.padEnd(6)} ${n.padEnd(6)} ${was}  (already)`]);
      for (const [tc, v] of series(a, n)) if (tc >= t - before && tc <= t + after) rows.push([tc, `${a.padEnd(6)} ${n.padEnd(6)} ${v}`]);
    }
    for (const e of events) if (e.t >= t - before && e.t <= t + after) rows.push([e.t, `** ${e.what} ${JSON.stringify({ ...e, t: undefined, what: undefined })}`]);
    rows.sort((x, y) => x[0] - y[0]);
    const shown = rows.length > 80 ? [...rows.slice(0, 40), [0, `… ${rows.length - 80} more …`], ...rows.slice(-40)] : rows;
    return shown.map(([tc, s]) => `  ${tc ? rel(tc).padStart(8) : ''.padStart(8)}  ${s}`).join('\n');
  };
  const violate = (inv, message, keys, t) => violations.push({ invariant: inv, name: INVARIANTS[inv].split(':')[0], message: `${message} (at ${rel(t)})`, timeline: timeline(keys, t) });
  const agentsFor = (n) => nodes.map((a) => [a.name, n]);

  // (0) the poller is alive: a complete round (every pair answered or timed out) in every 250 ms.
  {
    const rs = [...rounds].filter((t) => t >= window.from - LIVENESS_MS && t < window.to).sort((x, y) => x - y);
    let blind = 0;
    let first;
    let longest = 0;
    let prev = window.from;
    for (const t of [...rs.filter((x) => x >= window.from), window.to]) {
      const gap = t - prev;
      if (gap > LIVENESS_MS) {
        blind++;
        first ??= prev;
        longest = Math.max(longest, gap);
      }
      prev = t;
    }
    figures.pollRounds = rs.length;
    if (window.to <= window.from) violate(0, 'the window is empty: nothing was observed', [], window.from);
    else if (blind) violate(0, `blind: ${blind} stretch(es) without a complete poll round for more than ${LIVENESS_MS} ms (longest ${longest} ms, first from ${rel(first)}); ${rs.length} complete rounds in ${window.to - window.from} ms`, [], first);
  }

  // (1) no answer naming an unreachable node after detection; no switch to it after 2 intervals.
  for (const u of unreachable) {
    const dead = addrOf.get(u.node);
    const end = Math.min(u.to ?? Infinity, window.to);
    for (const a of nodes) {
      if (a.name === u.node) continue;
      for (const n of names) {
        let reported = false;
        // An agent that learns of the node by a reload (a node being added) fails it open until it
        // has a verdict: its detection counts from then.
        const since = Math.max(u.from, configSince(a.name, u.node));
        for (const t of grid) {
          if (t < since + detection || t >= end || reported) continue;
          const v = valueAt(a.name, n, t);
          if (isMajorityAgent(a.name, t) && isAddr(v) && v.split(',').includes(dead)) {
            violate(1, `${a.name} answers ${n} with ${v}, the address of ${u.node}, unreachable since ${rel(u.from)}`, agentsFor(n), t);
            reported = true;
          }
        }
        let prev;
        for (const [tc, v] of series(a.name, n)) {
          if (reported) break;
          const had = isAddr(prev) && prev.split(',').includes(dead);
          if (tc > since + 2 * interval + pollMs && tc < end && isAddr(v) && v.split(',').includes(dead) && !had && isMajorityAgent(a.name, tc)) {
            violate(1, `${a.name} switches ${n} to ${v}, the address of ${u.node}, ${tc - u.from} ms after it became unreachable`, agentsFor(n), tc);
            reported = true;
          }
          if (isAddr(v)) prev = v;
        }
      }
    }
  }

  // (2) the minority refuses: REFUSED or SERVFAIL for every name by the deadline; silence is not
  // refusing (a resolver waits out a timeout on every query instead of moving on at once).
  figures.refusedAfterMs = [];
  figures.lostPolls = 0;
  for (const m of minority) {
    const deadline = m.from + downAfter + interval;
    const end = Math.min(m.to ?? Infinity, window.to);
    let onset;
    for (const t of grid) {
      if (t < m.from || t >= end) continue;
      if (onset === undefined && names.every((n) => !resolvable(m.node, n, t) || REFUSING.has(valueAt(m.node, n, t)))) onset = t;
    }
    figures.refusedAfterMs.push(onset === undefined ? null : onset - m.from);
    if (onset === undefined && end > deadline + pollMs) violate(2, `${m.node}, without a majority from ${rel(m.from)} to ${rel(end)}, never refused every name`, names.map((n) => [m.node, n]).slice(0, 6), deadline);
    for (const n of names) {
      const before = valueAt(m.node, n, m.from - 1);
      for (const t of grid) {
        if (t < m.from || t >= end || !resolvable(m.node, n, t)) continue;
        const v = valueAt(m.node, n, t);
        if (REFUSING.has(v) || (t < deadline && v === before)) continue;
        if (lostPollAt(m.node, n, t)) continue;
        violate(2, `${m.node}, without a majority since ${rel(m.from)}, answers ${n} with ${v ?? 'nothing'}${t < deadline ? ` (before: ${before})` : ` ${t - m.from} ms after losing the majority`}`, [[m.node, n]], t);
        break;
      }
    }
  }

  // (3)/(4) every answer of a majority agent is an address, beyond the allowances above.
  {
    const lost = new Set();
    for (const a of nodes) {
      for (const n of names) {
        const inv = faulted.has(ownerOf(n)) ? 3 : 4;
        if (inv === 4 && truth.assertNoFalseFailover === false) continue;
        for (const t of grid) {
          if (!isMajorityAgent(a.name, t) || !resolvable(a.name, n, t)) continue;
          const v = valueAt(a.name, n, t);
          if (isAddr(v)) continue;
          if (rejoining(a.name, t) && (v === undefined || v === 'TIMEOUT' || REFUSING.has(v))) continue;
          if (leaving(a.name, t) && v === 'TIMEOUT') continue;
          if (lostPollAt(a.name, n, t)) {
            const s = series(a.name, n);
            lost.add(`${a.name}|${n}|${s[indexAt(s, t)][0]}`);
            continue;
          }
          violate(inv, `${a.name}, an agent of the majority, answers ${n} with ${v ?? 'nothing (no answer recorded)'}, not an address${v === 'TIMEOUT' ? ` (silent for more than ${LOST_POLL_ROUNDS} poll rounds)` : ''}`, agentsFor(n), t);
          break;
        }
      }
    }
    figures.lostPolls += lost.size;
  }

  // (3) the majority agrees, except briefly around a change of the agreed answer.
  const allowance = 2 * interval + 2 * pollMs;
  figures.disagreements = [];
  for (const n of names) {
    const agreed = [];
    for (const t of grid) {
      const vals = new Set();
      for (const a of nodes) {
        if (!isMajorityAgent(a.name, t) || !resolvable(a.name, n, t)) continue;
        const v = valueAt(a.name, n, t);
        if (!isAddr(v)) continue; // judged above
        vals.add(v);
      }
      agreed.push(vals.size > 1 ? null : vals.size === 1 ? [...vals][0] : undefined);
    }
    for (let i = 0; i < grid.length; i++) {
      if (agreed[i] !== null) continue;
      let j = i;
      while (j < grid.length && agreed[j] === null) j++;
      let b = i - 1;
      while (b >= 0 && agreed[b] === undefined) b--;
      let f = j;
      while (f < grid.length && agreed[f] === undefined) f++;
      const before = b >= 0 ? agreed[b] : undefined;
      const after = f < grid.length ? agreed[f] : undefined;
      const ms = (j - i) * pollMs;
      const changed = before !== undefined && after !== undefined && before !== after;
      const unresolved = after === undefined && j >= grid.length;
      const ok = ms <= allowance && (changed || unresolved);
      figures.disagreements.push({ name: n, at: grid[i] - window.from, ms, changed, ok });
      if (!ok) violate(3, `majority agents disagree on ${n} for ${ms} ms (agreed before: ${before}, after: ${after}${changed ? '' : ': no change of the agreed answer'})`, agentsFor(n), grid[i]);
      i = j;
    }
  }

  // (4) no false failover of a node the fault does not take away.
  figures.falseFailovers = 0;
  const falseEpisodes = [];
  for (const k of nodes) {
    if (faulted.has(k.name)) continue;
    for (const n of [k.name, nsOf.get(k.name)]) {
      for (const a of nodes) {
        let inEpisode = false;
        for (const t of grid) {
          const v = valueAt(a.name, n, t);
          const wrong = isAddr(v) && v !== k.addr && resolvable(a.name, n, t) && !inAny(minority, a.name, t) && !inAny(unreachable, a.name, t);
          if (wrong && !inEpisode) {
            if (n === k.name) figures.falseFailovers++;
            falseEpisodes.push({ agent: a.name, name: n, t, v });
          }
          inEpisode = wrong;
        }
      }
    }
  }
  if (truth.assertNoFalseFailover !== false) {
    const seen = new Set();
    for (const e of falseEpisodes) {
      if (seen.has(e.name)) continue;
      seen.add(e.name);
      violate(4, `${e.agent} answers ${e.name} with ${e.v} although ${ownerOf(e.name)} is healthy`, agentsFor(e.name), e.t);
    }
  }

  // Failover: until every majority agent answers the node's name with a live address; a failover
  // that never completes breaks (1).
  figures.failoverMs = [];
  const liveAt = (t) => (v) => isAddr(v) && v.split(',').every((x) => ![...addrOf].some(([m, ad]) => ad === x && inAny(unreachable, m, t)));
  for (const f of truth.failovers ?? []) {
    let at;
    const end = Math.min(unreachable.find((u) => u.node === f.node && u.from <= f.at + 1)?.to ?? window.to, window.to);
    for (const t of grid) {
      if (t < f.at || t >= end) continue;
      const voters = nodes.filter((a) => a.name !== f.node && isMajorityAgent(a.name, t) && resolvable(a.name, f.node, t));
      if (voters.length === 0) continue;
      if (voters.every((a) => liveAt(t)(valueAt(a.name, f.node, t)))) {
        at = t;
        break;
      }
    }
    figures.failoverMs.push(at === undefined ? null : at - f.at);
    if (at === undefined) violate(1, `the failover of ${f.node} (unreachable from ${rel(f.at)} to ${rel(end)}) never completed: not every majority agent answered its name with a live address`, agentsFor(f.node), Math.min(f.at + detection, end));
  }

  // (5) healed nodes answer for themselves again within the hold-down the protocol must give for
  // their flap history, and keep doing so to the end of the window: the recovery is the start of the
  // final run in which every agent answers the node's own address. The history is replayed over the
  // window's episodes in time order (a restart storm's kills are several).
  figures.recoveryMs = [];
  figures.holdDownMs = [];
  const hist = new Map(history);
  const self = (node, judges) => (t) => judges.every((a) => [node, nsOf.get(node)].every((n) => !names.includes(n) || valueAt(a.name, n, t) === addrOf.get(node)));
  const recoveryAfter = (node, at, judges) => {
    let r;
    const ok = self(node, judges);
    for (let i = grid.length - 1; i >= 0 && grid[i] >= at && ok(grid[i]); i--) r = grid[i];
    return r;
  };
  const slack = Math.max(1000, 4 * interval);
  const episodes = [...unreachable].sort((x, y) => x.from - y.from);
  const judged = new Set();
  for (const [i, u] of episodes.entries()) {
    const next = episodes.slice(i + 1).find((x) => x.node === u.node);
    const to = Math.min(u.to ?? window.to, window.to);
    // Found down: a majority agent answered another address for it (the down verdict publishes a
    // failover target), or it was away longer than detection.
    const seenDown = nodes.some((a) => a.name !== u.node && grid.some((t) => t >= u.from && t < to + rejoinMs && isMajorityAgent(a.name, t) && isAddr(valueAt(a.name, u.node, t)) && valueAt(a.name, u.node, t) !== addrOf.get(u.node)));
    if (!seenDown && to - u.from < detection) continue;
    const holdDownMs = holdDownFor(hist, u.node, u.from + downAfter, { upAfter, maxUpAfter }, slack);
    const heal = (truth.heals ?? []).find((h) => h.node === u.node && Math.abs(h.at - to) < 1000 && !judged.has(h));
    let recoveredAt;
    if (heal) {
      judged.add(heal);
      // Judged by the agents the scenario leaves running after the heal: one it kills later (the
      // clock scenarios kill a second node 1 s after the first came back) answers nothing, and its
      // own restart is a heal of its own.
      const judges = nodes.filter((a) => a.name === heal.node || (serves(a.name, window.to - 1) && !unreachable.some((x) => x.node === a.name && (x.to ?? Infinity) > heal.at)));
      const at = recoveryAfter(heal.node, heal.at, judges);
      const bound = holdDownMs + slack;
      figures.recoveryMs.push(at === undefined ? null : at - heal.at);
      figures.holdDownMs.push(holdDownMs);
      if (at === undefined || at - heal.at > bound) {
        const what = at === undefined ? 'still not answered with its own address by every agent when the scenario ends' : `answered with its own address by every agent (for good) only after ${at - heal.at} ms`;
        violate(5, `${heal.node} healed at ${rel(heal.at)} but is ${what} (bound ${bound} ms: hold-down ${holdDownMs} ms for its flap history + ${slack} ms)`, agentsFor(heal.node), at ?? Math.max(heal.at, window.to - 2000));
      }
      recoveredAt = at;
    } else if (next) {
      // Killed again before it was seen back: it may have recovered (its hold-down ended) just
      // before the next fault; assume the later recovery, which can only lengthen later hold-downs.
      if (next.from + 2.5 * interval >= to + holdDownMs) recoveredAt = next.from;
    } else {
      recoveredAt = recoveryAfter(u.node, to, nodes.filter((a) => serves(a.name, window.to - 1) && !unreachable.some((x) => x.node === a.name && (x.to ?? Infinity) > to)));
    }
    const was = hist.get(u.node);
    hist.set(u.node, { holdDownMs, recoveredAt: recoveredAt ?? was?.recoveredAt });
  }
  for (const h of truth.heals ?? []) {
    if (judged.has(h)) continue;
    // A heal of a node the majority never found down (e.g. restarted within detection): no
    // hold-down applies, it answers for itself at once (+ the slack).
    const judges = nodes.filter((a) => a.name === h.node || (serves(a.name, window.to - 1) && !unreachable.some((x) => x.node === a.name && (x.to ?? Infinity) > h.at)));
    const at = recoveryAfter(h.node, h.at, judges);
    const bound = slack;
    figures.recoveryMs.push(at === undefined ? null : at - h.at);
    if (at === undefined || at - h.at > bound) {
      const what = at === undefined ? 'still not answered with its own address by every agent when the scenario ends' : `answered with its own address by every agent (for good) only after ${at - h.at} ms`;
      violate(5, `${h.node} healed at ${rel(h.at)} but is ${what} (bound ${bound} ms: never found down, no hold-down)`, agentsFor(h.node), at ?? Math.max(h.at, window.to - 2000));
    }
  }

  // (6) the client writes again soon after a fault.
  figures.clientOutageMs = [];
  const clientBound = detection + ttl * 1000 + 1000;
  for (const c of truth.client ?? []) {
    const ok = (writes.get(c.node) ?? []).filter((w) => w.ok).map((w) => w.t);
    let last = [...ok].reverse().find((t) => t < c.at) ?? c.at;
    let worst = 0;
    let worstAt = c.at;
    for (const t of ok) {
      if (t < c.at || t > window.to) continue;
      if (t - last > worst) [worst, worstAt] = [t - last, last];
      last = t;
    }
    if (window.to - last > worst) [worst, worstAt] = [window.to - last, last];
    figures.clientOutageMs.push(worst);
    if (truth.assertClient !== false && worst > clientBound) {
      const w = (writes.get(c.node) ?? []).filter((x) => x.t >= worstAt - 500 && x.t <= worstAt + worst + 500);
      const lines = compress(w).map((x) => `  ${rel(x.t).padStart(8)}  ${x.ok ? 'write ok' : 'write failed'} ${x.addr ?? ''}${x.n > 1 ? ` ×${x.n}` : ''}`);
      violations.push({ invariant: 6, name: 'client-writes', message: `the client could not write to ${c.node} for ${worst} ms from ${rel(worstAt)} (bound ${clientBound} ms)`, timeline: `${lines.join('\n')}\n${timeline(agentsFor(c.node), worstAt, 500, worst + 500)}` });
    }
  }

  // REFUSED seen from agents of the majority (e.g. an agent that has just started).
  let refusedMajority = 0;
  for (const t of grid) if (nodes.some((a) => isMajorityAgent(a.name, t) && names.some((n) => resolvable(a.name, n, t) && REFUSING.has(valueAt(a.name, n, t))))) refusedMajority += pollMs;
  figures.majorityRefusedMs = refusedMajority;

  return { violations, figures, history: hist };
}

function compress(ws) {
  const out = [];
  for (const w of ws) {
    const last = out[out.length - 1];
    if (last && last.ok === w.ok && last.addr === w.addr) last.n++;
    else out.push({ ...w, n: 1 });
  }
  return out;
}

/** One violation as the assertion message: the invariant, what broke, and the timeline. */
export function describe(v) {
  return `invariant ${v.invariant} (${v.name}) broken: ${v.message}\n${v.timeline}`;
}
