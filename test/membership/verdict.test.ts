import { describe, expect, it } from 'vitest';
import { assess, majorityOf, voteOf, type Ballot, type Vote } from '../../src/membership/verdict';

const D = 1000;

describe('voteOf', () => {
  it.each([
    ['heard recently', { everHeard: true, ageMs: 10 }, 'heard'],
    ['heard just under downAfter', { everHeard: true, ageMs: D - 1 }, 'heard'],
    ['not heard for downAfter', { everHeard: true, ageMs: D }, 'silent'],
    ['never heard, listening for longer than downAfter', { everHeard: false, ageMs: D + 5 }, 'silent'],
    ['never heard, just started', { everHeard: false, ageMs: 300 }, 'abstain'],
    ['no observation in the row (config differs)', undefined, 'abstain'],
  ] as const)('%s → %s', (_name, obs, vote) => {
    expect(voteOf(obs, D)).toBe(vote);
  });
});

describe('majorityOf', () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
  ])('%i nodes → %i', (n, m) => expect(majorityOf(n)).toBe(m));
});

/** `voter:vote:age[@rowAge]`, e.g. `node1:silent:1200` or `node3:silent:1500@400`. */
function ballots(spec: string): Ballot[] {
  return spec
    .split(' ')
    .filter(Boolean)
    .map((s) => {
      const [voter, vote, when] = s.split(':');
      const [age, rowAge] = (when ?? '0').split('@').map(Number);
      return { voter, vote: vote as Vote, ageMs: age, rowAgeMs: rowAge ?? 0 };
    });
}

describe('assess (node2 of 3, majority 2)', () => {
  it.each([
    ['all hear it', 'node1:heard:10 node2:heard:0 node3:heard:200', false, 'heard', 'node2 up: heard by node1, node2, node3'],
    ['killed: both survivors silent', 'node1:silent:1200 node3:silent:1000', false, 'down', 'node2 down: not heard by node1, node3 for 1.0 s'],
    ['only one survivor silent (one-way loss)', 'node1:silent:1500 node2:heard:0 node3:heard:10', false, 'heard', 'node2 up: heard by node2, node3'],
    ['one silent, one abstains (just started)', 'node1:silent:1500 node3:abstain:300', false, 'undecided', undefined],
    ['minority agent: only its own vote', 'node1:silent:5000', false, 'undecided', undefined],
    ['its own row says its checks fail', 'node1:heard:10 node2:heard:0 node3:heard:10', true, 'down', 'node2 down: its own checks fail'],
    ['silence wins over health in the reason', 'node1:silent:1200 node3:silent:1100', true, 'down', 'node2 down: not heard by node1, node3 for 1.1 s'],
    // node3's row is 400 ms old and covers [1900, 400] ms ago; node1 is silent over [1300, 0]: common 900 ms.
    ['silences that do not overlap for downAfter', 'node1:silent:1300 node3:silent:1500@400', false, 'undecided', undefined],
    // node1 silent over [1500, 0], node3 over [1500, 400]: a common 1.1 s.
    ['silences that overlap for downAfter', 'node1:silent:1500 node3:silent:1100@400', false, 'down', 'node2 down: not heard by node1, node3 for 1.1 s'],
  ] as const)('%s', (_name, spec, unhealthy, kind, reason) => {
    const a = assess('node2', ballots(spec), 2, D, unhealthy);
    expect(a.kind).toBe(kind);
    if (reason) expect(a).toHaveProperty('reason', reason);
  });
});

describe('assess (node5 of 5, majority 3)', () => {
  it.each([
    ['three silent', 'node1:silent:1000 node2:silent:1100 node3:silent:1300 node4:heard:5', 'down'],
    ['two silent, two heard', 'node1:silent:1000 node2:silent:1100 node3:heard:10 node4:heard:5', 'undecided'],
    ['three heard', 'node1:heard:1 node2:heard:2 node3:heard:3 node4:silent:2000', 'heard'],
    // Best common stretch: node1, node2 and node4 from 1.6 s to 0.5 s ago.
    ['three of four overlap for downAfter', 'node1:silent:2100 node2:silent:1600@500 node3:silent:1000@1200 node4:silent:1200@400', 'down'],
  ] as const)('%s', (_name, spec, kind) => {
    expect(assess('node5', ballots(spec), 3, D, false).kind).toBe(kind);
  });
});

describe('assess: heard lately enough to end a hold-down (recent = 500 ms)', () => {
  it.each([
    ['all heard it lately', 'node1:heard:100 node2:heard:0@200 node3:heard:150@100', false],
    ['killed 700 ms ago: still heard within downAfter, by nobody lately', 'node1:heard:700 node2:heard:0@700 node3:heard:450@250', true],
    ['one voter heard it lately, the node’s own row is old', 'node1:heard:100 node2:heard:0@700 node3:heard:450@250', true],
    ['two of three heard it lately', 'node1:heard:100 node2:heard:0@200 node3:heard:450@250', false],
  ] as const)('%s', (_name, spec, stale) => {
    const a = assess('node2', ballots(spec), 2, D, false, 500);
    expect(a.kind).toBe('heard');
    expect('stale' in a && a.stale === true).toBe(stale);
  });
});
