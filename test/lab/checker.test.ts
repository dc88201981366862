// The invariant checker on hand-made timelines: each invariant passes a clean run and names the
// break in a bad one, and a table of broken timelines (the ones issue 16 found passing, and each
// regression scenario's original defect) must each give its violation. No root: runs in `npm test`.
import { describe, expect, it } from 'vitest';
import { check, holdDownFor } from './invariants.mjs';

const nodes = [1, 2, 3].map((k) => ({ name: `node${k}`, addr: `198.51.100.1${k}` }));
const timing = { interval: 250, downAfter: 1000, upAfter: 3000, maxUpAfter: 60_000, ttl: 1 };
const T0 = 1_000_000;
const window = { from: T0, to: T0 + 10_000 };
/** A poller alive throughout: a complete round every 50 ms. */
const ROUNDS = Array.from({ length: 500 }, (_, k) => T0 - 1000 + 50 * k);
const A = (k: number) => `198.51.100.1${k}`;

/** Every agent answers every name with its owner's address from before the window on. */
function healthy(): Map<string, [number, string][]> {
  const m = new Map<string, [number, string][]>();
  for (const a of nodes) for (const [k] of nodes.entries()) for (const n of [`node${k + 1}`, `ns${k + 1}`]) m.set(`${a.name}|${n}`, [[T0 - 1000, A(k + 1)]]);
  return m;
}
function set(m: Map<string, [number, string][]>, agent: string, name: string, t: number, v: string) {
  for (const n of [name, name.replace('node', 'ns')]) {
    const s = m.get(`${agent}|${n}`)!;
    s.push([T0 + t, v]);
    s.sort((x, y) => x[0] - y[0]);
  }
}
/** node1 killed at 0, failed over to node2 by every survivor at 1.1 s. */
function killed() {
  const m = healthy();
  for (const a of ['node1']) for (const n of ['node1', 'node2', 'node3']) set(m, a, n, 0, 'TIMEOUT');
  for (const a of ['node2', 'node3']) set(m, a, 'node1', 1100, A(2));
  return m;
}
const killTruth = { faulted: ['node1'], unreachable: [{ node: 'node1', from: T0, to: T0 + 20_000 }], failovers: [{ node: 'node1', at: T0 }] };
const run = (answers: Map<string, [number, string][]>, truth: object, writes = new Map(), history = new Map()) => check({ nodes, answers, writes, timing, window, truth, rounds: ROUNDS, history });
const broken = (r: ReturnType<typeof run>) => [...new Set(r.violations.map((v: { invariant: number }) => v.invariant))];

