import { Type } from '../wire/constants';
import type { Record, RecordData } from '../wire/records';
import type { Answer } from '../zone/resolve';
import type { ZoneData } from '../zone/zone';
import { dsOf } from './keys';
import type { Signer } from './signer';

/**
 * The zone with its DNSSEC records (RFC 4035 §2): DNSKEY, CDS and CDNSKEY at the apex, an NSEC at
 * every name in canonical order, and an RRSIG over every RRset. Built on each compile from the zone
 * the compiler was given; the signer's cache keeps unchanged RRsets from being signed again.
 */
export interface SignedZone {
  /** The zone with the DNSKEY, CDS, CDNSKEY and NSEC RRsets added (what the unsigned answers serve too). */
  readonly zone: ZoneData;
  /** Owner → type covered → its RRSIGs. */
  readonly sigs: ReadonlyMap<string, ReadonlyMap<number, readonly Record[]>>;
  /** Every owner name in canonical order (RFC 4034 §6.1): the NSEC chain. */
  readonly order: readonly string[];
}

export function signZone(zone: ZoneData, signer: Signer, now: number): SignedZone {
  const apex = zone.apex;
  const names = new Map<string, Map<number, readonly Record[]>>();
  for (const [name, types] of zone.names) names.set(name, new Map(types));
  const apexTypes = names.get(apex)!;
  // Key sets live as long as the delegation (the apex NS TTL): a rollover waits on that TTL.
  const keyTtl = apexTypes.get(Type.NS)?.[0]?.ttl ?? zone.soa.ttl;
  const rrs = (data: RecordData[]): Record[] => data.map((d) => ({ name: apex, class: zone.soa.class, ttl: keyTtl, data: d }));
  apexTypes.set(Type.DNSKEY, rrs(signer.publishedKeys(now).map((key) => ({ type: Type.DNSKEY, key }))));
  const sep = signer.secureEntryKeys(now);
  // RFC 7344: CDS/CDNSKEY tell the parent which DS to hold: the SEP keys that sign.
  if (sep.length) {
    apexTypes.set(Type.CDS, rrs(sep.map((key) => ({ type: Type.CDS, ds: dsOf(apex, key) }))));
    apexTypes.set(Type.CDNSKEY, rrs(sep.map((key) => ({ type: Type.CDNSKEY, key }))));
  }

  // RFC 9077: NSEC TTL is the negative TTL, as for the SOA in negative answers.
  const order = [...names.keys()].sort(canonicalOrder);
  order.forEach((name, i) => {
    const types = names.get(name)!;
    const present = [...types.keys()].filter((t) => types.get(t)!.length > 0);
    const next = order[(i + 1) % order.length];
    types.set(Type.NSEC, [
      { name, class: zone.soa.class, ttl: zone.negativeSoa.ttl, data: { type: Type.NSEC, next, types: [...present, Type.NSEC, Type.RRSIG].sort((a, b) => a - b) } },
    ]);
  });

  signer.beginCompile();
  const sigs = new Map<string, Map<number, readonly Record[]>>();
  for (const [name, types] of names) {
    const byType = new Map<number, readonly Record[]>();
    for (const [t, set] of types) if (set.length) byType.set(t, signer.sign(set, now));
    sigs.set(name, byType);
  }
  signer.endCompile();
  return { zone: { ...zone, names }, sigs, order };
}

/**
 * The signed form of an answer the unsigned zone gave (RFC 4035 §3.1): each RRset followed by its
 * RRSIGs, and NODATA proven by the name's NSEC. NXDOMAIN depends on the question name: `nxdomainProof`.
 */
export function signAnswer(s: SignedZone, qname: string, a: Answer): Answer {
  switch (a.kind) {
    case 'success':
      return { kind: 'success', answer: withSigs(s, a.answer), additional: withSigs(s, a.additional) };
    case 'nodata':
      return { kind: 'nodata', authority: [...negativeSoa(s), ...nsecOf(s, qname)] };
    default:
      return a;
  }
}

/** All RRSIGs at a name: the answer to a question for type RRSIG (RFC 4035 §3.1.5 asks nothing more). */
export function rrsigAnswer(s: SignedZone, name: string): Answer {
  const all = [...(s.sigs.get(name)?.values() ?? [])].flat();
  return all.length ? { kind: 'success', answer: all, additional: [] } : { kind: 'nodata', authority: [s.zone.negativeSoa] };
}

/**
 * NXDOMAIN (RFC 4035 §3.1.3.2): the NSEC of the name before the question name (no such name) and the
 * NSEC of the closest encloser, which covers `*.<closest encloser>` (no wildcard): `*` sorts before
 * every label the zone has, so that wildcard lies between the encloser and its next name.
 */
export function nxdomainProof(s: SignedZone, predecessor: string, closestEncloser: string): Answer {
  const nsecs = predecessor === closestEncloser ? nsecOf(s, predecessor) : [...nsecOf(s, predecessor), ...nsecOf(s, closestEncloser)];
  return { kind: 'nxdomain', authority: [...negativeSoa(s), ...nsecs] };
}

/** The SOA of negative answers and its RRSIGs, with the TTL it is served with (their original TTL stays). */
function negativeSoa(s: SignedZone): Record[] {
  const soa = s.zone.negativeSoa;
  const sigs = s.sigs.get(s.zone.apex)?.get(Type.SOA) ?? [];
  return [soa, ...sigs.map((r) => ({ ...r, ttl: soa.ttl }))];
}

function nsecOf(s: SignedZone, name: string): Record[] {
  return [...(s.zone.names.get(name)?.get(Type.NSEC) ?? []), ...(s.sigs.get(name)?.get(Type.NSEC) ?? [])];
}

/** Records of whole RRsets in a row, each RRset followed by its signatures. */
function withSigs(s: SignedZone, records: readonly Record[]): Record[] {
  const out: Record[] = [];
  records.forEach((r, i) => {
    out.push(r);
    const next = records[i + 1];
    if (next && next.name === r.name && next.data.type === r.data.type) return;
    const sigs = s.sigs.get(r.name)?.get(r.data.type) ?? [];
    out.push(...sigs.map((g) => ({ ...g, ttl: r.ttl })));
  });
  return out;
}

/** RFC 4034 §6.1: by labels from the right, each as lowercase octets (our names are lowercase). */
export function canonicalOrder(a: string, b: string): number {
  return compareLabels(a === '' ? [] : a.split('.').reverse(), b === '' ? [] : b.split('.').reverse());
}

export function compareLabels(la: readonly string[], lb: readonly string[]): number {
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const c = Buffer.compare(Buffer.from(la[i], 'latin1'), Buffer.from(lb[i], 'latin1'));
    if (c !== 0) return c;
  }
  return la.length - lb.length;
}
