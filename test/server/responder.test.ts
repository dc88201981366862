import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { Responder } from '../../src/server/responder';
import { compile } from '../../src/zone/compile';
import { allUpInputs } from '../../src/zone/inputs';
import { buildZone } from '../../src/zone/zone';
import { SECRET } from '../helpers/cluster';
import { encodeQuery } from '../helpers/dns';

/** The request path without sockets: queries encoded and replies decoded by dns-packet. */

const YAML = `
zone: cluster.test
secret: "${SECRET}"
ttl: 30
negativeTtl: 7
nodes:
  - { name: node1, address: 192.0.2.1, address6: "2001:db8::1" }
  - { name: node2, address: 192.0.2.2 }
  - { name: node3, address: 192.0.2.3 }
  - { name: tie, address: 192.0.2.9, role: witness }
services:
  - { name: redis, port: 6379, nodes: [node2, node1], policy: first-healthy }
  - { name: web, port: 443 }
`;

function responder(yaml = YAML, serving = true, minority: 'refused' | 'servfail' = 'refused') {
  const config = parseConfig(yaml);
  const inputs = { ...allUpInputs(config, 2026112501), serving };
  return new Responder(compile(buildZone(config, inputs), { identity: 'node1', unavailable: minority }), { identity: 'node1' });
}

const r = responder();

function ask(q: Buffer, transport: 'udp' | 'tcp' = 'udp', resp = r) {
  const out = resp.respond(q, transport);
  if (!out) throw new Error('no reply');
  return { raw: out, msg: packet.decode(out) };
}

function addrs(msg: packet.Packet, section: 'answers' | 'additionals' = 'answers') {
  return (msg[section] ?? []).filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => `${a.name} ${a.type} ${(a as { data: string }).data}`);
}

describe('answers for the names the cluster serves', () => {
  it.each([
    ['node1.cluster.test', 'A', ['node1.cluster.test A 192.0.2.1']],
    ['node1.cluster.test', 'AAAA', ['node1.cluster.test AAAA 2001:db8::1']],
    ['ns2.cluster.test', 'A', ['ns2.cluster.test A 192.0.2.2']],
    ['ns3.cluster.test', 'A', ['ns3.cluster.test A 192.0.2.3']],
    ['cluster.test', 'A', ['cluster.test A 192.0.2.1', 'cluster.test A 192.0.2.2', 'cluster.test A 192.0.2.3']],
    ['cluster.test', 'AAAA', ['cluster.test AAAA 2001:db8::1']],
    ['redis.cluster.test', 'A', ['redis.cluster.test A 192.0.2.2']],
    ['web.cluster.test', 'A', ['web.cluster.test A 192.0.2.1', 'web.cluster.test A 192.0.2.2', 'web.cluster.test A 192.0.2.3']],
  ])('%s %s', (name, type, want) => {
    const { msg } = ask(encodeQuery(name, type));
    expect(msg.rcode).toBe('NOERROR');
    expect(msg.flags! & 0x0400).toBe(0x0400); // AA
    expect(msg.flags! & 0x0080).toBe(0); // RA clear
    expect(addrs(msg)).toEqual(want);
    expect(msg.answers!.every((a) => a.ttl === 30)).toBe(true);
  });

  it('apex NS lists ns1..nsN in node order, without the witness, with glue', () => {
    const { msg } = ask(encodeQuery('cluster.test', 'NS'));
    expect(msg.answers!.map((a) => a.data)).toEqual(['ns1.cluster.test', 'ns2.cluster.test', 'ns3.cluster.test']);
    expect(addrs(msg, 'additionals')).toEqual([
      'ns1.cluster.test A 192.0.2.1',
      'ns1.cluster.test AAAA 2001:db8::1',
      'ns2.cluster.test A 192.0.2.2',
      'ns3.cluster.test A 192.0.2.3',
    ]);
  });

  it('apex SOA has values zone checkers accept', () => {
    const { msg } = ask(encodeQuery('cluster.test', 'SOA'));
    const soa = msg.answers![0].data as packet.SoaData;
    expect(soa).toMatchObject({ mname: 'ns1.cluster.test', rname: 'hostmaster.cluster.test', serial: 2026112501, minimum: 7 });
    expect(soa.expire).toBeGreaterThanOrEqual(604800);
    expect(soa.refresh).toBeGreaterThan(soa.retry!);
  });

  it('SRV at _service._tcp with the target addresses as additional records', () => {
    const { msg } = ask(encodeQuery('_web._tcp.cluster.test', 'SRV'));
    expect(msg.answers!.map((a) => (a.data as packet.SrvData).target)).toEqual(['node1.cluster.test', 'node2.cluster.test', 'node3.cluster.test']);
    expect(msg.answers!.every((a) => (a.data as packet.SrvData).port === 443)).toBe(true);
    expect(addrs(msg, 'additionals')).toContain('node3.cluster.test A 192.0.2.3');
  });

  it('witness nodes are not answered', () => {
    expect(ask(encodeQuery('tie.cluster.test', 'A')).msg.rcode).toBe('NXDOMAIN');
  });
});

