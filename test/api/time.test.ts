import { describe, expect, it } from 'vitest';
import { httpDate, isoTime } from '../../src/api/time';

// The API writes its times from UTC fields (no time-zone lookup, src/api/time.ts); they must be
// the strings Date's own methods give.
describe('API times', () => {
  const times = [0, 1, 999, 784_111_777_000, 951_782_400_000, 951_868_799_999, 1_700_000_000_123, 4_102_444_799_999];
  for (let i = 0; i < 2000; i++) times.push(Math.floor(Math.random() * 253_402_300_799_999));

  it('isoTime is toISOString', () => {
    for (const t of times.filter((t) => new Date(t).getUTCFullYear() >= 1000)) expect(isoTime(t)).toBe(new Date(t).toISOString());
  });

  it('httpDate is toUTCString (RFC 9110 IMF-fixdate)', () => {
    for (const t of times.filter((t) => new Date(t).getUTCFullYear() >= 1000)) expect(httpDate(t)).toBe(new Date(t).toUTCString());
    expect(httpDate(784_111_777_000)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
  });
});
