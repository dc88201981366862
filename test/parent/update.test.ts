import { describe, expect, it } from 'vitest';
import { planDelegation } from '../../src/parent/plan';
import { desiredDelegation, rrset, type RRset } from '../../src/parent/records';
import { encodeUpdate, updateSections } from '../../src/parent/rfc2136/update';

const Z = 'c.example.test';
const TYPES: Record<number, string> = { 1: 'A', 2: 'NS', 6: 'SOA', 28: 'AAAA' };
const CLASSES: Record<number, string> = { 1: 'IN', 254: 'NONE', 255: 'ANY' };

/** A reader written against RFC 2136 §2 for the test alone: `name type class ttl rdata-or-(empty)`. */
function readName(buf: Buffer, at: number): [string, number] {
  const labels: string[] = [];
  while (buf[at] !== 0) {
    labels.push(buf.toString('ascii', at + 1, at + 1 + buf[at]));
    at += 1 + buf[at];
  }
  return [labels.join('.'), at + 1];
}

function rdataText(type: string, rdata: Buffer, whole: Buffer, at: number): string {
  if (rdata.length === 0) return '(empty)';
  if (type === 'A') return [...rdata].join('.');
  if (type === 'AAAA') return rdata.toString('hex').replace(/(.{4})(?!$)/g, '$1:');
  return readName(whole, at)[0];
}

function describeUpdate(msg: Buffer) {
  const counts = [4, 6, 8, 10].map((o) => msg.readUInt16BE(o));
  const [zoneName, afterName] = readName(msg, 12);
  let at = afterName + 4;
  const section = (n: number) =>
    Array.from({ length: n }, () => {
      const [name, next] = readName(msg, at);
      const type = TYPES[msg.readUInt16BE(next)];
      const klass = CLASSES[msg.readUInt16BE(next + 2)];
      const ttl = msg.readUInt32BE(next + 4);
      const len = msg.readUInt16BE(next + 8);
      const line = `${name} ${type} ${klass} ${ttl} ${rdataText(type, msg.subarray(next + 10, next + 10 + len), msg, next + 10)}`;
      at = next + 10 + len;
      return line;
    });
  const prerequisites = section(counts[1]);
  const updates = section(counts[2]);
  expect(at).toBe(msg.length);
  return { opcode: (msg[2] >> 3) & 0xf, zone: `${zoneName} ${TYPES[msg.readUInt16BE(afterName)]}`, counts, prerequisites, updates };
}

const desired = desiredDelegation({
  zone: Z,
  parent: { ttl: 60 },
  nodes: [
    { name: 'a', address: '192.0.2.1', address6: '2001:db8::1', role: 'node' },
    { name: 'b', address: '192.0.2.2', role: 'node' },
  ],
});

describe('the UPDATE built from a plan (RFC 2136)', () => {
  it.each<[string, RRset[], string[], string[]]>([
    [
      'first delegation: NS set must not exist, each glue RRset must not exist, then add',
      [],
      [`${Z} NS NONE 0 (empty)`, `ns1.${Z} A NONE 0 (empty)`, `ns1.${Z} AAAA NONE 0 (empty)`, `ns2.${Z} A NONE 0 (empty)`],
      [
        `${Z} NS ANY 0 (empty)`, `${Z} NS IN 60 ns1.${Z}`, `${Z} NS IN 60 ns2.${Z}`,
        `ns1.${Z} A ANY 0 (empty)`, `ns1.${Z} A IN 60 192.0.2.1`,
        `ns1.${Z} AAAA ANY 0 (empty)`, `ns1.${Z} AAAA IN 60 2001:0db8:0000:0000:0000:0000:0000:0001`,
        `ns2.${Z} A ANY 0 (empty)`, `ns2.${Z} A IN 60 192.0.2.2`,
      ],
    ],
    [
      'a removed third server: NS set and the deleted glue must hold exactly what was read',
      [
        rrset(Z, 'NS', 60, [`ns1.${Z}`, `ns2.${Z}`, `ns3.${Z}`]),
        rrset(`ns1.${Z}`, 'A', 60, ['192.0.2.1']),
        rrset(`ns1.${Z}`, 'AAAA', 60, ['2001:db8::1']),
        rrset(`ns2.${Z}`, 'A', 60, ['192.0.2.2']),
        rrset(`ns3.${Z}`, 'A', 60, ['192.0.2.3']),
      ],
      [`${Z} NS IN 0 ns1.${Z}`, `${Z} NS IN 0 ns2.${Z}`, `${Z} NS IN 0 ns3.${Z}`, `ns3.${Z} A IN 0 192.0.2.3`],
      [`ns3.${Z} A ANY 0 (empty)`, `${Z} NS ANY 0 (empty)`, `${Z} NS IN 60 ns1.${Z}`, `${Z} NS IN 60 ns2.${Z}`],
    ],
    [
      'glue for a name the current NS set does not list is occluded, so it is replaced without an absence prerequisite',
      [rrset(Z, 'NS', 60, [`ns1.${Z}`]), rrset(`ns1.${Z}`, 'A', 60, ['192.0.2.1']), rrset(`ns1.${Z}`, 'AAAA', 60, ['2001:db8::1'])],
      [`${Z} NS IN 0 ns1.${Z}`],
      [`${Z} NS ANY 0 (empty)`, `${Z} NS IN 60 ns1.${Z}`, `${Z} NS IN 60 ns2.${Z}`, `ns2.${Z} A ANY 0 (empty)`, `ns2.${Z} A IN 60 192.0.2.2`],
    ],
  ])('%s', (_what, current, prerequisites, updates) => {
    const msg = encodeUpdate(0x1234, 'example.test', updateSections(planDelegation(desired, current)));
    const d = describeUpdate(msg);
    expect(msg.readUInt16BE(0)).toBe(0x1234);
    expect(d.opcode).toBe(5);
    expect(d.zone).toBe('example.test SOA');
    expect(d.counts[0]).toBe(1);
    expect(d.counts[3]).toBe(0);
    expect(d.prerequisites).toEqual(prerequisites);
    expect(d.updates).toEqual(updates);
  });
});