describe('negative answers carry the SOA (RFC 2308)', () => {
  it.each([
    ['missing.cluster.test', 'A', 'NXDOMAIN'],
    ['a.b.c.d.e.f.g.very-long-label-to-move-pointers-around.cluster.test', 'AAAA', 'NXDOMAIN'],
    ['x.node1.cluster.test', 'A', 'NXDOMAIN'],
    ['node2.cluster.test', 'AAAA', 'NOERROR'],
    ['node1.cluster.test', 'MX', 'NOERROR'],
    ['_tcp.cluster.test', 'A', 'NOERROR'],
    ['cluster.test', 'TXT', 'NOERROR'],
    ['cluster.test', 'DNSKEY', 'NOERROR'],
  ])('%s %s → %s with SOA in authority', (name, type, rcode) => {
    const { msg } = ask(encodeQuery(name, type));
    expect(msg.rcode).toBe(rcode);
    expect(msg.answers).toHaveLength(0);
    expect(msg.authorities).toHaveLength(1);
    expect(msg.authorities![0]).toMatchObject({ type: 'SOA', name: 'cluster.test', ttl: 7 });
    expect(msg.flags! & 0x0400).toBe(0x0400);
  });

  it('unknown types get NODATA (RFC 8906)', () => {
    const q = Buffer.from(encodeQuery('node1.cluster.test', 'A'));
    q.writeUInt16BE(65000, q.length - 4);
    const out = r.respond(q, 'udp')!;
    expect(out[3] & 0xf).toBe(0);
    expect(out.readUInt16BE(6)).toBe(0);
    expect(out.readUInt16BE(8)).toBe(1);
  });
});

describe('letter case and compression', () => {
  it('keeps the question letter case (0x20) in question and answer', () => {
    const { msg } = ask(encodeQuery('NoDe1.ClUsTeR.TeSt', 'A'));
    expect(msg.questions![0].name).toBe('NoDe1.ClUsTeR.TeSt');
    expect(msg.answers![0].name).toBe('NoDe1.ClUsTeR.TeSt');
    expect(addrs(msg)).toHaveLength(1);
  });

  it.each(['Q.Cluster.Test', 'abcdefghij.klmnop.CLUSTER.test', 'Z'.repeat(63) + '.cluster.test'])('NXDOMAIN for %s has a valid relocated SOA', (name) => {
    const { msg } = ask(encodeQuery(name, 'A'));
    expect(msg.rcode).toBe('NXDOMAIN');
    expect(msg.authorities![0].name.toLowerCase()).toBe('cluster.test');
    // Compressed against the question, so the client's letter case shows through (names are case-insensitive).
    expect((msg.authorities![0].data as packet.SoaData).mname.toLowerCase()).toBe('ns1.cluster.test');
  });

  it('compresses names in answers', () => {
    const { raw } = ask(encodeQuery('cluster.test', 'NS'));
    const plain = packet.encode(packet.decode(raw));
    expect(raw.length).toBeLessThan(plain.length);
  });
});

