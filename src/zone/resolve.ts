import { Class, Type } from '../wire/constants';
import { isInZone } from '../wire/name';
import type { Record } from '../wire/records';
import type { ZoneData } from './zone';

/**
 * The answer to one question, as a result kind (after CoreDNS's lookup results); the server turns it
 * into flags, rcode and bytes. `refused` is for names outside the zone and for meta queries we do
 * not serve; `unavailable` is the zone while this agent may not answer it (minority, not started).
 */
export type Answer =
  | { readonly kind: 'success'; readonly answer: readonly Record[]; readonly additional: readonly Record[] }
  | { readonly kind: 'nodata'; readonly authority: readonly Record[] }
  | { readonly kind: 'nxdomain'; readonly authority: readonly Record[] }
  | { readonly kind: 'refused' }
  | { readonly kind: 'unavailable' };

/** RFC 8482: ANY gets one RRset, the first of these the name has. */
const ANY_PREFERENCE = [Type.A, Type.AAAA, Type.SRV, Type.NS, Type.SOA, Type.TXT];

/** `qname` lowercase dotted, no trailing dot. Class IN only; see `resolveChaos` for CHAOS. */
export function resolve(zone: ZoneData, qname: string, qtype: number): Answer {
  if (!isInZone(qname, zone.apex)) return { kind: 'refused' };
  if (qtype === Type.AXFR || qtype === Type.IXFR) return { kind: 'refused' };
  if (!zone.serving) return { kind: 'unavailable' };
  const types = zone.names.get(qname);
  if (!types) return { kind: 'nxdomain', authority: [zone.negativeSoa] };
  let set: readonly Record[] | undefined;
  if (qtype === Type.ANY) {
    const t = ANY_PREFERENCE.find((x) => types.has(x));
    set = t === undefined ? undefined : types.get(t);
  } else {
    set = types.get(qtype);
  }
  if (!set || set.length === 0) return { kind: 'nodata', authority: [zone.negativeSoa] };
  const additional = set[0].data.type === Type.NS || set[0].data.type === Type.SRV ? (zone.glue.get(qname) ?? []) : [];
  return { kind: 'success', answer: set, additional };
}

/** CHAOS TXT `hostname.bind` and `id.server` identify the answering node (RFC 4892). */
export const CHAOS_IDENTITY_NAMES = ['hostname.bind', 'id.server'] as const;

export function resolveChaos(qname: string, qtype: number, identity: string | undefined): Answer {
  if (identity === undefined || !(CHAOS_IDENTITY_NAMES as readonly string[]).includes(qname)) return { kind: 'refused' };
  if (qtype !== Type.TXT && qtype !== Type.ANY) return { kind: 'nodata', authority: [] };
  return { kind: 'success', answer: [{ name: qname, class: Class.CH, ttl: 0, data: { type: Type.TXT, texts: [identity] } }], additional: [] };
}
