import { describe, expect, it } from 'vitest';
import { siphash24 } from '../../src/server/siphash';

// Vectors from the reference implementation (vectors.h, output bytes in order): key 00..0f, message 00..n-1.
const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const msg = Uint8Array.from({ length: 64 }, (_, i) => i);

describe('SipHash-2-4', () => {
  it.each([
    [0, '310e0edd47db6f72'],
    [7, '37d1018bf50002ab'],
    [8, '6224939a79f5f593'],
    [15, 'e545be4961ca29a1'],
    [63, '724506eb4c328a95'],
  ])('a %i-byte message gives the reference output', (n, want) => {
    const out = Buffer.alloc(8);
    siphash24(key, msg, 0, n, out, 0);
    expect(out.toString('hex')).toBe(want);
  });

  it('reads the message at an offset and writes the result at one', () => {
    const shifted = Buffer.concat([Buffer.from([0xff, 0xee]), msg.subarray(0, 15)]);
    const out = Buffer.alloc(10);
    siphash24(key, shifted, 2, 17, out, 2);
    expect(out.subarray(2).toString('hex')).toBe('e545be4961ca29a1');
  });
});
