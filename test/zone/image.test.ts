import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import type { ClusterConfig } from '../../src/config/types';
import { Algorithm, generateKey } from '../../src/dnssec/keys';
import { Signer } from '../../src/dnssec/signer';
import { Responder } from '../../src/server/responder';
import { compile, type AnswerTable } from '../../src/zone/compile';
import { decodeTable, encodeTable } from '../../src/zone/image';
import { allUpInputs, type ZoneInputs } from '../../src/zone/inputs';
import { buildZone } from '../../src/zone/zone';
import { SECRET } from '../helpers/cluster';
import { encodeQuery } from '../helpers/dns';

/**
 * The answer table image (src/zone/image.ts) answers every query exactly as the table it was made
 * from: the same bytes from a Responder, for every name the zone has and many it has not, every
 * type, DO=0/1, with and without EDNS (truncation), IN and CH, inside and outside internalFrom,
 * letter case mixed. Signed and unsigned, serving and not, failed over.
 */
function config(): ClusterConfig {
  const lines = [`zone: cluster.test`, `secret: "${SECRET}"`, 'dns: { chaos: true, internalFrom: ["10.0.0.0/8", "fd00::/8"] }', 'nodes:'];
  for (let i = 1; i <= 9; i++) lines.push(`  - { name: node${i}, address: 192.0.2.${i}, address6: "2001:db8::${i}", privateAddress: 10.0.0.${i}, rack: r${i % 3} }`);
  lines.push('  - { name: tie, address: 192.0.2.99, role: witness }');
  lines.push('services:', '  - { name: redis-12000, port: 12000 }', '  - { name: pg, port: 5432, policy: first-healthy, nodes: [node2, node3] }', '  - { name: web, port: 80, whenAllDown: all }');
  return parseConfig(lines.join('\n'));
}

const c = config();
const signer = new Signer('cluster.test', [generateKey('cluster.test', Algorithm.ECDSAP256SHA256, 257, {})], { validity: 14 * 86400, refresh: 7 * 86400 });

function failedOver(inputs: ZoneInputs): ZoneInputs {
  return { ...inputs, upNodes: inputs.upNodes.filter((n) => n !== 'node1'), nodeTargets: new Map([...inputs.nodeTargets].map(([n, t]) => [n, n === 'node1' ? 'node4' : t])) };
}

const variants: Array<[string, AnswerTable]> = [
  ['signed, all up', compile(buildZone(c, allUpInputs(c, 7)), { identity: 'node1', unavailable: 'refused', internalFrom: c.dns.internalFrom, dnssec: { signer, now: 1_800_000_000 } })],
  ['signed, node1 failed over', compile(buildZone(c, failedOver(allUpInputs(c, 8))), { identity: 'node1', unavailable: 'refused', internalFrom: c.dns.internalFrom, dnssec: { signer, now: 1_800_000_000 } })],
  ['unsigned, no chaos, internal names for all', compile(buildZone(c, allUpInputs(c, 9)), { identity: undefined, unavailable: 'servfail' })],
  ['not serving', compile(buildZone(c, { ...allUpInputs(c, 10), serving: false }), { identity: 'node1', unavailable: 'servfail' })],
];

const NAMES = [
  'cluster.test', 'node1.cluster.test', 'NoDe5.Cluster.TEST', 'ns1.cluster.test', 'ns9.cluster.test', 'tie.cluster.test', 'redis-12000.cluster.test',
  '_redis-12000._tcp.cluster.test', '_pg._tcp.cluster.test', 'pg.cluster.test', 'web.cluster.test', 'internal.cluster.test', 'node3.internal.cluster.test',
  'nope.internal.cluster.test', 'nope.cluster.test', 'a.b.c.node2.cluster.test', 'zzzz.cluster.test', '0.cluster.test', 'node1a.cluster.test',
  'example.com', 'test', 'hostname.bind', 'id.server', 'version.bind',
];
const TYPES = ['A', 'AAAA', 'NS', 'SOA', 'SRV', 'TXT', 'ANY', 'MX', 'DNSKEY', 'NSEC', 'RRSIG', 'CAA', 'AXFR'];
const edns = (size: number, dnssecOk: boolean) => ({ type: 'OPT', name: '.', udpPayloadSize: size, flags: dnssecOk ? packet.DNSSEC_OK : 0, options: [] }) as unknown as packet.Answer;

describe('the answer table image', () => {
  it.each(variants)('%s: answers every query with the same bytes as the compiled table', (_name, table) => {
    const image = encodeTable(table, 42);
    expect(image.buffer).toBeInstanceOf(SharedArrayBuffer);
    const decoded = decodeTable(image.buffer);
    expect(decoded.version).toBe(42);
    expect(decoded.table.serial).toBe(table.serial);
    expect(decoded.table.names.size).toBe(table.names.size);
    const a = new Responder(table, { identity: 'node1' });
    const b = new Responder(decoded.table, { identity: 'node1' });
    let compared = 0;
    for (const name of NAMES)
      for (const type of TYPES)
        for (const klass of ['IN', 'CH'])
          for (const opt of [undefined, edns(512, false), edns(1232, true), edns(4096, true)])
            for (const source of ['10.1.2.3', '192.0.2.200', 'fd00::1', ''])
              for (const transport of ['udp', 'tcp'] as const) {
                const q = encodeQuery(name, type, { id: compared & 0xffff, klass, ...(opt ? { edns: opt } : {}) });
                const x = a.respond(q, transport, source);
                const y = b.respond(q, transport, source);
                expect(y && Buffer.from(y).toString('hex'), `${name} ${type} ${klass} ${opt ? 'edns' : ''} ${source} ${transport}`).toBe(x && Buffer.from(x).toString('hex'));
                compared++;
              }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('is refused whole when it is not an image or cut short, never half read', () => {
    const { buffer } = encodeTable(variants[0][1], 1);
    expect(() => decodeTable(new SharedArrayBuffer(16))).toThrow(RangeError);
    for (const cut of [4, 12, 100, buffer.byteLength >> 1, buffer.byteLength - 1]) {
      const short = new SharedArrayBuffer(cut);
      new Uint8Array(short).set(new Uint8Array(buffer, 0, cut));
      expect(() => decodeTable(short)).toThrow(RangeError);
    }
  });
});
