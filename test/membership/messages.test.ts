import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decode,
  decodeAge,
  encodeAge,
  encodeHeartbeat,
  encodeHeartbeats,
  encodingLength,
  MAX_AGE_MS,
  MAX_MESSAGE_LENGTH,
  wireNames,
  type Heartbeat,
  type RejectReason,
} from '../../src/membership/messages';
import { seededRandom } from '../../src/membership/prng';
import { SECRET } from './helpers';

const known = wireNames(['node1', 'node2', 'node3'], ['redis-12000', 'pg']);

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
    ['node3', { everHeard: false, ageMs: MAX_AGE_MS, verdict: 'unknown' }],
  ]),
  echoes: new Map([
    ['node1', { boot: 0xdeadbeef, sequence: 0xffffffff }],
    ['node3', { boot: 7, sequence: 0 }],
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
    const h = { ...sample, heard: new Map(), echoes: new Map(), services: new Map() };
    expect(decode(encodeHeartbeat(h, SECRET), SECRET, known)).toEqual({ ok: true, message: { type: 'heartbeat', ...h } });
  });

  it.each([
    [0, 0],
    [12.4, 12],
    [32_767, 32_767],
    [32_768, 32_768],
    [32_799, 32_768], // coarse above 32.7 s, rounded down: never reported older than it is
    [600_000, 600_000], // peer.downAfter's largest value: a silence that long still says so
    [600_031, 600_000],
    [MAX_AGE_MS, MAX_AGE_MS],
    [2 ** 40, MAX_AGE_MS], // saturates instead of wrapping
    [-5, 0],
  ])('age %d ms crosses the wire as %d ms', (ms, seen) => {
    expect(decodeAge(encodeAge(ms))).toBe(seen);
    const h = { ...sample, heard: new Map([['node1', { everHeard: true, ageMs: ms, verdict: 'up' as const }]]), echoes: new Map() };
    const r = decode(encodeHeartbeat(h, SECRET), SECRET, known);
    expect(r.ok && r.message.heard.get('node1')!.ageMs).toBe(seen);
  });

  it('skips rows and services of names this config does not know (a config rollout)', () => {
    const h = {
      ...sample,
      heard: new Map([...sample.heard, ['node9', { everHeard: true, ageMs: 1, verdict: 'up' as const }]]),
      echoes: new Map([...sample.echoes, ['node9', { boot: 1, sequence: 1 }]]),
      services: new Map([...sample.services, ['new-service', true]]),
    };
    expect(decode(encodeHeartbeat(h, SECRET), SECRET, known)).toEqual({ ok: true, message: { type: 'heartbeat', ...sample } });
  });

  it('encodingLength is the encoded length, whatever the names', () => {
    const heartbeat = (nodes: number, name: (i: number) => string) => {
      const heard = new Map(Array.from({ length: nodes }, (_, i) => [name(i), { everHeard: true, ageMs: i, verdict: 'up' as const }]));
      const echoes = new Map([...heard.keys()].slice(1).map((n, i) => [n, { boot: i, sequence: i }]));
      return { ...sample, sender: name(0), heard, echoes, services: new Map([[name(99), true]]) };
    };
    for (const nodes of [0, 1, 3, 17, 64]) {
      const long = heartbeat(nodes, (i) => `n${i}-`.padEnd(63, 'x'));
      expect(encodeHeartbeat(long, SECRET).length).toBe(encodingLength(long));
      expect(encodingLength(long)).toBe(encodingLength(heartbeat(nodes, (i) => `n${i}`)));
    }
  });

  const good = encodeHeartbeat(sample, SECRET);
  /** magic, type, incarnation, sequence, flags, sender id, config hash (1 + 16), row count, node id. */
  const FIRST_ROW_FLAGS = 2 + 8 + 4 + 1 + 4 + 17 + 1 + 4;
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
    ['future version', withByte(0, 0xd3), 'version'],
    ['version 1 (wall-clock incarnations, no echoes)', resign(withByte(0, 0xd1)), 'version'],
    ['version 0', withByte(0, 0xd0), 'version'],
    ['unknown type, validly signed', resign(withByte(1, 99)), 'type'],
    ['trailing byte, validly signed', resign(Buffer.concat([good.subarray(0, good.length - 32), Buffer.from([0]), good.subarray(good.length - 32)])), 'malformed'],
    ['truncated body, validly signed', resign(Buffer.concat([good.subarray(0, 20), Buffer.alloc(32)])), 'malformed'],
    ['verdict code 3 in a row, validly signed', resign(withByte(FIRST_ROW_FLAGS, 0b111)), 'malformed'],
    ['unknown row flag, validly signed', resign(withByte(FIRST_ROW_FLAGS, 0b10011)), 'malformed'],
    ['echo flag without its echo, validly signed', resign(Buffer.concat([good.subarray(0, FIRST_ROW_FLAGS), Buffer.from([0b1011, 0, 0]), Buffer.alloc(32)])), 'malformed'],
    ['unknown sender, validly signed', encodeHeartbeat({ ...sample, sender: 'node9' }, SECRET), 'unknown-sender'],
    ['sender name not a label, validly signed', encodeHeartbeat({ ...sample, sender: 'NODE 2' }, SECRET), 'unknown-sender'],
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
      if (r.ok) expect([...known.nodes.values()]).toContain(r.message.sender);
      else expect(['short', 'version', 'type', 'hmac', 'unknown-sender', 'malformed']).toContain(r.reason);
    }
    // The body parser was reached, not just the cheap checks in front of it.
    expect(seen.get('malformed')).toBeGreaterThan(100);
    expect(seen.get('hmac')).toBeGreaterThan(100);
  });
});

