import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import type { ClusterConfig } from '../../src/config/types';
import { Algorithm, dnskeyOf, generateKey, keyTag, type KeyFiles } from '../../src/dnssec/keys';
import { Signer } from '../../src/dnssec/signer';
import { Responder } from '../../src/server/responder';
import { compile } from '../../src/zone/compile';
import { allUpInputs, type ZoneInputs } from '../../src/zone/inputs';
import { buildZone } from '../../src/zone/zone';
import { SECRET } from '../helpers/cluster';
import { encodeQuery } from '../helpers/dns';

/** The signed answer table without sockets: what is signed, when, and by which key. */

const NOW = 1_800_000_000;
const DAY = 86400;

function config(nodes: number, opts: { ipv6?: boolean; services?: boolean } = {}): ClusterConfig {
  const lines = [`zone: cluster.test`, `secret: "${SECRET}"`, 'nodes:'];
  for (let i = 1; i <= nodes; i++) lines.push(`  - { name: node${i}, address: 192.0.2.${i}${opts.ipv6 ? `, address6: "2001:db8::${i}"` : ''} }`);
  if (opts.services) lines.push('services:', '  - { name: redis-12000, port: 12000 }', '  - { name: pg, port: 5432, policy: first-healthy }');
  return parseConfig(lines.join('\n'));
}

const csk = (timing = {}) => generateKey('cluster.test', Algorithm.ECDSAP256SHA256, 257, timing);
const signer = (keys: KeyFiles[]) => new Signer('cluster.test', keys, { validity: 14 * DAY, refresh: 7 * DAY });

function failedOver(c: ClusterConfig, down: string, to: string, serial: number): ZoneInputs {
  const up = allUpInputs(c, serial);
  return { ...up, upNodes: up.upNodes.filter((n) => n !== down), nodeTargets: new Map([...up.nodeTargets].map(([n, t]) => [n, n === down ? to : t])) };
}

function table(c: ClusterConfig, s: Signer, inputs: ZoneInputs, now = NOW) {
  return compile(buildZone(c, inputs), { identity: undefined, unavailable: 'refused', dnssec: { signer: s, now } });
}

function ask(t: ReturnType<typeof table>, name: string, type: string, dnssecOk: boolean) {
  const q = encodeQuery(name, type, { edns: { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: dnssecOk ? packet.DNSSEC_OK : 0, options: [] } as unknown as packet.Answer });
  const raw = new Responder(t, { identity: 'node1' }).respond(q, 'udp')!;
  return { raw, msg: packet.decode(raw) };
}

const sigsOf = (records: packet.Answer[] | undefined) => (records ?? []).filter((r) => r.type === 'RRSIG').map((r) => (r as unknown as { data: { typeCovered: string; keyTag: number } }).data);

describe('signatures cached by content', () => {
  const c = config(3);

  it('a failover signs only the RRsets it changed: SOA, the apex A set, node2 and ns2', () => {
    const s = signer([csk()]);
    table(c, s, allUpInputs(c, 1));
    const first = s.signed;
    // Same answers, new compile: nothing to sign.
    table(c, s, allUpInputs(c, 1), NOW + 60);
    expect(s.signed).toBe(first);
    table(c, s, failedOver(c, 'node2', 'node3', 2), NOW + 120);
    expect(s.signed - first).toBe(4);
  });

  it('re-signs everything at the refresh age, not a second before; signatures start an hour early', () => {
    const s = signer([csk()]);
    table(c, s, allUpInputs(c, 1));
    const first = s.signed;
    table(c, s, allUpInputs(c, 1), NOW + 7 * DAY - 1);
    expect(s.signed).toBe(first);
    const t = table(c, s, allUpInputs(c, 1), NOW + 7 * DAY);
    expect(s.signed).toBe(2 * first);
    const sig = sigsOf(ask(t, 'node1.cluster.test', 'A', true).msg.answers)[0] as unknown as { inception: number; expiration: number };
    expect(sig.inception).toBe(NOW + 7 * DAY - 3600);
    expect(sig.expiration).toBe(NOW + 21 * DAY);
    expect(s.earliestExpiration()).toBe(NOW + 21 * DAY);
  });

  it('a signature that begins in the future (made while the clock was ahead) is made again from now', () => {
    const key = csk();
    for (const [ahead, resigned] of [
      [8 * DAY, true],
      [3601, true],
      [3600, true], // inception == now: not yet valid at this second either
      [3599, false],
      [60, false],
    ] as const) {
      const s = signer([key]);
      table(c, s, allUpInputs(c, 1), NOW + ahead);
      const before = s.signed;
      const t = table(c, s, allUpInputs(c, 1), NOW);
      expect(s.signed > before, `signed ${ahead} s ahead`).toBe(resigned);
      const sig = sigsOf(ask(t, 'node1.cluster.test', 'A', true).msg.answers)[0] as unknown as { inception: number };
      expect(sig.inception, `signed ${ahead} s ahead`).toBeLessThan(NOW);
    }
  });
});