describe('lab invariants', () => {
  it('a clean failover breaks nothing and measures the failover time', () => {
    const r = run(killed(), killTruth);
    expect(broken(r)).toEqual([]);
    expect(r.figures.failoverMs).toEqual([1100]);
  });

  it('(1) an answer naming the dead node after detection', () => {
    const m = killed();
    set(m, 'node3', 'node1', 2000, A(1));
    expect(broken(run(m, killTruth))).toContain(1);
  });

  it('(1) a switch to the dead node late in the detection window (a hold-down ending after the kill)', () => {
    const m = healthy();
    set(m, 'node2', 'node1', -500, A(2));
    set(m, 'node3', 'node1', -500, A(2));
    set(m, 'node2', 'node1', 900, A(1));
    set(m, 'node3', 'node1', 900, A(1));
    set(m, 'node2', 'node1', 1200, A(2));
    set(m, 'node3', 'node1', 1200, A(2));
    expect(broken(run(m, killTruth))).toEqual([1]);
  });

  it('(2) a minority node that keeps answering, or refuses in time', () => {
    const truth = { faulted: ['node1'], minority: [{ node: 'node1', from: T0, to: T0 + 20_000 }], unreachable: [{ node: 'node1', from: T0, to: T0 + 20_000 }] };
    const m = killed();
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node1', n, 0, A(Number(n.slice(4))));
    const bad = run(m, truth);
    expect(broken(bad)).toEqual([2]);
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node1', n, 1100, 'REFUSED');
    const good = run(m, truth);
    expect(broken(good)).toEqual([]);
    expect(good.figures.refusedAfterMs).toEqual([1100]);
  });

  it('(3) a disagreement that is not a change (e.g. a rejoining node answering itself)', () => {
    const m = killed();
    set(m, 'node3', 'node1', 5000, A(1));
    set(m, 'node3', 'node1', 5300, A(2));
    const truth = { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 4000 }] };
    expect(broken(run(m, truth))).toContain(3);
  });

  it('(4) a healthy node answered with another address', () => {
    const m = killed();
    set(m, 'node2', 'node3', 3000, A(2));
    set(m, 'node2', 'node3', 3100, A(3));
    expect(broken(run(m, killTruth))).toContain(4);
    expect(broken(run(m, { ...killTruth, assertNoFalseFailover: false }))).not.toContain(4);
  });

  it('(5) a healed node answered with its own address only after hold-down + 1 s; a flap doubles the hold-down', () => {
    const m = killed();
    // node1 restarted at 3 s: answers from 3.1 s on, as its peers do.
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node1', n, 3100, n === 'node1' ? A(2) : A(Number(n.slice(4))));
    for (const a of ['node1', 'node2', 'node3']) set(m, a, 'node1', 9000, A(1));
    const truth = { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 3000 }], heals: [{ node: 'node1', at: T0 + 3000 }] };
    expect(broken(run(m, truth))).toEqual([5]);
    // node1 recovered 20 s before this failure: a flap, its hold-down doubles to 6 s.
    const flapped = run(m, truth, new Map(), new Map([['node1', { holdDownMs: 3000, recoveredAt: T0 - 20_000 }]]));
    expect(broken(flapped)).toEqual([]);
    expect(flapped.figures.holdDownMs).toEqual([6000]);
    expect(flapped.history.get('node1')).toEqual({ holdDownMs: 6000, recoveredAt: T0 + 9000 });
    // 70 s before: not a flap (maxUpAfter 60 s), back to upAfter.
    expect(broken(run(m, truth, new Map(), new Map([['node1', { holdDownMs: 6000, recoveredAt: T0 - 70_000 }]])))).toEqual([5]);
  });

  it('(6) the client writes again too late', () => {
    const writes = new Map([['node1', [] as { t: number; ok: boolean; addr: string }[]]]);
    for (let t = -1000; t < 10_000; t += 100) if (t < 0 || t > 5000) writes.get('node1')!.push({ t: T0 + t, ok: true, addr: t < 0 ? A(1) : A(2) });
    const r = run(killed(), { ...killTruth, client: [{ node: 'node1', at: T0 }] }, writes);
    expect(broken(r)).toEqual([6]);
    expect(r.violations[0].message).toMatch(/could not write to node1 for 5\d\d\d ms/);
  });
});

