import { describe, expect, it } from 'vitest';
import { combine, initialHysteresis, observe, type Verdict } from '../../src/health/hysteresis';

/** Feeds a string of results ('+' success, '-' failure) and returns the verdict after each. */
function run(results: string, rise: number, fall: number): Verdict[] {
  let h = initialHysteresis;
  return [...results].map((c) => (h = observe(h, c === '+', rise, fall)).verdict);
}

const U = 'unknown';
const H = 'healthy';
const X = 'unhealthy';

describe('rise/fall hysteresis', () => {
  it.each<{ name: string; results: string; rise: number; fall: number; verdicts: Verdict[] }>([
    { name: 'starts unknown until rise successes', results: '++', rise: 2, fall: 2, verdicts: [U, H] },
    { name: 'rise 1 is healthy on the first success', results: '+', rise: 1, fall: 3, verdicts: [H] },
    { name: 'a first failure settles unhealthy at once', results: '-', rise: 2, fall: 3, verdicts: [X] },
    { name: 'a failure while still unknown settles unhealthy', results: '+-', rise: 2, fall: 2, verdicts: [U, X] },
    { name: 'one failure does not flip a healthy check', results: '++-+', rise: 2, fall: 2, verdicts: [U, H, H, H] },
    { name: 'fall consecutive failures flip it', results: '++--', rise: 2, fall: 2, verdicts: [U, H, H, X] },
    { name: 'a success resets the failure count', results: '+++-+-', rise: 3, fall: 2, verdicts: [U, U, H, H, H, H] },
    { name: 'recovery needs rise consecutive successes', results: '---++-+++', rise: 3, fall: 1, verdicts: [X, X, X, X, X, X, X, X, H] },
    { name: 'flapping never settles healthy with rise 2', results: '-+-+-+', rise: 2, fall: 2, verdicts: [X, X, X, X, X, X] },
  ])('$name', ({ results, rise, fall, verdicts }) => {
    expect(run(results, rise, fall)).toEqual(verdicts);
  });

  it('counts consecutive results', () => {
    let h = initialHysteresis;
    for (const ok of [true, true, false, false, false]) h = observe(h, ok, 2, 5);
    expect(h).toEqual({ verdict: 'healthy', successes: 0, failures: 3 });
  });
});

describe('combine', () => {
  it.each<[Verdict[], Verdict]>([
    [[], H],
    [[H, H], H],
    [[H, U], U],
    [[U, X], X],
    [[H, X], X],
  ])('%j → %s', (verdicts, expected) => {
    expect(combine(verdicts)).toBe(expected);
  });
});
