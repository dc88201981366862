import { describe, expect, it } from 'vitest';
import { applyAssessment, initialVerdict, type NodeVerdict } from '../../src/membership/holddown';
import type { Assessment } from '../../src/membership/verdict';

const timing = { upAfterMs: 3000, maxUpAfterMs: 20_000 };
const down: Assessment = { kind: 'down', reason: 'node2 down: not heard' };
const heard: Assessment = { kind: 'heard', reason: 'node2 up: heard by node1, node3' };
const undecided: Assessment = { kind: 'undecided' };

/** Feeds assessments at the given times; returns the verdict after each. */
function run(steps: [number, Assessment][], start: NodeVerdict = initialVerdict(0, timing)): NodeVerdict[] {
  const out: NodeVerdict[] = [];
  let v = start;
  for (const [t, a] of steps) out.push((v = applyAssessment(v, a, t, timing)));
  return out;
}

describe('hold-down', () => {
  it('a node first seen comes up at once (a starting agent must serve)', () => {
    expect(run([[5, heard]])[0]).toMatchObject({ state: 'up', since: 5 });
  });

  it('a node first seen silent goes down at once', () => {
    expect(run([[5, down]])[0]).toMatchObject({ state: 'down', holdDownMs: 3000 });
  });

  it('comes back only after being heard continuously for the hold-down', () => {
    const v = run([
      [0, heard],
      [100, down],
      [1000, heard],
      [3999, heard],
      [4000, heard],
    ]);
    expect(v.map((x) => x.state)).toEqual(['up', 'down', 'down', 'down', 'up']);
    expect(v[4].reason).toBe('node2 up: heard by node1, node3 for 3.0 s (hold-down 3.0 s)');
  });

  it('an interruption restarts the hold-down', () => {
    const v = run([
      [0, heard],
      [100, down],
      [1000, heard],
      [2000, undecided],
      [2100, heard],
      [4500, heard],
      [5100, heard],
    ]);
    expect(v.map((x) => x.state)).toEqual(['up', 'down', 'down', 'down', 'down', 'down', 'up']);
  });

  it('doubles the hold-down on each flap, up to the maximum, and resets after a stable stretch', () => {
    let t = 0;
    let v = run([[t, heard]])[0];
    const holdDowns: number[] = [];
    const cycle = (upFor: number) => {
      v = applyAssessment(v, down, (t += upFor), timing);
      holdDowns.push(v.holdDownMs);
      v = applyAssessment(v, heard, (t += 10), timing);
      v = applyAssessment(v, heard, (t += v.holdDownMs), timing);
      expect(v.state).toBe('up');
    };
    for (let i = 0; i < 6; i++) cycle(1000);
    cycle(25_000); // up longer than maxUpAfter: no longer a flap
    expect(holdDowns).toEqual([3000, 6000, 12_000, 20_000, 20_000, 20_000, 3000]);
  });

  it('returns the same object when nothing changes (cheap change detection)', () => {
    const [v] = run([[0, heard]]);
    expect(applyAssessment(v, heard, 10, timing)).toBe(v);
    expect(applyAssessment(v, undecided, 10, timing)).toBe(v);
  });
});

describe('hold-down and stale hearing', () => {
  it('does not end on a stale "heard" (perhaps dead a moment ago), and ends once it is recent again', () => {
    const stale: Assessment = { ...heard, stale: true };
    const v = run([
      [0, heard],
      [100, down],
      [1000, heard],
      [4000, stale],
      [4200, stale],
      [4300, heard],
    ]);
    expect(v.map((x) => x.state)).toEqual(['up', 'down', 'down', 'down', 'down', 'up']);
    expect(v[4].heardSince).toBe(1000);
  });
});
