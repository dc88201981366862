import { describe, expect, it } from 'vitest';
import { failoverTarget, rendezvousScore } from '../../src/failover/rendezvous';

type Spec = { name: string; rack?: string; role?: 'node' | 'witness' };
const cfg = (nodes: Spec[]) => ({ nodes: nodes.map((n) => ({ role: 'node' as const, ...n })) });
const names = (n: number) => Array.from({ length: n }, (_, i) => `node${i + 1}`);

describe('failoverTarget', () => {
  const three = cfg(names(3).map((name) => ({ name })));

  it('is the up candidate with the highest rendezvous score', () => {
    const best = ['node1', 'node3'].sort((a, b) => (rendezvousScore('node2', b) > rendezvousScore('node2', a) ? 1 : -1))[0];
    expect(failoverTarget('node2', ['node1', 'node3'], three)).toBe(best);
  });

  it.each([
    ['nothing up', [], undefined],
    ['only the failed node itself listed', ['node2'], undefined],
    ['one survivor', ['node3'], 'node3'],
    ['an unknown name is ignored', ['node9', 'node1'], 'node1'],
  ] as const)('%s', (_name, up, target) => {
    expect(failoverTarget('node2', up, three)).toBe(target);
  });

  it('never picks a witness', () => {
    const c = cfg([{ name: 'node1' }, { name: 'node2' }, { name: 'tie', role: 'witness' }]);
    expect(failoverTarget('node2', ['tie'], c)).toBeUndefined();
    expect(failoverTarget('node2', ['node1', 'tie'], c)).toBe('node1');
  });

  it('prefers the failed node’s rack, and falls back to any rack', () => {
    const c = cfg([
      { name: 'a1', rack: 'a' },
      { name: 'a2', rack: 'a' },
      { name: 'b1', rack: 'b' },
      { name: 'b2', rack: 'b' },
      { name: 'b3', rack: 'b' },
      { name: 'x' },
    ]);
    for (let i = 0; i < 20; i++) expect(failoverTarget('a1', ['a2', 'b1', 'b2', 'b3', 'x'], c)).toBe('a2');
    expect(['b1', 'b2', 'b3', 'x']).toContain(failoverTarget('a1', ['b1', 'b2', 'b3', 'x'], c));
    expect(['a1', 'a2', 'b1', 'b2', 'b3']).toContain(failoverTarget('x', ['a1', 'a2', 'b1', 'b2', 'b3'], c));
  });

  it('does not depend on the order of the up list (same answer on every agent)', () => {
    const c = cfg(names(7).map((name) => ({ name })));
    const up = ['node2', 'node3', 'node5', 'node6', 'node7'];
    const reversed = [...up].reverse();
    for (const failed of ['node1', 'node4']) expect(failoverTarget(failed, up, c)).toBe(failoverTarget(failed, reversed, c));
  });

  it('is stable: pinned values, so agents of different builds and platforms agree', () => {
    // First 8 bytes of sha256("node2\0node1") and sha256("node2\0node3"), big-endian.
    expect(rendezvousScore('node2', 'node1')).toBe(0x8a4ff93bff1496b4n);
    expect(rendezvousScore('node2', 'node3')).toBe(0x8bc4aa80e54c8441n);
    expect(failoverTarget('node2', ['node1', 'node3'], three)).toBe('node3');
  });

  it('spreads the failed nodes over the survivors', () => {
    const c = cfg(names(20).map((name) => ({ name })));
    const failed = names(10);
    const up = names(20).slice(10);
    const load = new Map<string, number>();
    for (const f of failed) {
      const t = failoverTarget(f, up, c)!;
      load.set(t, (load.get(t) ?? 0) + 1);
    }
    expect(load.size).toBeGreaterThanOrEqual(4);
    expect(Math.max(...load.values())).toBeLessThanOrEqual(4);
  });

  it('moves only the failed nodes whose target failed (minimal disruption)', () => {
    const c = cfg(names(8).map((name) => ({ name })));
    const before = new Map(['node1', 'node2', 'node3'].map((f) => [f, failoverTarget(f, names(8).slice(3), c)]));
    const lost = before.get('node1')!;
    const upAfter = names(8).slice(3).filter((n) => n !== lost);
    for (const [f, t] of before) if (t !== lost) expect(failoverTarget(f, upAfter, c)).toBe(t);
  });
});
