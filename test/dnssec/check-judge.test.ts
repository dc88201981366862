import { describe, expect, it } from 'vitest';
import { ABSENT_LABEL, checkDnssec, type DnssecObservation, type SignedReply } from '../../src/check/dnssec';
import { parseConfig } from '../../src/config/load';
import { Algorithm, dnskeyOf, dsOf, generateKey, type KeyFiles } from '../../src/dnssec/keys';
import { signAnswer, signZone, nxdomainProof } from '../../src/dnssec/sign-zone';
import { Signer } from '../../src/dnssec/signer';
import { Type } from '../../src/wire/constants';
import type { Record } from '../../src/wire/records';
import { allUpInputs } from '../../src/zone/inputs';
import { resolve } from '../../src/zone/resolve';
import { buildZone } from '../../src/zone/zone';
import { SECRET } from '../helpers/cluster';

/** check's DNSSEC judgement from tables of replies: no sockets, the signer makes the records. */

const ZONE = 'cluster.test';
const NOW = 1_800_000_000;
const config = parseConfig(`zone: ${ZONE}\nsecret: "${SECRET}"\nnodes:\n  - { name: node1, address: 192.0.2.1 }\n  - { name: node2, address: 192.0.2.2 }\n`);

function replies(key: KeyFiles, signedAt = NOW) {
  const s = signZone(buildZone(config, allUpInputs(config, 1)), new Signer(ZONE, [key], { validity: 14 * 86400, refresh: 7 * 86400 }), signedAt);
  const reply = (name: string, type: number): SignedReply => {
    const a = signAnswer(s, name, resolve(s.zone, name, type));
    const records = a.kind === 'success' ? a.answer : a.kind === 'nodata' ? a.authority : [];
    return { rcode: 'NOERROR', records };
  };
  const nx = nxdomainProof(s, s.order[s.order.length - 1], ZONE);
  return new Map<string, SignedReply | string>([
    [`${ZONE} DNSKEY`, reply(ZONE, Type.DNSKEY)],
    [`${ZONE} SOA`, reply(ZONE, Type.SOA)],
    [`node1.${ZONE} A`, reply(`node1.${ZONE}`, Type.A)],
    [`${ABSENT_LABEL}.${ZONE} A`, { rcode: 'NXDOMAIN', records: nx.kind === 'nxdomain' ? nx.authority : [] }],
  ]);
}

const dsText = (k: KeyFiles) => {
  const d = dsOf(ZONE, dnskeyOf(k));
  return `${d.keyTag} ${d.algorithm} ${d.digestType} ${Buffer.from(d.digest).toString('hex').toUpperCase()}`;
};

function observe(map: Map<string, SignedReply | string>, parentDs: string[] | undefined, now = NOW): DnssecObservation {
  return { now, expected: true, parentDs, servers: [{ endpoint: { host: '192.0.2.1', port: 53 }, replies: map }] };
}

const codes = (obs: DnssecObservation) => checkDnssec(ZONE, obs).map((f) => `${f.severity} ${f.code}`).sort();

describe('check: DNSSEC judgement', () => {
  const key = generateKey(ZONE, Algorithm.ECDSAP256SHA256, 257, {});

  it.each([
    ['a signed zone whose DS matches', () => observe(replies(key), [dsText(key)]), ['ok dnssec-expiry', 'ok dnssec-valid']],
    ['a DS of another key', () => observe(replies(key), [dsText(generateKey(ZONE, 13, 257, {}))]), ['broken dnssec-ds-mismatch', 'ok dnssec-expiry']],
    ['no DS at the parent', () => observe(replies(key), []), ['ok dnssec-expiry', 'ok dnssec-valid', 'warn dnssec-no-ds']],
    ['signatures 2 days from expiry', () => observe(replies(key), [dsText(key)], NOW + 12 * 86400), ['ok dnssec-valid', 'warn dnssec-expiry']],
    ['expired signatures', () => observe(replies(key), [dsText(key)], NOW + 15 * 86400), ['broken dnssec-bogus', 'broken dnssec-bogus', 'broken dnssec-bogus', 'broken dnssec-bogus', 'warn dnssec-expiry']],
    ['a DS but no DNSKEY served', () => observe(new Map([[`${ZONE} DNSKEY`, { rcode: 'NOERROR', records: [] }]]), [dsText(key)]), ['broken dnssec-unsigned']],
    ['an unsigned zone without DS', () => ({ ...observe(new Map([[`${ZONE} DNSKEY`, { rcode: 'NOERROR', records: [] }]]), []), expected: false }), []],
  ])('%s', (_, obs, want) => {
    expect(codes(obs())).toEqual(want);
  });

  it('an answer whose address was changed after signing is bogus, named with the RRset', () => {
    const map = replies(key);
    const a = map.get(`node1.${ZONE} A`) as SignedReply;
    const forged: Record[] = a.records.map((r) => (r.data.type === Type.A ? { ...r, data: { type: Type.A, address: '198.51.100.66' } } : r));
    map.set(`node1.${ZONE} A`, { ...a, records: forged });
    const bogus = checkDnssec(ZONE, observe(map, [dsText(key)])).filter((f) => f.code === 'dnssec-bogus');
    expect(bogus.map((f) => f.message)).toEqual([`node1.${ZONE} A from 192.0.2.1 does not validate: no RRSIG over node1.${ZONE} A verifies with the published keys`]);
  });
});
