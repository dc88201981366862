/**
 * SipHash-2-4 (Aumasson and Bernstein), the hash RFC 9018 prescribes for interoperable server
 * cookies. 64-bit words are kept as pairs of 32-bit halves: BigInt would allocate on every query
 * that carries a cookie, and Node's crypto has no SipHash.
 */

// State: v0..v3 as [hi, lo] pairs in one typed array, reused (one call at a time on one thread).
const v = new Uint32Array(8); // v0h v0l v1h v1l v2h v2l v3h v3l

function add(a: number, b: number): void {
  const lo = (v[a + 1] + v[b + 1]) >>> 0;
  v[a] = (v[a] + v[b] + (lo < v[a + 1] ? 1 : 0)) >>> 0;
  v[a + 1] = lo;
}

function rotl(a: number, n: number): void {
  const h = v[a];
  const l = v[a + 1];
  if (n === 32) {
    v[a] = l;
    v[a + 1] = h;
  } else if (n < 32) {
    v[a] = ((h << n) | (l >>> (32 - n))) >>> 0;
    v[a + 1] = ((l << n) | (h >>> (32 - n))) >>> 0;
  } else {
    const m = n - 32;
    v[a] = ((l << m) | (h >>> (32 - m))) >>> 0;
    v[a + 1] = ((h << m) | (l >>> (32 - m))) >>> 0;
  }
}

function xor(a: number, b: number): void {
  v[a] ^= v[b];
  v[a + 1] ^= v[b + 1];
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function round(): void {
  add(V0, V1);
  rotl(V1, 13);
  xor(V1, V0);
  rotl(V0, 32);
  add(V2, V3);
  rotl(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotl(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotl(V1, 17);
  xor(V1, V2);
  rotl(V2, 32);
}

function le32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * SipHash-2-4 of `msg[start, end)` under the 16-byte `key`; the 8-byte result is written to
 * `out[at..]` in the byte order RFC 9018 puts it in the cookie (little-endian, as the reference
 * implementation outputs it).
 */
export function siphash24(key: Uint8Array, msg: Uint8Array, start: number, end: number, out: Uint8Array, at: number): void {
  const k0h = le32(key, 4);
  const k0l = le32(key, 0);
  const k1h = le32(key, 12);
  const k1l = le32(key, 8);
  v[0] = (k0h ^ 0x736f6d65) >>> 0;
  v[1] = (k0l ^ 0x70736575) >>> 0;
  v[2] = (k1h ^ 0x646f7261) >>> 0;
  v[3] = (k1l ^ 0x6e646f6d) >>> 0;
  v[4] = (k0h ^ 0x6c796765) >>> 0;
  v[5] = (k0l ^ 0x6e657261) >>> 0;
  v[6] = (k1h ^ 0x74656462) >>> 0;
  v[7] = (k1l ^ 0x79746573) >>> 0;
  const len = end - start;
  const full = start + (len & ~7);
  let p = start;
  for (; p < full; p += 8) compress(le32(msg, p + 4), le32(msg, p));
  // Last block: the remaining bytes, and the length's low byte on top.
  let mh = (len & 0xff) << 24;
  let ml = 0;
  for (let i = 0; p + i < end; i++) {
    if (i < 4) ml |= msg[p + i] << (8 * i);
    else mh |= msg[p + i] << (8 * (i - 4));
  }
  compress(mh >>> 0, ml >>> 0);
  v[5] ^= 0xff;
  round();
  round();
  round();
  round();
  const h = (v[0] ^ v[2] ^ v[4] ^ v[6]) >>> 0;
  const l = (v[1] ^ v[3] ^ v[5] ^ v[7]) >>> 0;
  for (let i = 0; i < 4; i++) {
    out[at + i] = (l >>> (8 * i)) & 0xff;
    out[at + 4 + i] = (h >>> (8 * i)) & 0xff;
  }
}

function compress(mh: number, ml: number): void {
  v[6] ^= mh;
  v[7] ^= ml;
  round();
  round();
  v[0] ^= mh;
  v[1] ^= ml;
}
