import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/membership/prng';
import { FrameReader } from '../../src/server/tcp-framing';

/** RFC 7766 framing without sockets: the same messages however the stream is cut into chunks. */

const frame = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);

function read(chunks: Buffer[]): string[] {
  const r = new FrameReader();
  const messages: string[] = [];
  for (const c of chunks)
    r.push(c, (m) => {
      messages.push(m.toString('hex'));
      return true;
    });
  return messages;
}

describe('FrameReader', () => {
  const msgs = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from([1])];
  const stream = Buffer.concat(msgs.map(frame));
  const want = msgs.map((m) => m.toString('hex'));

  it('one chunk, every split point, and one byte at a time give the same messages', () => {
    expect(read([stream])).toEqual(want);
    for (let at = 0; at <= stream.length; at++) expect(read([stream.subarray(0, at), stream.subarray(at)])).toEqual(want);
    expect(read([...stream].map((b) => Buffer.from([b])))).toEqual(want);
  });

  it('random chunkings (seeded)', () => {
    const rand = seededRandom(0xf4a3);
    for (let i = 0; i < 200; i++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = 1 + Math.floor(rand() * 40);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      expect(read(chunks)).toEqual(want);
    }
  });

  it('a 65,535-byte message trickled a byte at a time arrives once, whole', () => {
    const big = Buffer.alloc(65_535);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    const r = new FrameReader();
    const got: Buffer[] = [];
    for (const b of frame(big))
      r.push(Buffer.from([b]), (m) => {
        got.push(Buffer.from(m));
        return true;
      });
    expect(got).toHaveLength(1);
    expect(got[0].equals(big)).toBe(true);
  });

  it('holds a declined message and what follows it until the next push, whole or split', () => {
    for (let at = 0; at <= stream.length; at++) {
      const r = new FrameReader();
      const got: string[] = [];
      let calls = 0;
      // Declines the second message once (a client that stopped reading its answers), then takes all.
      const take = (m: Buffer) => {
        if (++calls === 2) return false;
        got.push(m.toString('hex'));
        return true;
      };
      r.push(stream.subarray(0, at), take);
      r.push(stream.subarray(at), take);
      r.push(Buffer.alloc(0), take);
      expect(got).toEqual(want);
      expect(calls).toBe(want.length + 1);
    }
  });
});