describe('flags, EDNS, opcodes and malformed queries', () => {
  it('copies RD and CD, clears AD and Z', () => {
    const q = encodeQuery('node1.cluster.test', 'A', { flags: 0x0100 | 0x0010 | 0x0020 | 0x0040 });
    const { raw } = ask(q);
    const flags = raw.readUInt16BE(2);
    expect(flags & 0x0100).toBe(0x0100);
    expect(flags & 0x0010).toBe(0x0010);
    expect(flags & 0x0020).toBe(0);
    expect(flags & 0x0040).toBe(0);
    expect(flags & 0x0080).toBe(0);
  });

  it('answers EDNS with OPT at 1232, copies DO, returns NSID when asked, ignores unknown options', () => {
    const q = encodeQuery('node1.cluster.test', 'A', {
      edns: { type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0x8000, options: [{ code: 3, data: Buffer.alloc(0) }, { code: 65001, data: Buffer.from('x') }] } as unknown as packet.Answer,
    });
    const { msg } = ask(q);
    const opt = msg.additionals!.find((a) => a.type === 'OPT') as unknown as { udpPayloadSize: number; flags: number; options: { code: number; data: Buffer }[] };
    expect(opt.udpPayloadSize).toBe(1232);
    expect(opt.flags & 0x8000).toBe(0x8000);
    expect(opt.options).toHaveLength(1);
    expect(opt.options[0].code).toBe(3);
    expect(opt.options[0].data.toString()).toBe('node1');
  });

  it('no OPT in answers to queries without EDNS', () => {
    expect(ask(encodeQuery('node1.cluster.test', 'A')).msg.additionals).toHaveLength(0);
  });

  it('EDNS version 1 gets BADVERS with an OPT of version 0', () => {
    const q = Buffer.from(encodeQuery('node1.cluster.test', 'A', { edns: true }));
    q[q.length - 11 + 6] = 1; // OPT TTL: ext-rcode, VERSION, flags
    const out = r.respond(q, 'udp')!;
    expect(out[3] & 0xf).toBe(0);
    const opt = out.subarray(out.length - 11);
    expect(opt.readUInt16BE(1)).toBe(41);
    expect(opt[5]).toBe(1); // extended rcode 1 → 16 BADVERS
    expect(opt[6]).toBe(0);
    expect(out.readUInt16BE(6)).toBe(0);
  });

  it('accepts DNS cookies without changing the answer', () => {
    const q = encodeQuery('node1.cluster.test', 'A', {
      edns: { type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 10, data: Buffer.alloc(8, 7) }] } as unknown as packet.Answer,
    });
    expect(addrs(ask(q).msg)).toEqual(['node1.cluster.test A 192.0.2.1']);
  });

  it.each([
    ['NOTIFY', 4, 'NOTIMP'],
    ['UPDATE', 5, 'NOTIMP'],
    ['IQUERY', 1, 'NOTIMP'],
    ['opcode 15', 15, 'NOTIMP'],
  ])('%s (opcode %i) gets %s, without RD and CD echoed', (_, opcode, rcode) => {
    const q = Buffer.from(encodeQuery('cluster.test', 'SOA', { flags: 0x0100 | 0x0010 }));
    q[2] = (q[2] & 0x87) | (opcode << 3);
    const { msg, raw } = ask(q);
    expect(msg.rcode).toBe(rcode);
    expect((raw[2] >> 3) & 0xf).toBe(opcode);
    expect(raw.readUInt16BE(2) & (0x0100 | 0x0010)).toBe(0);
  });

  it.each([
    ['an empty question section', 0],
    ['two questions', 2],
  ])('opcode 15 with %s gets NOTIMP, not FORMERR (RFC 8906 §8: the opcode comes first)', (_, qdcount) => {
    const q = Buffer.alloc(12);
    q.writeUInt16BE(0xbeef, 0);
    q.writeUInt16BE((15 << 11) | 0x0100 | 0x0010, 2);
    q.writeUInt16BE(qdcount, 4);
    const { msg, raw } = ask(q);
    expect(msg).toMatchObject({ id: 0xbeef, type: 'response', opcode: 'OPCODE_15', rcode: 'NOTIMP', questions: [] });
    expect(raw.readUInt16BE(2)).toBe(0x8000 | (15 << 11) | 4);
  });

  it.each([
    ['opcode 15', 15, 'NOTIMP'],
    ['QUERY', 0, 'FORMERR'],
  ])('%s with no question but an OPT record gets %s with an OPT record (as Knot answers dig +header-only)', (_, opcode, rcode) => {
    const q = Buffer.from(encodeQuery('x.cluster.test', 'A', { id: 0x5151, edns: true }));
    const noQuestion = Buffer.concat([q.subarray(0, 12), q.subarray(q.length - 11)]);
    noQuestion.writeUInt16BE(0, 4);
    noQuestion[2] = (noQuestion[2] & 0x87) | (opcode << 3);
    const { msg } = ask(noQuestion);
    expect(msg).toMatchObject({ id: 0x5151, rcode, questions: [] });
    expect(msg.additionals!.map((a) => a.type)).toEqual(['OPT']);
  });

  it('a 255-byte question name is read (REFUSED: not ours); a 256-byte one is FORMERR', () => {
    // 63+63+63+61 bytes of labels, their 4 length bytes and the root byte: 255.
    const name = (last: number) => ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(last)].join('.');
    expect(ask(encodeQuery(name(61), 'A')).msg.rcode).toBe('REFUSED');
    const long = Buffer.concat([Buffer.from(encodeQuery(name(61), 'A', { id: 77 }).subarray(0, 12)), Buffer.from([63]), Buffer.alloc(63, 0x61), Buffer.from([63]), Buffer.alloc(63, 0x62), Buffer.from([63]), Buffer.alloc(63, 0x63), Buffer.from([62]), Buffer.alloc(62, 0x64), Buffer.from([0, 0, 1, 0, 1])]);
    expect(long.length - 12 - 4).toBe(256);
    const out = r.respond(long, 'udp')!;
    expect(out.readUInt16BE(0)).toBe(77);
    expect(out[3] & 0xf).toBe(1);
  });

  it.each([
    ['AXFR', 'REFUSED'],
    ['IXFR', 'REFUSED'],
  ])('%s is refused', (type, rcode) => {
    expect(ask(encodeQuery('cluster.test', type)).msg.rcode).toBe(rcode);
    expect(ask(encodeQuery('cluster.test', type), 'tcp').msg.rcode).toBe(rcode);
  });

  it('ANY gets one RRset (RFC 8482)', () => {
    const { msg } = ask(encodeQuery('cluster.test', 'ANY'));
    expect(new Set(msg.answers!.map((a) => a.type)).size).toBe(1);
    expect(ask(encodeQuery('node1.cluster.test', 'ANY')).msg.answers!.map((a) => a.type)).toEqual(['A']);
  });

  it.each([
    ['example.com', 'A', 'IN'],
    ['test', 'SOA', 'IN'],
    ['other-cluster.test', 'A', 'IN'],
    ['xcluster.test', 'A', 'IN'],
    ['node1.cluster.test', 'A', 'HS'],
    ['node1.cluster.test', 'A', 'ANY'],
    ['version.bind', 'TXT', 'CH'],
  ])('%s %s %s is REFUSED, never recursion', (name, type, klass) => {
    const { msg } = ask(encodeQuery(name, type, { klass }));
    expect(msg.rcode).toBe('REFUSED');
    expect(msg.answers).toHaveLength(0);
  });

  it.each(['hostname.bind', 'ID.SERVER'])('CHAOS TXT %s answers the node name', (name) => {
    const { msg } = ask(encodeQuery(name, 'TXT', { klass: 'CH' }));
    expect(msg.answers![0]).toMatchObject({ class: 'CH', type: 'TXT' });
    expect(Buffer.concat(msg.answers![0].data as Buffer[]).toString()).toBe('node1');
  });

  it('CHAOS identity can be turned off', () => {
    const config = parseConfig(YAML.replace('negativeTtl: 7', 'negativeTtl: 7\ndns: { chaos: false }'));
    const off = new Responder(compile(buildZone(config, allUpInputs(config, 1)), { identity: undefined, unavailable: 'refused' }), { identity: 'node1' });
    expect(ask(encodeQuery('hostname.bind', 'TXT', { klass: 'CH' }), 'udp', off).msg.rcode).toBe('REFUSED');
  });

  it('QDCOUNT 0 or 2 gets FORMERR', () => {
    const zero = Buffer.from(encodeQuery('cluster.test', 'A'));
    zero.writeUInt16BE(0, 4);
    expect(ask(zero).msg.rcode).toBe('FORMERR');
    const two = packet.encode({ type: 'query', id: 9, questions: [{ name: 'a.cluster.test', type: 'A' }, { name: 'b.cluster.test', type: 'A' }] });
    const { raw } = ask(two);
    expect(raw[3] & 0xf).toBe(1);
    expect(raw.readUInt16BE(0)).toBe(9);
  });

  it.each([
    ['truncated question', (q: Buffer) => q.subarray(0, q.length - 3)],
    ['label running past the end', (q: Buffer) => Buffer.concat([q.subarray(0, 12), Buffer.from([40, 65, 66])])],
    ['compression pointer in the question', (q: Buffer) => Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])])],
    ['two OPT records', (q: Buffer) => {
      const b = Buffer.concat([q, q.subarray(q.length - 11)]);
      b.writeUInt16BE(2, 10);
      return b;
    }],
    // RFC 6891 §6.1.1: OPT belongs in the additional section (BIND and NSD: FORMERR; test/server/opt-placement.test.ts).
    ['OPT in the answer section', (q: Buffer) => {
      const b = Buffer.from(q);
      b.writeUInt16BE(1, 6);
      b.writeUInt16BE(0, 10);
      return b;
    }],
    ['OPT in the authority section', (q: Buffer) => {
      const b = Buffer.from(q);
      b.writeUInt16BE(1, 8);
      b.writeUInt16BE(0, 10);
      return b;
    }],
    ['bad cookie length', (q: Buffer) => {
      const b = Buffer.concat([q.subarray(0, q.length - 2), Buffer.from([0, 7, 0, 10, 0, 3, 1, 2, 3])]);
      return b;
    }],
  ])('%s gets FORMERR with the id kept', (_, mangle) => {
    const q = mangle(Buffer.from(encodeQuery('node1.cluster.test', 'A', { id: 4242, edns: true })));
    const out = r.respond(q, 'udp')!;
    expect(out).toBeDefined();
    expect(out.readUInt16BE(0)).toBe(4242);
    expect(out[3] & 0xf).toBe(1);
    expect(() => packet.decode(out)).not.toThrow();
  });

  it('packets shorter than a header, and responses (QR=1), get silence', () => {
    expect(r.respond(Buffer.from([1, 2, 3]), 'udp')).toBeUndefined();
    const q = Buffer.from(encodeQuery('node1.cluster.test', 'A'));
    q[2] |= 0x80;
    expect(r.respond(q, 'udp')).toBeUndefined();
  });
});