describe('lab invariants with the WAN profile\'s timing (500 ms / 3 s / 10 s)', () => {
  const wan = { interval: 500, downAfter: 3000, upAfter: 10_000, maxUpAfter: 60_000, ttl: 1 };
  /** node1 killed at 0, failed over to node2 by every survivor at 3.4 s (a WAN detection). */
  function wanKilled() {
    const m = healthy();
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node1', n, 0, 'TIMEOUT');
    for (const a of ['node2', 'node3']) set(m, a, 'node1', 3400, A(2));
    return m;
  }
  const judge = (t: typeof timing, answers: Map<string, [number, string][]>, truth: object, writes = new Map()) =>
    [...new Set(check({ nodes, answers, writes, timing: t, window: { from: T0, to: T0 + 20_000 }, truth, rounds: ROUNDS }).violations.map((v: { invariant: number }) => v.invariant))];

  it('(1) a 3.4 s failover is within the WAN detection (4 s), and breaks the LAN one (1.5 s)', () => {
    expect(judge(wan, wanKilled(), killTruth)).toEqual([]);
    expect(judge(timing, wanKilled(), killTruth)).toEqual([1]);
    // An answer naming the dead node after the WAN detection still breaks (1).
    const m = wanKilled();
    set(m, 'node3', 'node1', 4500, A(1));
    expect(judge(wan, m, killTruth)).toContain(1);
  });

  it('(5) re-admission within hold-down + 4 intervals (2 s) at WAN timing, + 1 s at LAN timing', () => {
    const m = wanKilled();
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node1', n, 5100, n === 'node1' ? A(2) : A(Number(n.slice(4))));
    for (const a of ['node1', 'node2', 'node3']) set(m, a, 'node1', 5000 + 10_000 + 1600, A(1));
    const truth = { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 5000 }], heals: [{ node: 'node1', at: T0 + 5000 }] };
    expect(judge(wan, m, truth)).toEqual([]);
    expect(judge(timing, m, truth)).toContain(5);
    const late = wanKilled();
    for (const n of ['node1', 'node2', 'node3']) set(late, 'node1', n, 5100, n === 'node1' ? A(2) : A(Number(n.slice(4))));
    for (const a of ['node1', 'node2', 'node3']) set(late, a, 'node1', 5000 + 10_000 + 2100, A(1));
    expect(judge(wan, late, truth)).toEqual([5]);
  });

  it('(6) the client bound is detection + TTL + 1 s: 6 s at WAN timing, 3.5 s at LAN timing', () => {
    const writes = new Map([['node1', [] as { t: number; ok: boolean; addr: string }[]]]);
    for (let t = -1000; t < 20_000; t += 100) if (t < 0 || t > 5500) writes.get('node1')!.push({ t: T0 + t, ok: true, addr: t < 0 ? A(1) : A(2) });
    const truth = { ...killTruth, client: [{ node: 'node1', at: T0 }] };
    expect(judge(wan, wanKilled(), truth, writes)).toEqual([]);
    expect(judge(timing, wanKilled(), truth, writes)).toEqual(expect.arrayContaining([1, 6]));
    const late = new Map([['node1', writes.get('node1')!.filter((w) => w.t < T0 || w.t > T0 + 6200)]]);
    expect(judge(wan, wanKilled(), truth, late)).toEqual([6]);
  });
});

