import { describe, expect, it } from 'vitest';
import type { Echo } from '../../src/membership/messages';
import { admit, FRESH_WINDOW, serialAfter, type ReplayMark } from '../../src/membership/replay';

/** This receiver: boot id 0x1234_0000_abcd (tag 0xabcd), last sent sequence 0x0000_0010. */
const own = { incarnation: 0x1234_0000_abcdn, sequence: 0x10 };
const ours = (sequence: number): Echo => ({ boot: 0xabcd, sequence: sequence >>> 0 });

describe('serial-number arithmetic (RFC 1982, 32 bits)', () => {
  it.each([
    [2, 1, true],
    [1, 2, false],
    [5, 5, false],
    [0, 0xffffffff, true], // wrapped
    [0xffffffff, 0, false],
    [0x7fffffff, 0, true],
    [0x80000000, 0, false], // exactly half way: neither is after the other
  ])('%i after %i: %s', (a, b, after) => {
    expect(serialAfter(a, b)).toBe(after);
  });
});

describe('admitting a heartbeat (incarnation, sequence, echo of ours)', () => {
  const current: ReplayMark = { incarnation: 77n, sequence: 500, proof: 0x0c };
  it.each<[string, ReplayMark | undefined, bigint, number, Echo | undefined, 'accept' | 'replay' | 'unproven']>([
    ['same boot, next sequence', current, 77n, 501, undefined, 'accept'],
    ['same boot, sequence wrapped past 2^32', { ...current, sequence: 0xffffffff }, 77n, 3, undefined, 'accept'],
    ['same boot, gap (lost heartbeats)', current, 77n, 590, undefined, 'accept'],
    ['same boot, same sequence again', current, 77n, 500, undefined, 'replay'],
    ['same boot, older sequence', current, 77n, 499, ours(0x10), 'replay'],
    ['first message from a sender, no echo yet', undefined, 5n, 1, undefined, 'unproven'],
    ['first message, echoing our latest sequence', undefined, 5n, 1, ours(0x10), 'accept'],
    ['first message, echoing a sequence just inside the window', undefined, 5n, 1, ours(0x10 - FRESH_WINDOW + 1), 'accept'],
    ['first message, echoing a sequence outside the window', undefined, 5n, 1, ours(0x10 - FRESH_WINDOW), 'unproven'],
    ['first message, echoing a sequence we never sent', undefined, 5n, 1, ours(0x11), 'unproven'],
    ['first message, echoing our previous boot (other tag)', undefined, 5n, 1, { boot: 0x9999, sequence: 0x10 }, 'unproven'],
    ['new boot, smaller id, echoing later than the current boot did', current, 3n, 9, ours(0x0d), 'accept'],
    ['new boot without an echo (a restarted peer before it heard us)', current, 78n, 1, undefined, 'unproven'],
    ['earlier boot replayed: echo not later than the current boot’s', current, 76n, 900, ours(0x0c), 'replay'],
    ['earlier boot replayed, recorded before our own boot', current, 76n, 900, { boot: 0x1, sequence: 0x0f }, 'unproven'],
  ])('%s', (_name, last, incarnation, sequence, echo, verdict) => {
    expect(admit(last, incarnation, sequence, echo, own).verdict).toBe(verdict);
  });

  it('a boot keeps the latest echo as its proof, so an earlier one can never take over again', () => {
    let mark: ReplayMark | undefined;
    const step = (inc: bigint, seq: number, echo?: Echo) => {
      const a = admit(mark, inc, seq, echo, own);
      if (a.verdict === 'accept') mark = a.mark;
      return a.verdict;
    };
    expect(step(1n, 100, ours(0x08))).toBe('accept');
    expect(step(1n, 101, ours(0x0a))).toBe('accept');
    expect(mark).toEqual({ incarnation: 1n, sequence: 101, proof: 0x0a });
    expect(step(1n, 102, ours(0x09))).toBe('accept'); // reordered echo: the proof does not go back
    expect(mark!.proof).toBe(0x0a);
    expect(step(2n, 5, ours(0x0b))).toBe('accept'); // restarted
    expect(step(1n, 103, ours(0x0a))).toBe('replay'); // the old boot, recorded
    expect(step(2n, 6, ours(0x0c))).toBe('accept');
  });
});