/** A TSIG record as dig and kdig send it (RFC 8945 §4.2): the MAC's value does not matter here. */
function tsigRecord(opts: { owner?: Buffer; algorithm?: string; originalId?: number } = {}): Buffer {
  const wire = (n: string) => Buffer.concat([...n.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const owner = opts.owner ?? wire('transfer-key.');
  const rdata = Buffer.concat([
    wire(opts.algorithm ?? 'hmac-sha256.'),
    Buffer.from([0x00, 0x00, 0x6a, 0x0b, 0x8c, 0x1b]), // Time Signed
    Buffer.from([0x01, 0x2c]), // Fudge 300
    Buffer.from([0x00, 0x20]),
    Buffer.alloc(32, 0xaa), // MAC
    Buffer.from([(opts.originalId ?? 4321) >> 8, (opts.originalId ?? 4321) & 0xff]),
    Buffer.from([0, 0, 0, 0]), // Error, Other Len
  ]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(250, 0);
  fixed.writeUInt16BE(255, 2);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

function signed(q: Buffer, tsig = tsigRecord()): Buffer {
  const out = Buffer.concat([q, tsig]);
  out.writeUInt16BE(q.readUInt16BE(10) + 1, 10);
  return out;
}

describe('TSIG: this server has no keys (RFC 8945 §5.2)', () => {
  it.each([
    ['without EDNS', false],
    ['after an OPT record', true],
  ])('a signed query %s gets NOTAUTH with an unsigned TSIG saying BADKEY, not an answer', (_, edns) => {
    const q = signed(encodeQuery('node1.cluster.test', 'A', { id: 4321, edns, flags: 0x0100 }));
    const { raw, msg } = ask(q);
    expect(msg).toMatchObject({ id: 4321, rcode: 'NOTAUTH', answers: [], authorities: [] });
    expect(msg.flags! & 0x0100).toBe(0x0100); // a QUERY: RD echoed
    expect(msg.questions).toEqual([{ name: 'node1.cluster.test', type: 'A', class: 'IN' }]);
    const additionals = msg.additionals!;
    expect(additionals.map((a) => a.type)).toEqual(edns ? ['OPT', 'TSIG'] : ['TSIG']);
    const tsig = additionals[additionals.length - 1] as unknown as { name: string; class: string; ttl: number; data: Buffer };
    expect(tsig).toMatchObject({ name: 'transfer-key', class: 'ANY', ttl: 0 });
    const alg = Buffer.from('\x0bhmac-sha256\x00', 'latin1');
    expect(tsig.data.subarray(0, alg.length).equals(alg)).toBe(true);
    const f = tsig.data.subarray(alg.length);
    expect(f.subarray(0, 6).toString('hex')).toBe('00006a0b8c1b'); // Time Signed, the request's
    expect(f.readUInt16BE(6)).toBe(300); // Fudge
    expect(f.readUInt16BE(8)).toBe(0); // MAC Size: unsigned
    expect(f.readUInt16BE(10)).toBe(4321); // Original ID
    expect(f.readUInt16BE(12)).toBe(17); // BADKEY
    expect(f.readUInt16BE(14)).toBe(0); // Other Len
    expect(f.length).toBe(16);
    expect(ask(q, 'tcp').msg.rcode).toBe('NOTAUTH');
  });

  it('a key name compressed against the question is copied with its pointer, still valid', () => {
    // "key" + pointer to "cluster.test" inside the question (offset 12 + "node1" label = 18).
    const owner = Buffer.from([3, 0x6b, 0x65, 0x79, 0xc0, 18]);
    const { msg } = ask(signed(encodeQuery('node1.cluster.test', 'A'), tsigRecord({ owner })));
    expect(msg.rcode).toBe('NOTAUTH');
    expect(msg.additionals![0].name).toBe('key.cluster.test');
  });

  it.each([
    ['TSIG not the last record', (q: Buffer) => {
      const b = Buffer.concat([signed(q), Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0])]);
      b.writeUInt16BE(b.readUInt16BE(10) + 1, 10);
      return b;
    }],
    ['TSIG in the answer section', (q: Buffer) => {
      const b = Buffer.concat([q, tsigRecord()]);
      b.writeUInt16BE(1, 6);
      return b;
    }],
    ['a TSIG whose MAC runs past its RDATA', (q: Buffer) => {
      const t = tsigRecord();
      t.writeUInt16BE(200, t.length - 6 - 32 - 2);
      return signed(q, t);
    }],
    ['a key name pointing outside the question', (q: Buffer) => signed(q, tsigRecord({ owner: Buffer.from([0xc0, 2]) }))],
  ])('%s is FORMERR', (_, make) => {
    const { msg } = ask(make(encodeQuery('node1.cluster.test', 'A', { id: 5 })));
    expect(msg).toMatchObject({ id: 5, rcode: 'FORMERR' });
  });
});

describe('truncation', () => {
  const nodes = Array.from({ length: 40 }, (_, i) => `  - { name: n${i + 1}, address: 10.0.${i}.1 }`).join('\n');
  const big = responder(`zone: big.test\nsecret: "${SECRET}"\nnodes:\n${nodes}\n`);

  it('over UDP without EDNS an answer over 512 bytes comes back with TC and no records', () => {
    const { raw, msg } = ask(encodeQuery('big.test', 'A'), 'udp', big);
    expect(raw.length).toBeLessThanOrEqual(512);
    expect(raw.readUInt16BE(2) & 0x0200).toBe(0x0200);
    expect(msg.answers).toHaveLength(0);
  });

  it('with EDNS 1232 the same answer fits; over TCP it is never truncated', () => {
    expect(ask(encodeQuery('big.test', 'A', { edns: true }), 'udp', big).msg.answers).toHaveLength(40);
    const { raw, msg } = ask(encodeQuery('big.test', 'A'), 'tcp', big);
    expect(raw.readUInt16BE(2) & 0x0200).toBe(0);
    expect(msg.answers).toHaveLength(40);
  });

  it('glue that does not fit is left out, without TC, when the NS records fit (RFC 2181 §9)', () => {
    // Eight name servers with IPv4 and IPv6 glue: 16 additional records, past 512 bytes.
    const eight = Array.from({ length: 8 }, (_, i) => `  - { name: n${i + 1}, address: 10.0.${i}.1, address6: "2001:db8::${i + 1}" }`).join('\n');
    const glued = responder(`zone: glue.test\nsecret: "${SECRET}"\nnodes:\n${eight}\n`);
    const full = ask(encodeQuery('glue.test', 'NS'), 'tcp', glued);
    expect(full.raw.length).toBeGreaterThan(512);
    expect(full.msg.additionals).toHaveLength(16);
    const { raw, msg } = ask(encodeQuery('glue.test', 'NS'), 'udp', glued);
    expect(raw.length).toBeLessThanOrEqual(512);
    expect(raw.readUInt16BE(2) & 0x0200).toBe(0);
    expect(msg.answers).toEqual(full.msg.answers);
    // As many glue records as fit, in order: a prefix of the full additional section.
    const kept = msg.additionals!.length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(16);
    expect(msg.additionals).toEqual(full.msg.additionals!.slice(0, kept));
    // With EDNS the OPT record still fits, after the glue that does.
    const withEdns = ask(encodeQuery('glue.test', 'NS', { edns: { type: 'OPT', name: '.', udpPayloadSize: 512, options: [] } as unknown as packet.Answer }), 'udp', glued);
    expect(withEdns.raw.length).toBeLessThanOrEqual(512);
    expect(withEdns.msg.additionals!.at(-1)!.type).toBe('OPT');
    expect(withEdns.msg.answers).toHaveLength(8);
  });

  it('an EDNS size below 512 counts as 512', () => {
    const q = encodeQuery('big.test', 'NS', { edns: { type: 'OPT', name: '.', udpPayloadSize: 100, options: [] } as unknown as packet.Answer });
    const { raw } = ask(q, 'udp', big);
    expect(raw.length).toBeLessThanOrEqual(512);
  });
});

describe('while the agent may not serve the zone', () => {
  it.each([
    ['refused', 'REFUSED'],
    ['servfail', 'SERVFAIL'],
  ] as const)('minority: %s answers %s for zone names, CHAOS still answers', (mode, rcode) => {
    const off = responder(YAML, false, mode);
    expect(ask(encodeQuery('node1.cluster.test', 'A'), 'udp', off).msg.rcode).toBe(rcode);
    expect(ask(encodeQuery('nothing.cluster.test', 'A'), 'udp', off).msg.rcode).toBe(rcode);
    expect(ask(encodeQuery('hostname.bind', 'TXT', { klass: 'CH' }), 'udp', off).msg.rcode).toBe('NOERROR');
  });
});