describe('the lab\'s WAN config', () => {
  it('writes only peer.profile wan, and the timing the invariants use is the profile\'s, read by the agent\'s own loader', async () => {
    const { configText, timingOf, TIMING } = await import('./netlab.mjs');
    const { PEER_PROFILES } = await import('../../src/config/schema');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'cdl-config-'));
    try {
      const text = configText(nodes, 'wan');
      expect(text).toMatch(/peer: \{ port: 7946, profile: wan \}/);
      expect(text).not.toMatch(/interval|downAfter|upAfter/);
      writeFileSync(join(dir, 'wan.yaml'), text);
      expect(timingOf(join(dir, 'wan.yaml'))).toEqual({ interval: PEER_PROFILES.wan.interval, downAfter: PEER_PROFILES.wan.downAfter, upAfter: PEER_PROFILES.wan.upAfter, maxUpAfter: 60_000, ttl: 1, negativeTtl: 1 });
      writeFileSync(join(dir, 'lan.yaml'), configText(nodes, 'lan'));
      expect(timingOf(join(dir, 'lan.yaml'))).toEqual(TIMING);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('one-way link visibility check', () => {
  it('accepts a log line or a non-zero metric naming both ends, not a down verdict', async () => {
    const { oneWayVisible } = await import('./runner.mjs');
    const base = { from: 'node1', to: 'node2', metrics: '', logs: '' };
    expect(oneWayVisible(base)).toBe(false);
    expect(oneWayVisible({ ...base, logs: '{"msg":"node1 down: not heard by node2, node3 for 1.0 s"}' })).toBe(false);
    expect(oneWayVisible({ ...base, logs: '{"event":"one-way link","msg":"node2 does not hear node1; node1 hears node2"}' })).toBe(true);
    expect(oneWayVisible({ ...base, metrics: 'clusterdns_peer_one_way{from="node1",to="node2"} 0' })).toBe(false);
    expect(oneWayVisible({ ...base, metrics: 'clusterdns_peer_one_way{from="node1",to="node2"} 1' })).toBe(true);
  });
});

describe('lab invariants: a heal followed by another fault', () => {
  it('(5) an agent killed after the heal does not count against it; its own restart is judged by its own heal', () => {
    // node1 restarted at 0.3 s and never failed over; node3 killed at 2.2 s, back at 5.2 s, answering
    // at 5.5 s (the clock scenarios). node1 healed at once; node3's heal is its own.
    const m = healthy();
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node3', n, 2200, 'TIMEOUT');
    for (const a of ['node1', 'node2']) set(m, a, 'node3', 3300, A(1));
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node3', n, 5500, A(Number(n.slice(4))));
    for (const a of ['node1', 'node2']) set(m, a, 'node3', 8000, A(3));
    const truth = {
      faulted: ['node1', 'node3'],
      unreachable: [{ node: 'node1', from: T0, to: T0 + 300 }, { node: 'node3', from: T0 + 2200, to: T0 + 5200 }],
      heals: [{ node: 'node1', at: T0 + 300 }, { node: 'node3', at: T0 + 5200 }],
    };
    expect(run(m, truth).violations.filter((v: { invariant: number }) => v.invariant === 5)).toEqual([]);
    // node3's own heal is still judged by every agent: answered with its own address too late, it breaks (5).
    for (const a of ['node1', 'node2']) set(m, a, 'node3', 8000, A(1));
    for (const a of ['node1', 'node2']) set(m, a, 'node3', 9500, A(3));
    const r = run(m, truth).violations.filter((v: { invariant: number }) => v.invariant === 5);
    expect(r.map((v: { message: string }) => v.message.split(' healed')[0])).toEqual(['node3']);
  });
});

describe('lab invariants: a heal that does not last', () => {
  it('(5) a node answered with its own address for a moment, then failed over for good', () => {
    const m = healthy();
    for (const a of ['node2', 'node3']) set(m, a, 'node1', 2000, A(2));
    set(m, 'node1', 'node1', 2000, A(2));
    const truth = { faulted: ['node1'], heals: [{ node: 'node1', at: T0 }] };
    const r = check({ nodes, answers: m, writes: new Map(), timing, window, truth, rounds: ROUNDS });
    expect(r.violations.map((v: { invariant: number }) => v.invariant)).toEqual([5]);
    expect(r.violations[0].message).toMatch(/still not answered with its own address/);
  });
});

/** Sets every name of every node (`node1..3`, `ns1..3`) answered by `agent` to `v` from `t` (ms after T0). */
function all(m: Map<string, [number, string][]>, agent: string, t: number, v: string | ((k: number) => string)) {
  for (const k of [1, 2, 3]) set(m, agent, `node${k}`, t, typeof v === 'function' ? v(k) : v);
}
const own = (k: number) => A(k);
/** node1 cut off from 0 to 6 s (minority); the survivors fail it over to node2 at 1.1 s and keep it there. */
const isolateTruth = { faulted: ['node1'], unreachable: [{ node: 'node1', from: T0, to: T0 + 20_000 }], minority: [{ node: 'node1', from: T0, to: T0 + 20_000 }], failovers: [{ node: 'node1', at: T0 }] };
function isolated() {
  const m = healthy();
  for (const a of ['node2', 'node3']) set(m, a, 'node1', 1100, A(2));
  all(m, 'node1', 1100, 'REFUSED');
  return m;
}
type Case = { name: string; answers: () => Map<string, [number, string][]>; truth: object; rounds?: number[]; history?: Map<string, object>; want: (number | string)[]; text: RegExp };

// Each timeline passed the checker before issue 16 (or is the original defect of a regression
// scenario) and must now give the violation named.
const BROKEN: Case[] = [
  {
    name: 'issue 16: a majority agent answers REFUSED for 8 s, no fault',
    answers: () => {
      const m = healthy();
      all(m, 'node2', 1000, 'REFUSED');
      all(m, 'node2', 9000, own);
      return m;
    },
    truth: { faulted: [] },
    want: [4],
    text: /node2, an agent of the majority, answers node1 with REFUSED, not an address/,
  },
  {
    name: 'issue 16: two of three agents silent for 9.5 s, no fault',
    answers: () => {
      const m = healthy();
      for (const a of ['node2', 'node3']) all(m, a, 500, 'TIMEOUT');
      return m;
    },
    truth: { faulted: [] },
    want: [4],
    text: /node2, an agent of the majority, answers node1 with TIMEOUT, not an address \(silent for more than 2 poll rounds\)/,
  },
  {
    name: 'issue 16: the survivors answer REFUSED or NODATA for a killed node forever',
    answers: () => {
      const m = healthy();
      all(m, 'node1', 0, 'TIMEOUT');
      set(m, 'node2', 'node1', 1100, 'REFUSED');
      set(m, 'node3', 'node1', 1100, 'NODATA');
      return m;
    },
    truth: killTruth,
    want: [1, 3],
    text: /failover of node1 .* never completed|node[23], an agent of the majority, answers node1 with (REFUSED|NODATA)/,
  },
  {
    name: 'issue 16: an empty timeline',
    answers: () => new Map(),
    truth: { faulted: [] },
    rounds: [],
    want: [0, 4],
    text: /blind: 1 stretch\(es\) without a complete poll round/,
  },
  {
    name: 'issue 16: a minority agent goes silent instead of refusing',
    answers: () => {
      const m = isolated();
      all(m, 'node1', 1100, 'TIMEOUT');
      return m;
    },
    truth: isolateTruth,
    want: [2],
    text: /node1, without a majority from 0.00s to 10.00s, never refused every name|node1, without a majority since 0.00s, answers node1 with TIMEOUT/,
  },
  {
    name: 'the poller dies half-way: its last answers freeze on a healthy cluster',
    answers: () => healthy(),
    truth: { faulted: [] },
    rounds: ROUNDS.filter((t) => t < T0 + 5000),
    want: [0],
    text: /blind: 1 stretch\(es\) .*longest 5\d\d\d ms, first from 4\.9\ds/,
  },
  {
    name: 'pause-5s: the survivors never fail the paused node over (they keep its address)',
    answers: () => {
      const m = healthy();
      all(m, 'node1', 0, 'TIMEOUT');
      return m;
    },
    truth: { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 20_000 }] },
    want: [1],
    text: /node2 answers node1 with 198.51.100.11, the address of node1, unreachable since 0.00s/,
  },
  {
    name: 'regression start: an agent serves failover targets for healthy nodes for 100 ms at start',
    answers: () => {
      const m = healthy();
      set(m, 'node3', 'node2', 2000, A(1));
      set(m, 'node3', 'node2', 2100, A(2));
      return m;
    },
    truth: { faulted: [], silent: [{ node: 'node3', from: T0, to: T0 + 1900 }] },
    want: [3, 4],
    text: /node3 answers node2 with 198.51.100.11 although node2 is healthy/,
  },
  {
    name: 'regression kill: the restarted agent answers a healthy node with a failover target before its verdict',
    answers: () => {
      const m = killed();
      all(m, 'node1', 4050, (k) => (k === 1 ? A(2) : A(k)));
      set(m, 'node1', 'node3', 4100, A(2));
      set(m, 'node1', 'node3', 4250, A(3));
      return m;
    },
    truth: { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 4000 }], failovers: [] },
    want: [3, 4],
    text: /node1 answers node3 with 198.51.100.12 although node3 is healthy/,
  },
  {
    name: 'regression isolate: the rejoining node answers itself while the majority answers the failover target',
    answers: () => {
      const m = isolated();
      all(m, 'node1', 6100, own);
      for (const a of ['node2', 'node3']) set(m, a, 'node1', 9200, A(1));
      return m;
    },
    truth: { ...isolateTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 6000 }], minority: [{ node: 'node1', from: T0, to: T0 + 6000 }] },
    want: [3],
    text: /majority agents disagree on node1 for 3100 ms/,
  },
  {
    name: 'regression isolate: re-admission after twice the hold-down that the flap history gives (12.4 s accepted before)',
    answers: () => {
      const m = isolated();
      all(m, 'node1', 3100, (k) => (k === 1 ? A(2) : A(k)));
      for (const a of ['node1', 'node2', 'node3']) set(m, a, 'node1', 3000 + 6400, A(1));
      return m;
    },
    truth: { ...isolateTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 3000 }], minority: [{ node: 'node1', from: T0, to: T0 + 3000 }], heals: [{ node: 'node1', at: T0 + 3000 }] },
    // Last recovered 90 s ago: no flap, the hold-down is upAfter (3 s), whatever the agents report.
    history: new Map([['node1', { holdDownMs: 6000, recoveredAt: T0 - 90_000 }]]),
    want: [5],
    text: /node1 healed at 3.00s but is answered with its own address by every agent \(for good\) only after 6400 ms \(bound 4000 ms: hold-down 3000 ms/,
  },
  {
    name: 'regression clock-behind: a node restarted with its clock behind is dropped as a replay and never re-admitted',
    answers: () => {
      const m = killed();
      all(m, 'node1', 2100, 'REFUSED');
      return m;
    },
    truth: { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 2000 }], heals: [{ node: 'node1', at: T0 + 2000 }], failovers: [] },
    want: [3, 4, 5],
    text: /node1 healed at 2.00s but is still not answered with its own address by every agent/,
  },
  {
    name: 'regression restart-storm: a hold-down ends after the node was killed (switch back to the dead address)',
    answers: () => {
      const m = healthy();
      for (const a of ['node2', 'node3']) set(m, a, 'node1', -500, A(2));
      all(m, 'node1', 0, 'TIMEOUT');
      for (const a of ['node2', 'node3']) set(m, a, 'node1', 700, A(1));
      for (const a of ['node2', 'node3']) set(m, a, 'node1', 1300, A(2));
      return m;
    },
    truth: { faulted: ['node1'], unreachable: [{ node: 'node1', from: T0, to: T0 + 20_000 }] },
    want: [1],
    text: /node2 switches node1 to 198.51.100.11, the address of node1, 700 ms after it became unreachable/,
  },
  {
    name: 'regression clock-step: a wall clock stepped back stops the rate limit refill: every answer of that agent an empty TC',
    answers: () => {
      const m = healthy();
      all(m, 'node2', 5000, 'TRUNCATED');
      all(m, 'node2', 9000, own);
      return m;
    },
    truth: { faulted: [] },
    want: [4],
    text: /node2, an agent of the majority, answers node1 with TRUNCATED, not an address/,
  },
  {
    name: 'regression dns-flood: the flooded agent rate-limits the poller (TC slips, dropped answers)',
    answers: () => {
      const m = healthy();
      for (let t = 1000; t < 9000; t += 400) {
        set(m, 'node3', 'node2', t, t % 800 ? 'TRUNCATED' : 'TIMEOUT');
        set(m, 'node3', 'node2', t + 200, A(2));
      }
      return m;
    },
    truth: { faulted: [] },
    want: [4],
    text: /node3, an agent of the majority, answers node2 with (TRUNCATED|TIMEOUT)/,
  },
  {
    name: 'an agent silent for 150 ms (3 poll rounds) is more than a lost poll',
    answers: () => {
      const m = healthy();
      set(m, 'node2', 'node3', 3000, 'TIMEOUT');
      set(m, 'node2', 'node3', 3150, A(3));
      return m;
    },
    truth: { faulted: [] },
    want: [4],
    text: /node2, an agent of the majority, answers node3 with TIMEOUT/,
  },
];

