import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decode, encodeHeartbeat, MAX_MESSAGE_LENGTH, type Heartbeat, type RejectReason } from '../../src/membership/messages';
import { seededRandom } from '../../src/membership/prng';
import { SECRET } from './helpers';

const known = (n: string) => ['node1', 'node2', 'node3'].includes(n);

const sample: Omit<Heartbeat, 'type'> = {
  sender: 'node2',
  incarnation: 0xfedcba9876543210n,
  sequence: 4_000_000_000,
  configHash: '0123456789abcdef',
  zoneSerial: 2026112501,
  nodeHealthy: false,
  heard: new Map([
    ['node1', { everHeard: true, ageMs: 12, verdict: 'up' }],
    ['node2', { everHeard: true, ageMs: 0, verdict: 'down' }],
    ['node3', { everHeard: false, ageMs: 0xffffffff, verdict: 'unknown' }],
  ]),
  services: new Map([
    ['redis-12000', true],
    ['pg', false],
  ]),
};

function resign(bytes: Uint8Array, secret = SECRET): Buffer {
  const body = Buffer.from(bytes.subarray(0, bytes.length - 32));
  return Buffer.concat([body, createHmac('sha256', secret).update(body).digest()]);
}

describe('heartbeat codec', () => {
  it('round-trips every field', () => {
    const r = decode(encodeHeartbeat(sample, SECRET), SECRET, known);
    expect(r).toEqual({ ok: true, message: { type: 'heartbeat', ...sample } });
  });

  it('round-trips an empty row and no services', () => {
    const h = { ...sample, heard: new Map(), services: new Map() };
    expect(decode(encodeHeartbeat(h, SECRET), SECRET, known)).toEqual({ ok: true, message: { type: 'heartbeat', ...h } });
  });

  it('saturates ages instead of wrapping', () => {
    const h = { ...sample, heard: new Map([['node1', { everHeard: true, ageMs: 2 ** 40, verdict: 'up' as const }]]) };
    const r = decode(encodeHeartbeat(h, SECRET), SECRET, known);
    expect(r.ok && r.message.heard.get('node1')!.ageMs).toBe(0xffffffff);
  });

  const good = encodeHeartbeat(sample, SECRET);
  const withByte = (i: number, v: number) => {
    const b = Buffer.from(good);
    b[i] = v;
    return b;
  };
  const cases: [string, Uint8Array, RejectReason][] = [
    ['empty', new Uint8Array(0), 'short'],
    ['header only', good.subarray(0, 2), 'short'],
    ['unsigned (HMAC cut off)', good.subarray(0, good.length - 32), 'hmac'],
    ['forged: signed with another secret', encodeHeartbeat(sample, 'another-secret-another-secret-another'), 'hmac'],
    ['one bit flipped in the body', withByte(20, good[20] ^ 1), 'hmac'],
    ['one bit flipped in the HMAC', withByte(good.length - 1, good[good.length - 1] ^ 0x80), 'hmac'],
    ['wrong magic', withByte(0, 0x41), 'version'],
    ['future version', withByte(0, 0xd2), 'version'],
    ['version 0', withByte(0, 0xd0), 'version'],
    ['unknown type, validly signed', resign(withByte(1, 99)), 'type'],
    ['trailing byte, validly signed', resign(Buffer.concat([good.subarray(0, good.length - 32), Buffer.from([0]), good.subarray(good.length - 32)])), 'malformed'],
    ['truncated body, validly signed', resign(Buffer.concat([good.subarray(0, 20), Buffer.alloc(32)])), 'malformed'],
    ['verdict code 3 in a row, validly signed', resign(withByte(good.indexOf(Buffer.from('node1')) + 5, 0b111)), 'malformed'],
    ['unknown sender, validly signed', encodeHeartbeat({ ...sample, sender: 'node9' }, SECRET), 'unknown-sender'],
    ['sender name not a label, validly signed', encodeHeartbeat({ ...sample, sender: 'NODE 2' }, SECRET), 'malformed'],
    ['oversized', Buffer.concat([good, Buffer.alloc(MAX_MESSAGE_LENGTH)]), 'malformed'],
  ];
  it.each(cases)('rejects %s', (_name, bytes, reason) => {
    expect(decode(bytes, SECRET, known)).toEqual({ ok: false, reason });
  });

  it('never throws on random bytes or mutations of a valid message', () => {
    const random = seededRandom(42);
    const byte = () => Math.floor(random() * 256);
    const seen = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) bytes = Uint8Array.from({ length: Math.floor(random() * 200) }, byte);
      else {
        bytes = Buffer.from(good);
        for (let k = 1 + Math.floor(random() * 4); k > 0; k--) bytes[Math.floor(random() * bytes.length)] = byte();
        if (i % 4 === 1) bytes = resign(bytes); // past the HMAC: exercises the body parser
      }
      const r = decode(bytes, SECRET, known);
      seen.set(r.ok ? 'ok' : r.reason, (seen.get(r.ok ? 'ok' : r.reason) ?? 0) + 1);
      if (r.ok) expect(known(r.message.sender)).toBe(true);
      else expect(['short', 'version', 'type', 'hmac', 'unknown-sender', 'malformed']).toContain(r.reason);
    }
    // The body parser was reached, not just the cheap checks in front of it.
    expect(seen.get('malformed')).toBeGreaterThan(100);
    expect(seen.get('hmac')).toBeGreaterThan(100);
  });
});
