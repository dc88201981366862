import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decode, encodeHeartbeat, MAX_VERSION, MIN_VERSION, speaks, versionFor, wireNames } from '../../src/membership/messages';

/**
 * The peer protocol's compatibility rule (messages.ts: N and N−1 in both directions): what a sender
 * says it decodes, what it writes to each peer, and heartbeats recorded from the previous release.
 */
const SECRET = 'test-secret-0123456789abcdef-0123456789';
const names = wireNames(['node1', 'node2'], ['redis']);

// Made by the 0.2 encoder (git show dad1c99:src/membership/messages.ts) from node1's heartbeat below:
// health flags 0x01, so its sender says nothing of newer versions.
const RECORDED_0_2 = Buffer.from(
  'd2010123456789abcdef0000002a010f4e287406616263313233020f4e2874030000124e2d2d0b00fa000000070000000901b60889940178c425fdaf4a60b503420d80675c440823005ae7759ebf053ddc96a141d916d7c0b9ebd0',
  'hex',
);
const heartbeat = {
  sender: 'node1',
  incarnation: 0x0123456789abcdefn,
  sequence: 42,
  configHash: 'abc123',
  nodeHealthy: true,
  heard: new Map([
    ['node1', { everHeard: true, ageMs: 0, verdict: 'up' as const }],
    ['node2', { everHeard: true, ageMs: 250, verdict: 'up' as const }],
  ]),
  echoes: new Map([['node2', { boot: 7, sequence: 9 }]]),
  services: new Map([['redis', true]]),
  zoneSerial: 2026120701,
};

/** `bytes` with byte `at` set to `value` and the HMAC made again, as another build would send it. */
function resigned(bytes: Buffer, edits: ReadonlyArray<[at: number, value: number]>): Buffer {
  const body = Buffer.from(bytes.subarray(0, bytes.length - 32));
  for (const [at, value] of edits) body[at] = value;
  return Buffer.concat([body, createHmac('sha256', SECRET).update(body).digest()]);
}

describe('peer protocol compatibility', () => {
  it.each([
    ['a peer not heard yet gets the oldest version this build decodes', undefined, MIN_VERSION],
    ['a peer that speaks 2 gets 2', 2, 2],
    ['version 1 is never written (it cannot prove a boot fresh)', 1, MIN_VERSION],
    ['a newer peer gets the newest version this build writes', MAX_VERSION + 1, MAX_VERSION],
    ['the largest value the field holds', 15, MAX_VERSION],
  ])('versionFor: %s', (_, peer, expected) => {
    expect(versionFor(peer)).toBe(expected);
  });

  it('decodes a heartbeat recorded from 0.2, whose sender speaks 2', () => {
    const r = decode(RECORDED_0_2, SECRET, names);
    expect(r).toEqual({ ok: true, message: { type: 'heartbeat', ...heartbeat } });
    expect(speaks(RECORDED_0_2)).toBe(2);
  });

  it('says in every heartbeat the newest version it decodes, in bits 0.2 leaves 0 and does not read', () => {
    const bytes = encodeHeartbeat(heartbeat, SECRET);
    expect(speaks(bytes)).toBe(MAX_VERSION);
    // Only the health flags' high nibble differs from what 0.2 sent: 0.2 reads bit 0 alone.
    const diff = [...bytes.subarray(0, -32)].flatMap((b, i) => (b === RECORDED_0_2[i] ? [] : [i]));
    expect(diff).toEqual([14]);
    expect(bytes[14] & 0x0f).toBe(RECORDED_0_2[14]);
  });

  it('a newer build that still writes version 2 to this one is understood, and said to speak 3', () => {
    const fromNewer = resigned(RECORDED_0_2, [[14, 0x31]]);
    expect(decode(fromNewer, SECRET, names)).toEqual({ ok: true, message: { type: 'heartbeat', ...heartbeat } });
    expect(speaks(fromNewer)).toBe(3);
    expect(versionFor(speaks(fromNewer))).toBe(2);
  });

  it.each([
    ['version 1', 0xd1],
    [`version ${MAX_VERSION + 1}, which this build does not decode`, 0xd0 | (MAX_VERSION + 1)],
  ])('refuses %s with reason version', (_, header) => {
    expect(decode(resigned(RECORDED_0_2, [[0, header]]), SECRET, names)).toEqual({ ok: false, reason: 'version' });
  });
});