describe('the checker fails broken timelines (issue 16 and the regressions\' original defects)', () => {
  for (const c of BROKEN) {
    it(c.name, () => {
      const r = check({ nodes, answers: c.answers(), writes: new Map(), timing, window, truth: c.truth, rounds: c.rounds ?? ROUNDS, history: c.history ?? new Map() });
      const got = [...new Set(r.violations.map((v: { invariant: number | string }) => v.invariant))].sort();
      expect(got, r.violations.map((v: { message: string }) => v.message).join('\n')).toEqual(c.want);
      expect(r.violations.map((v: { message: string }) => v.message).join('\n')).toMatch(c.text);
    });
  }

  it('a lost poll (one 50 ms TIMEOUT, or two rounds) is allowed and counted', () => {
    const m = healthy();
    set(m, 'node2', 'node3', 3000, 'TIMEOUT');
    set(m, 'node2', 'node3', 3050, A(3));
    set(m, 'node1', 'node2', 6000, 'TIMEOUT');
    set(m, 'node1', 'node2', 6100, A(2));
    const r = run(m, { faulted: [] });
    expect(broken(r)).toEqual([]);
    expect(r.figures.lostPolls).toBe(4); // node and ns names of each
  });

  it('a restarted agent may refuse for 2 intervals + 2 polls after it listens, not longer', () => {
    const m = killed();
    all(m, 'node1', 4000, 'REFUSED');
    all(m, 'node1', 4550, (k) => (k === 1 ? A(2) : A(k)));
    const truth = { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 4000 }] };
    expect(broken(run(m, truth))).toEqual([]);
    all(m, 'node1', 4550, 'REFUSED');
    all(m, 'node1', 4700, (k) => (k === 1 ? A(2) : A(k)));
    expect(broken(run(m, truth))).toEqual([3, 4]);
  });

  it('a minority that refuses in time breaks nothing; one that never refuses breaks (2) (and its onset is null)', () => {
    expect(broken(run(isolated(), isolateTruth))).toEqual([]);
    const m = isolated();
    all(m, 'node1', 1100, own);
    const r = run(m, isolateTruth);
    expect(broken(r)).toEqual([2]);
    expect(r.figures.refusedAfterMs).toEqual([null]);
  });

  it('holdDownFor: upAfter for a first failure, doubled for a failure within maxUpAfter of the last recovery, capped', () => {
    const t = { upAfter: 3000, maxUpAfter: 60_000 };
    expect(holdDownFor(new Map(), 'node1', 100_000, t)).toBe(3000);
    expect(holdDownFor(new Map([['node1', { holdDownMs: 3000, recoveredAt: 50_000 }]]), 'node1', 100_000, t)).toBe(6000);
    expect(holdDownFor(new Map([['node1', { holdDownMs: 48_000, recoveredAt: 50_000 }]]), 'node1', 100_000, t)).toBe(60_000);
    expect(holdDownFor(new Map([['node1', { holdDownMs: 12_000, recoveredAt: 30_000 }]]), 'node1', 100_000, t)).toBe(3000);
  });
});

