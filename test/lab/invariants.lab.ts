// The invariant checker on hand-made timelines: each invariant passes a clean run and names the
// break in a bad one. No root needed; runs with the lab (npm run test:faults).
import { describe, expect, it } from 'vitest';
import { check } from './invariants.mjs';

const nodes = [1, 2, 3].map((k) => ({ name: `node${k}`, addr: `198.51.100.1${k}` }));
const timing = { interval: 250, downAfter: 1000, upAfter: 3000, ttl: 1 };
const T0 = 1_000_000;
const window = { from: T0, to: T0 + 10_000 };
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
const run = (answers: Map<string, [number, string][]>, truth: object, writes = new Map()) => check({ nodes, answers, writes, timing, window, truth });
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

  it('(5) a healed node answered with its own address only after hold-down + 1 s', () => {
    const m = killed();
    for (const a of ['node1', 'node2', 'node3']) set(m, a, 'node1', 9000, A(1));
    const truth = { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 3000 }], heals: [{ node: 'node1', at: T0 + 3000, holdDownMs: 3000 }] };
    expect(broken(run(m, truth))).toEqual([5]);
    expect(broken(run(m, { ...truth, heals: [{ node: 'node1', at: T0 + 3000, holdDownMs: 6000 }] }))).toEqual([]);
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
  const wan = { interval: 500, downAfter: 3000, upAfter: 10_000, ttl: 1 };
  /** node1 killed at 0, failed over to node2 by every survivor at 3.4 s (a WAN detection). */
  function wanKilled() {
    const m = healthy();
    for (const n of ['node1', 'node2', 'node3']) set(m, 'node1', n, 0, 'TIMEOUT');
    for (const a of ['node2', 'node3']) set(m, a, 'node1', 3400, A(2));
    return m;
  }
  const judge = (t: typeof timing, answers: Map<string, [number, string][]>, truth: object, writes = new Map()) =>
    [...new Set(check({ nodes, answers, writes, timing: t, window: { from: T0, to: T0 + 20_000 }, truth }).violations.map((v: { invariant: number }) => v.invariant))];

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
    for (const a of ['node1', 'node2', 'node3']) set(m, a, 'node1', 5000 + 10_000 + 1600, A(1));
    const truth = { ...killTruth, unreachable: [{ node: 'node1', from: T0, to: T0 + 5000 }], heals: [{ node: 'node1', at: T0 + 5000, holdDownMs: 10_000 }] };
    expect(judge(wan, m, truth)).toEqual([]);
    expect(judge(timing, m, truth)).toContain(5);
    const late = wanKilled();
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
      expect(timingOf(join(dir, 'wan.yaml'))).toEqual({ interval: PEER_PROFILES.wan.interval, downAfter: PEER_PROFILES.wan.downAfter, upAfter: PEER_PROFILES.wan.upAfter, ttl: 1, negativeTtl: 1 });
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
      heals: [{ node: 'node1', at: T0 + 300, holdDownMs: 3000 }, { node: 'node3', at: T0 + 5200, holdDownMs: 3000 }],
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
    const truth = { faulted: ['node1'], heals: [{ node: 'node1', at: T0, holdDownMs: 3000 }] };
    const r = check({ nodes, answers: m, writes: new Map(), timing, window, truth });
    expect(r.violations.map((v: { invariant: number }) => v.invariant)).toEqual([5]);
    expect(r.violations[0].message).toMatch(/still not answered with its own address/);
  });
});
