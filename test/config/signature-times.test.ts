import { describe, expect, it } from 'vitest';
import { signatureTimeProblems } from '../../src/config/signature-times';

/** The rule that keeps dnssec.validity, dnssec.refresh and the TTLs consistent, from a table. */

const H = 3600;
const D = 86400;
const config = (validity: number, refresh: number | undefined, ttl = 30, parentTtl = 60) => ({ ttl, parent: { ttl: parentTtl }, dnssec: { keys: ['k'], validity, refresh } });

describe('dnssec validity − refresh must cover the re-sign look, the largest TTL and an hour', () => {
  it.each([
    // validity, refresh, ttl, parent.ttl, the problem (undefined: none)
    [3 * H, 10200, 30, 60, /^dnssec\.refresh: .*\(every refresh\/4, at most 1 h: 2550 s\).*\(parent\.ttl: 60 s\).*at least 6210 s, and is 600 s.* — write refresh: 5712 \(or less\)/],
    [3 * H, undefined, 5, 60, undefined], // the lowest validity with the default refresh
    [3 * H, 5712, 30, 60, undefined],
    [3 * H, 5713, 30, 60, /^dnssec\.refresh: /],
    [3 * H, 2, 30, 60, undefined], // test/dnssec/resign.test.ts
    [3 * H, undefined, 3600, 60, /^dnssec\.validity: 10800 s with refresh left out \(half of it, 5400 s\).*\(ttl: 3600 s\).* — write validity: 19199 \(or more\), or a shorter ttl/],
    [14 * D, undefined, 30, 60, undefined], // the defaults
    [14 * D, 13 * D, 30, 60, undefined], // a day left: the look is at most an hour
    [14 * D, 14 * D - 2 * H, 30, 60, /^dnssec\.refresh: .*at most 1 h: 3600 s/],
    [3 * H, 5400, 5, 7 * D, /^dnssec\.refresh: .*parent\.ttl: 604800 s.* — write a longer validity \(at least 1223999 s with refresh left out\) or a shorter parent\.ttl/],
    [3660 * D, 1, 86400, 604800, undefined],
  ] as const)('validity %d, refresh %s, ttl %d, parent.ttl %d', (validity, refresh, ttl, parentTtl, problem) => {
    const p = signatureTimeProblems(config(validity, refresh, ttl, parentTtl));
    if (problem === undefined) expect(p).toEqual([]);
    else {
      expect(p).toHaveLength(1);
      expect(p[0]).toMatch(problem);
      expect(p[0]).toMatch(/RFC 6781 §4\.4\.2/);
    }
  });

  it('the refresh and validity it suggests pass, and one second more or less does not', () => {
    for (const validity of [3 * H, 5 * H, 20 * H, 2 * D, 14 * D, 3660 * D]) {
      for (const ttl of [5, 300, 3600, 86400]) {
        const p = signatureTimeProblems(config(validity, validity - 1, ttl, 60));
        const most = /write refresh: (\d+)/.exec(p[0] ?? '');
        if (!most) continue;
        const r = Number(most[1]);
        expect(signatureTimeProblems(config(validity, r, ttl, 60)), `validity ${validity} ttl ${ttl}`).toEqual([]);
        expect(signatureTimeProblems(config(validity, r + 1, ttl, 60)), `validity ${validity} ttl ${ttl}`).toHaveLength(1);
      }
    }
    for (const ttl of [5, 300, 3600, 20_000, 86400, 604800]) {
      const p = signatureTimeProblems(config(3 * H, undefined, ttl, 60));
      if (p.length === 0) continue;
      const v = Number(/write validity: (\d+)/.exec(p[0])![1]);
      expect(signatureTimeProblems(config(v, undefined, ttl, 60)), `ttl ${ttl}`).toEqual([]);
      expect(signatureTimeProblems(config(v - 1, undefined, ttl, 60)), `ttl ${ttl}`).toHaveLength(1);
    }
  });
});