describe('keys: who signs what', () => {
  const c = config(3);

  it('a key published before it activates is in DNSKEY but signs nothing until then (rollover)', () => {
    const old = csk();
    const next = csk({ publish: NOW - DAY, activate: NOW + DAY });
    const s = signer([old, next]);
    const tags = [old, next].map((k) => keyTag(dnskeyOf(k)));
    const before = table(c, s, allUpInputs(c, 1));
    expect(ask(before, 'cluster.test', 'DNSKEY', true).msg.answers!.filter((r) => r.type === 'DNSKEY')).toHaveLength(2);
    expect(sigsOf(ask(before, 'cluster.test', 'DNSKEY', true).msg.answers).map((g) => g.keyTag)).toEqual([tags[0]]);
    expect(sigsOf(ask(before, 'node1.cluster.test', 'A', true).msg.answers).map((g) => g.keyTag)).toEqual([tags[0]]);
    expect(ask(before, 'cluster.test', 'CDS', true).msg.answers!.filter((r) => r.type === 'CDS')).toHaveLength(1);
    const after = table(c, s, allUpInputs(c, 1), NOW + DAY);
    expect(sigsOf(ask(after, 'node1.cluster.test', 'A', true).msg.answers).map((g) => g.keyTag).sort()).toEqual([...tags].sort());
  });

  it('with a KSK and a ZSK, the KSK signs the key sets and the ZSK the rest', () => {
    const ksk = csk();
    const zsk = generateKey('cluster.test', Algorithm.ED25519, 256, {});
    const t = table(c, signer([ksk, zsk]), allUpInputs(c, 1));
    const [kTag, zTag] = [ksk, zsk].map((k) => keyTag(dnskeyOf(k)));
    expect(sigsOf(ask(t, 'cluster.test', 'DNSKEY', true).msg.answers).map((g) => g.keyTag)).toEqual([kTag]);
    expect(sigsOf(ask(t, 'cluster.test', 'CDNSKEY', true).msg.answers).map((g) => g.keyTag)).toEqual([kTag]);
    expect(sigsOf(ask(t, 'cluster.test', 'SOA', true).msg.answers).map((g) => g.keyTag)).toEqual([zTag]);
    // dns-packet leaves CDS undecoded: its key tag is the first two bytes.
    expect(ask(t, 'cluster.test', 'CDS', false).msg.answers!.map((r) => (r as unknown as { data: Buffer }).data.readUInt16BE(0))).toEqual([kTag]);
  });
});