describe('one heartbeat for every peer while it fits', () => {
  const { echoes, ...row } = sample;
  it('every recipient gets the same version 2 heartbeat, with every recipient\'s echo', () => {
    const copies = encodeHeartbeats(row, ['node1', 'node3', 'node4'], echoes, SECRET);
    const recipients = new Map([...echoes].filter(([n]) => ['node1', 'node3', 'node4'].includes(n)));
    const one = encodeHeartbeat({ ...row, echoes: recipients }, SECRET);
    for (const to of ['node1', 'node3', 'node4']) expect(copies.get(to)!.equals(one), to).toBe(true);
  });
});

describe('one heartbeat per peer, with its echo alone (past what one heartbeat for all can carry)', () => {
  const { echoes, ...row } = sample;
  // A single recipient takes the per-peer path, as every one does once the shared heartbeat would not fit.
  const copies = new Map(['node1', 'node3', 'node4'].map((to) => [to, encodeHeartbeats(row, [to], echoes, SECRET).get(to)!]));

  it('each copy is the version 2 heartbeat with that echo only, byte for byte, signed as one', () => {
    expect([...copies.keys()]).toEqual(['node1', 'node3', 'node4']);
    for (const [to, bytes] of copies) {
      const one = new Map(echoes.has(to) ? [[to, echoes.get(to)!]] : []);
      expect(bytes.equals(encodeHeartbeat({ ...row, echoes: one }, SECRET)), to).toBe(true);
      // Signed as a peer that keys HMAC with the secret string checks it.
      expect(resign(bytes).equals(bytes), to).toBe(true);
    }
  });

  it('a receiver decodes its copy as any version 2 heartbeat: the whole row, its own echo, no other', () => {
    for (const [to, echo] of [
      ['node1', echoes.get('node1')],
      ['node3', echoes.get('node3')],
    ] as const) {
      const r = decode(copies.get(to)!, SECRET, known);
      expect(r).toEqual({ ok: true, message: { type: 'heartbeat', ...row, echoes: new Map([[to, echo]]) } });
    }
    // A recipient that is not in the row (another config) gets no echo, and the row unchanged.
    expect(decode(copies.get('node4')!, SECRET, known)).toEqual({ ok: true, message: { type: 'heartbeat', ...row, echoes: new Map() } });
  });

  it('is 8 bytes longer than the heartbeat without echoes, whatever the number of nodes', () => {
    const bare = encodingLength({ ...row, echoes: new Map() });
    expect(copies.get('node1')!.length).toBe(bare + 8);
    expect(copies.get('node4')!.length).toBe(bare);
  });
});

describe('secret rotation', () => {
  const OLD = SECRET;
  const NEW = 'the-new-secret-the-new-secret-the-new-0123';
  it('a heartbeat signed under any listed secret decodes; under none, it is rejected as hmac', () => {
    for (const signer of [OLD, NEW]) expect(decode(encodeHeartbeat(sample, signer), [NEW, OLD], known).ok).toBe(true);
    expect(decode(encodeHeartbeat(sample, NEW), [OLD], known)).toEqual({ ok: false, reason: 'hmac' });
    expect(decode(encodeHeartbeat(sample, 'a-stray-secret-a-stray-secret-a-stray-0123'), [NEW, OLD], known)).toEqual({ ok: false, reason: 'hmac' });
  });
});
