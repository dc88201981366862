import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { Class, Type } from '../../src/wire/constants';
import { nameToWire, readName } from '../../src/wire/name';
import { NameTable } from '../../src/wire/name-table';
import { hashWireName, ParseStatus, QueryParser } from '../../src/wire/query';
import type { Record } from '../../src/wire/records';
import { ipv6Bytes, MessageWriter } from '../../src/wire/writer';

/** Our encoder checked against dns-packet, the reference codec, one line per record type. */
function roundTrip(records: Record[]) {
  const w = new MessageWriter();
  w.u16(7).u16(0x8400).u16(1).u16(records.length).u16(0).u16(0); // header: id, flags, qd, an, ns, ar
  w.question(records[0].name, records[0].data.type, records[0].class);
  for (const r of records) w.record(r);
  return packet.decode(w.slice(0));
}

const rr = (name: string, data: Record['data'], ttl = 30): Record => ({ name, class: Class.IN, ttl, data });

describe('MessageWriter against dns-packet', () => {
  it.each<[string, Record, unknown]>([
    ['A', rr('a.test', { type: Type.A, address: '192.0.2.1' }), '192.0.2.1'],
    ['AAAA', rr('a.test', { type: Type.AAAA, address: '2001:db8::1' }), '2001:db8::1'],
    ['AAAA full', rr('a.test', { type: Type.AAAA, address: '2001:db8:1:2:3:4:5:6' }), '2001:db8:1:2:3:4:5:6'],
    ['AAAA v4-mapped', rr('a.test', { type: Type.AAAA, address: '::ffff:192.0.2.1' }), '::ffff:c000:201'],
    ['NS', rr('a.test', { type: Type.NS, target: 'ns1.a.test' }), 'ns1.a.test'],
    ['SRV', rr('_x._tcp.a.test', { type: Type.SRV, srv: { priority: 1, weight: 2, port: 3, target: 'n.a.test' } }), { priority: 1, weight: 2, port: 3, target: 'n.a.test' }],
    ['SOA', rr('a.test', { type: Type.SOA, soa: { mname: 'ns1.a.test', rname: 'hostmaster.a.test', serial: 4294967295, refresh: 1, retry: 2, expire: 3, minimum: 4 } }),
      { mname: 'ns1.a.test', rname: 'hostmaster.a.test', serial: 4294967295, refresh: 1, retry: 2, expire: 3, minimum: 4 }],
  ])('%s', (_, record, data) => {
    const m = roundTrip([record]);
    expect(m.answers![0]).toMatchObject({ name: record.name, ttl: 30, data });
  });

  it('TXT strings', () => {
    const m = roundTrip([{ name: 'id.server', class: Class.CH, ttl: 0, data: { type: Type.TXT, texts: ['node1', 'ü'] } }]);
    expect((m.answers![0].data as Buffer[]).map((b) => b.toString())).toEqual(['node1', 'ü']);
  });

  it('compresses repeated suffixes (and never the SRV target)', () => {
    const recs = [1, 2, 3].map((i) => rr('cluster.test', { type: Type.NS, target: `ns${i}.cluster.test` }));
    const w = new MessageWriter();
    w.seek(12);
    for (const r of recs) w.record(r);
    expect(w.length).toBeLessThan(12 + 3 * (14 + 10 + 18));
    expect(w.pointers.length).toBeGreaterThanOrEqual(5);
  });

  it('ipv6Bytes rejects garbage', () => {
    expect(() => ipv6Bytes('1:2:3')).toThrow();
  });
});

describe('names', () => {
  it('reads compressed names and refuses loops and forward pointers', () => {
    const buf = Buffer.from([3, 0x61, 0x62, 0x63, 0, 1, 0x78, 0xc0, 0]);
    expect(readName(buf, 5)).toEqual({ name: 'x.abc', end: 9 });
    expect(readName(Buffer.from([0xc0, 0]), 0)).toBeUndefined(); // points at itself
    expect(readName(Buffer.from([0xc0, 2, 0]), 0)).toBeUndefined(); // forward
    expect(readName(Buffer.from([5, 1, 2]), 0)).toBeUndefined(); // past the end
    expect(readName(Buffer.from([0x40]), 0)).toBeUndefined(); // reserved label type
  });

  it('rejects names over 255 bytes', () => {
    const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    expect(() => nameToWire(long)).toThrow(RangeError);
  });
});

describe('QueryParser', () => {
  it('hashes the question name case-insensitively, as the answer table does', () => {
    const p = new QueryParser();
    const q = packet.encode({ type: 'query', id: 1, questions: [{ name: 'NoDe1.Cluster.TEST', type: 'A' }] });
    expect(p.parse(q)).toBe(ParseStatus.Ok);
    const wire = nameToWire('node1.cluster.test');
    expect(p.qhash).toBe(hashWireName(wire, 0, wire.length));
    const t = new NameTable<string>();
    t.set(wire, 'found');
    expect(t.get(q, 12, p.qnameEnd, p.qhash)).toBe('found');
    expect(p.labelCount).toBe(3);
  });

  it('reads EDNS: size, version, DO, NSID and cookie', () => {
    const p = new QueryParser();
    const q = packet.encode({
      type: 'query',
      id: 1,
      questions: [{ name: 'a.test', type: 'A' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0x8000, options: [{ code: 3, data: Buffer.alloc(0) }, { code: 10, data: Buffer.alloc(8) }] } as unknown as packet.Answer],
    });
    expect(p.parse(q)).toBe(ParseStatus.Ok);
    expect(p).toMatchObject({ hasEdns: true, ednsUdpSize: 4096, ednsVersion: 0, ednsDo: true, wantsNsid: true, cookieLen: 8 });
  });

  it('is reusable: state from one packet does not leak into the next', () => {
    const p = new QueryParser();
    p.parse(packet.encode({ type: 'query', id: 1, questions: [{ name: 'a.test', type: 'A' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 3, data: Buffer.alloc(0) }] } as unknown as packet.Answer] }));
    p.parse(packet.encode({ type: 'query', id: 2, questions: [{ name: 'b.test', type: 'A' }] }));
    expect(p).toMatchObject({ id: 2, hasEdns: false, wantsNsid: false, cookieLen: 0 });
  });
});