describe('DO picks the variant', () => {
  const c = config(3, { services: true });
  const t = table(c, signer([csk()]), allUpInputs(c, 1));

  it.each([
    ['node1.cluster.test', 'A', 'NOERROR', ['A'], []],
    ['cluster.test', 'SOA', 'NOERROR', ['SOA'], []],
    ['_redis-12000._tcp.cluster.test', 'SRV', 'NOERROR', ['SRV'], []],
    ['node1.cluster.test', 'AAAA', 'NOERROR', [], ['SOA', 'NSEC']],
    ['_tcp.cluster.test', 'A', 'NOERROR', [], ['SOA', 'NSEC']],
    ['missing.cluster.test', 'A', 'NXDOMAIN', [], ['SOA', 'NSEC']],
    ['a.b.node2.cluster.test', 'A', 'NXDOMAIN', [], ['SOA', 'NSEC']],
  ])('%s %s: RRSIGs only with DO=1', (name, type, rcode, answerSigs, authoritySigs) => {
    const plain = ask(t, name, type, false).msg;
    const signedMsg = ask(t, name, type, true).msg;
    expect(plain.rcode).toBe(rcode);
    expect(signedMsg.rcode).toBe(rcode);
    expect(sigsOf(plain.answers)).toEqual([]);
    expect(sigsOf(plain.authorities)).toEqual([]);
    expect(sigsOf(signedMsg.answers).map((g) => g.typeCovered)).toEqual(answerSigs);
    expect(new Set(sigsOf(signedMsg.authorities).map((g) => g.typeCovered))).toEqual(new Set(authoritySigs));
    // Same data either way: only signatures and proofs are added.
    expect(signedMsg.answers!.filter((r) => r.type !== 'RRSIG')).toEqual(plain.answers);
  });

  it('NXDOMAIN proves the name and the wildcard absent: the NSECs around the name and at its closest encloser', () => {
    const nsec = (name: string) =>
      ask(t, name, 'A', true)
        .msg.authorities!.filter((r) => r.type === 'NSEC')
        .map((r) => `${r.name} ${(r as unknown as { data: { nextDomain: string } }).data.nextDomain}`);
    // `_` sorts before letters: the _tcp subtree comes right after the apex.
    expect(nsec('MISSING.cluster.test')).toEqual(['_redis-12000._tcp.cluster.test node1.cluster.test', 'cluster.test _tcp.cluster.test']);
    expect(nsec('nz.cluster.test')).toEqual(['ns3.cluster.test pg.cluster.test', 'cluster.test _tcp.cluster.test']);
    expect(nsec('a.b.node2.cluster.test')).toEqual(['node2.cluster.test node3.cluster.test']);
    expect(nsec('zzz.cluster.test')).toEqual(['redis-12000.cluster.test cluster.test', 'cluster.test _tcp.cluster.test']);
  });
});

describe('size: a 9-node zone with IPv6 and services', () => {
  const c = config(9, { ipv6: true, services: true });
  const t = table(c, signer([csk()]), allUpInputs(c, 1));
  const names = ['cluster.test', ...Array.from({ length: 9 }, (_, i) => [`node${i + 1}.cluster.test`, `ns${i + 1}.cluster.test`]).flat(), 'redis-12000.cluster.test', '_pg._tcp.cluster.test', 'nope.cluster.test'];

  it('every DO=1 answer over UDP fits in 1232 bytes with its signatures, no TC', () => {
    for (const name of names) {
      for (const type of ['A', 'AAAA', 'NS', 'SOA', 'SRV', 'DNSKEY', 'TXT', 'ANY']) {
        const { raw, msg } = ask(t, name, type, true);
        expect(raw.length, `${name} ${type}`).toBeLessThanOrEqual(1232);
        expect(msg.flags! & 0x0200, `${name} ${type} TC`).toBe(0);
        expect(sigsOf([...(msg.answers ?? []), ...(msg.authorities ?? [])]).length, `${name} ${type}`).toBeGreaterThan(0);
      }
    }
  });

  it('glue that does not fit is left out whole: every A/AAAA in the additional section keeps its RRSIG', () => {
    const { msg } = ask(t, 'cluster.test', 'NS', true);
    const extra = (msg.additionals ?? []).filter((r) => r.type !== 'OPT');
    expect(extra.length).toBeGreaterThan(0);
    for (let i = 0; i < extra.length; i += 2) {
      expect(extra[i].type).toMatch(/^(A|AAAA)$/);
      expect(extra[i + 1].type).toBe('RRSIG');
      expect((extra[i + 1] as unknown as { data: { typeCovered: string } }).data.typeCovered).toBe(extra[i].type);
    }
  });
});
