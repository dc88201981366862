import { describe, expect, it } from 'vitest';
import { answerThreads } from '../../src/answer/threads';
import { reusePortWorks } from '../../src/server/dns-server';

/** How many answer threads dns.workers gives (src/answer/threads.ts), and where SO_REUSEPORT works. */
describe('dns.workers', () => {
  it('auto: one per core beyond the first, at most 8; one on one or two cores', () => {
    expect([1, 2, 3, 4, 8, 9, 16, 64].map((cores) => answerThreads('auto', cores, true).threads)).toEqual([1, 1, 2, 3, 7, 8, 8, 8]);
  });

  it('a number is taken as it is where threads can share a port', () => {
    expect(answerThreads(2, 2, true)).toEqual({ threads: 2 });
    expect(answerThreads(1, 16, true)).toEqual({ threads: 1 });
  });

  it('without SO_REUSEPORT for UDP: one thread, and a note for the log', () => {
    const r = answerThreads(4, 16, false);
    expect(r.threads).toBe(1);
    expect(r.note).toMatch(/dns\.workers: 4 asks for 4.*SO_REUSEPORT needs Node 22\.12 or later on Linux/);
    expect(answerThreads('auto', 2, false)).toEqual({ threads: 1 });
  });

  it('reusePort works on Linux from Node 22.12 (dgram and net gained it in 23.1.0 and 22.12.0)', () => {
    expect(reusePortWorks('20.20.2', 'linux')).toBe(false);
    expect(reusePortWorks('22.11.0', 'linux')).toBe(false);
    expect(reusePortWorks('22.12.0', 'linux')).toBe(true);
    expect(reusePortWorks('24.0.0', 'linux')).toBe(true);
    expect(reusePortWorks('26.12.1', 'linux')).toBe(true);
    expect(reusePortWorks('24.0.0', 'darwin')).toBe(false);
  });
});
