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
  ])('%s gets %s', (_, opcode, rcode) => {
    const q = Buffer.from(encodeQuery('cluster.test', 'SOA'));
    q[2] = (q[2] & 0x87) | (opcode << 3);
    const { msg, raw } = ask(q);
    expect(msg.rcode).toBe(rcode);
    expect((raw[2] >> 3) & 0xf).toBe(opcode);
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
