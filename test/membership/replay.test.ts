import { describe, expect, it } from 'vitest';
import { isNewer, newIncarnation } from '../../src/membership/replay';

describe('replay window', () => {
  it.each([
    ['first message from a sender', undefined, 5n, 1, true],
    ['next sequence', { incarnation: 5n, sequence: 1 }, 5n, 2, true],
    ['gap in sequence (lost heartbeats)', { incarnation: 5n, sequence: 1 }, 5n, 90, true],
    ['same sequence again', { incarnation: 5n, sequence: 7 }, 5n, 7, false],
    ['older sequence', { incarnation: 5n, sequence: 7 }, 5n, 6, false],
    ['new boot: sequence restarts', { incarnation: 5n, sequence: 700 }, 6n, 1, true],
    ['message from an older boot', { incarnation: 6n, sequence: 1 }, 5n, 701, false],
  ] as const)('%s', (_name, last, incarnation, sequence, fresh) => {
    expect(isNewer(last, incarnation, sequence)).toBe(fresh);
  });

  it('orders incarnations by boot time, whatever the random bits', () => {
    expect(newIncarnation(1_700_000_000_001, 0)).toBeGreaterThan(newIncarnation(1_700_000_000_000, 0xfffff));
    expect(newIncarnation(1_700_000_000_000, 0x1fffff)).toBe(newIncarnation(1_700_000_000_000, 0xfffff));
    expect(newIncarnation(Date.now(), 0xfffff)).toBeLessThan(2n ** 64n);
  });
});