describe('the runner\'s own verdicts: SOA serial (clock-ahead regression) and the flood', () => {
  it('an SOA serial that followed a clock 5 min ahead breaks S', async () => {
    const { soaViolation } = await import('./runner.mjs');
    const now = 1_800_000_000_000;
    expect(soaViolation([['node1', 1_800_000_000], ['node2', null]], now)).toBeUndefined();
    expect(soaViolation([['node1', 1_800_000_300]], now)?.message).toMatch(/node1=1800000300 \(\+300 s\)/);
  });

  it('dnsperf that failed, gave no rate or too low a rate breaks F', async () => {
    const { floodViolation } = await import('./runner.mjs');
    expect(floodViolation({ code: 0, qps: 20_000, minQps: 5000 })).toBeUndefined();
    expect(floodViolation({ code: 1, qps: 20_000, minQps: 5000 })?.message).toMatch(/exited with 1/);
    expect(floodViolation({ code: 0, qps: Number.NaN, minQps: 5000 })?.message).toMatch(/no readable rate/);
    expect(floodViolation({ code: 0, qps: 300, minQps: 5000 })?.message).toMatch(/300 queries\/s \(needs exit 0 and ≥ 5000\/s\)/);
  });
});

describe('the checker during a membership change (truth.config: which config each agent runs)', () => {
  // node1..node3 run a config of node1, node2; node3 joins: reloads at 2 s (node1) and 4 s (node2),
  // node3 started with the new config at 1 s and in the minority until node1's reload.
  const base = (): Map<string, [number, string][]> => {
    const m = new Map<string, [number, string][]>();
    for (const a of ['node1', 'node2', 'node3']) for (const n of ['node1', 'node2', 'node3']) m.set(`${a}|${n}`, [[T0 - 1000, a === 'node3' ? 'TIMEOUT' : n === 'node3' ? 'NXDOMAIN' : A(Number(n.slice(4)))]]);
    for (const n of ['node1', 'node2', 'node3']) m.get(`node3|${n}`)!.push([T0 + 1000, 'REFUSED'], [T0 + 2300, A(Number(n.slice(4)))]);
    m.get('node1|node3')!.push([T0 + 2050, A(3)]);
    m.get('node2|node3')!.push([T0 + 4050, A(3)]);
    return m;
  };
  const truth = {
    faulted: ['node3'],
    config: [
      { node: 'node1', from: -Infinity, nodes: ['node1', 'node2'] },
      { node: 'node2', from: -Infinity, nodes: ['node1', 'node2'] },
      { node: 'node3', from: T0 + 1000, nodes: ['node1', 'node2', 'node3'] },
      { node: 'node1', signalled: T0 + 2000, from: T0 + 2100, nodes: ['node1', 'node2', 'node3'] },
      { node: 'node2', signalled: T0 + 4000, from: T0 + 4100, nodes: ['node1', 'node2', 'node3'] },
    ],
    minority: [{ node: 'node3', from: T0 + 1000, to: T0 + 2000 }],
  };
  const judge = (m: Map<string, [number, string][]>) => {
    const r = check({ nodes, answers: m, writes: new Map(), timing, window, truth, rounds: ROUNDS, names: ['node1', 'node2', 'node3'] });
    return { broken: [...new Set(r.violations.map((v: { invariant: number }) => v.invariant))], text: r.violations.map((v: { message: string }) => v.message).join('\n') };
  };

  it('an old config answering NXDOMAIN for the joining node, a joining node refusing until it is known: nothing broken', () => {
    const r = judge(base());
    expect(r.broken, r.text).toEqual([]);
  });

  it('a reloaded agent that still answers NXDOMAIN for a node its new config names breaks (3)', () => {
    const m = base();
    m.get('node1|node3')!.splice(1, 1, [T0 + 2600, A(3)]);
    const r = judge(m);
    expect(r.broken).toEqual([3]);
    expect(r.text).toMatch(/node1, an agent of the majority, answers node3 with NXDOMAIN/);
  });

  it('a joining node that answers while in the minority breaks (2)', () => {
    const m = base();
    for (const n of ['node1', 'node2', 'node3']) m.get(`node3|${n}`)!.splice(1, 1, [T0 + 1000, A(Number(n.slice(4)))]);
    expect(judge(m).broken).toEqual([2]);
  });
});

describe('the allowances around a fault, each bounded', () => {
  it('a killed agent\'s last queries time out before the kill (stamped at their send): up to the poller timeout, not more', () => {
    const at = (lead: number) => {
      const m = healthy();
      all(m, 'node1', 2000 - lead, 'TIMEOUT');
      for (const a of ['node2', 'node3']) set(m, a, 'node1', 3100, A(2));
      return m;
    };
    const truth = { faulted: ['node1'], unreachable: [{ node: 'node1', from: T0 + 2000 }], failovers: [{ node: 'node1', at: T0 + 2000 }] };
    expect(broken(run(at(200), truth))).toEqual([]);
    expect(broken(run(at(400), truth))).toEqual([3, 4]);
  });
});
