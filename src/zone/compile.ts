import { Class, Rcode, Type } from '../wire/constants';
import { ClientPrefixes } from '../net/client-prefixes';
import { INTERNAL_LABEL } from '../config/types';
import { isInZone, nameToWire } from '../wire/name';
import { NameTable } from '../wire/name-table';
import { prebuild, type Prebuilt } from '../wire/prebuilt';
import { CHAOS_IDENTITY_NAMES, resolve, resolveChaos, type Answer } from './resolve';
import type { ZoneData } from './zone';
import { NxdomainProofs } from '../dnssec/nxdomain';
import { nxdomainProof, rrsigAnswer, signAnswer, signZone, type SignedZone } from '../dnssec/sign-zone';
import type { Signer } from '../dnssec/signer';

/**
 * Compile, then serve: every answer the zone can give is encoded once, here, when the zone changes.
 * The server then only looks a question up in this immutable table and patches a copy.
 */
/** Type 0 is reserved: no name has it, so resolving it gives the name's NODATA answer. */
const NODATA_PROBE = 0;

export interface AnswerSet {
  readonly byType: ReadonlyMap<number, Prebuilt>;
  /** For any type the name does not have. */
  readonly nodata: Prebuilt;
  /** RFC 8482 minimal answer to ANY. */
  readonly any: Prebuilt;
}

/** internal.<zone> while any node has a private address. */
export interface InternalNames {
  /** Lowercase wire form of internal.<zone>, to tell its NXDOMAIN names from others. */
  readonly wire: Uint8Array;
  /** Clients that may ask internal names; undefined: every client. */
  readonly from: ClientPrefixes | undefined;
}

export interface NameAnswers extends AnswerSet {
  /** With RRSIGs and NSEC proofs, for DO=1 queries; present when the zone is signed. */
  readonly signed?: AnswerSet;
  /** Under internal.<zone>: asked only by clients in `AnswerTable.internal.from`. */
  readonly internal: boolean;
}

export interface AnswerTable {
  readonly zone: string;
  readonly serial: number;
  readonly serving: boolean;
  /** Lowercase wire form of the apex, to tell in-zone names from others. */
  readonly apexWire: Uint8Array;
  readonly names: NameTable<NameAnswers>;
  /** Relocatable NXDOMAIN body, built behind the apex as question name. */
  readonly nxdomain: Prebuilt;
  /** rcode for the zone while not serving (minority, before quorum). */
  readonly unavailableRcode: number;
  /** CHAOS-class names (empty when disabled). */
  readonly chaos: NameTable<NameAnswers>;
  readonly internal: InternalNames | undefined;
  /** Signed NXDOMAIN answers for DO=1 queries; present when the zone is signed. */
  readonly signedNxdomain?: NxdomainProofs;
}

export interface CompileOptions {
  /** The answering node's name: CHAOS identity and NSID; undefined disables CHAOS answers. */
  readonly identity: string | undefined;
  readonly unavailable: 'refused' | 'servfail';
  /** dns.internalFrom: client prefixes (`address/length`) that may ask internal.<zone> names. */
  readonly internalFrom?: readonly string[];
  /** Sign the zone: the signer (which caches signatures between compiles) and the signing time in seconds. */
  readonly dnssec?: { readonly signer: Signer; readonly now: number };
}

export function compile(unsigned: ZoneData, opts: CompileOptions): AnswerTable {
  // A signed zone serves its DNSKEY and NSEC records to every query; only the RRSIGs wait for DO.
  const signed = opts.dnssec && unsigned.serving ? signZone(unsigned, opts.dnssec.signer, opts.dnssec.now) : undefined;
  const zone = signed?.zone ?? unsigned;
  const names = new NameTable<NameAnswers>();
  const internalApex = `${INTERNAL_LABEL}.${zone.apex}`;
  const hasInternal = zone.names.has(internalApex);
  for (const [name, types] of zone.names) {
    const answers = (sign: (a: Answer) => Answer): AnswerSet => {
      const byType = new Map<number, Prebuilt>();
      for (const t of types.keys()) byType.set(t, encode(name, t, Class.IN, sign(resolve(zone, name, t))));
      if (signed) byType.set(Type.RRSIG, encode(name, Type.RRSIG, Class.IN, rrsigAnswer(signed, name)));
      return {
        byType,
        nodata: encode(name, NODATA_PROBE, Class.IN, sign(resolve(zone, name, NODATA_PROBE))),
        any: encode(name, Type.ANY, Class.IN, sign(resolve(zone, name, Type.ANY))),
      };
    };
    const plain = answers((a) => a);
    const internal = hasInternal && isInZone(name, internalApex);
    names.set(nameToWire(name), signed ? { ...plain, internal, signed: answers((a) => signAnswer(signed, name, a)) } : { ...plain, internal });
  }
  const chaos = new NameTable<NameAnswers>();
  if (opts.identity !== undefined) {
    for (const name of CHAOS_IDENTITY_NAMES) {
      const txt = encode(name, Type.TXT, Class.CH, resolveChaos(name, Type.TXT, opts.identity));
      chaos.set(nameToWire(name), {
        byType: new Map([[Type.TXT, txt]]),
        nodata: encode(name, Type.A, Class.CH, resolveChaos(name, Type.A, opts.identity)),
        any: txt,
        internal: false,
      });
    }
  }
  const nx: Answer = { kind: 'nxdomain', authority: [zone.negativeSoa] };
  return {
    zone: zone.apex,
    serial: zone.soa.data.type === Type.SOA ? zone.soa.data.soa.serial : 0,
    serving: zone.serving,
    apexWire: nameToWire(zone.apex),
    names,
    nxdomain: prebuild(zone.apex, Type.A, Class.IN, sections(nx), true),
    unavailableRcode: opts.unavailable === 'servfail' ? Rcode.SERVFAIL : Rcode.REFUSED,
    chaos,
    internal: hasInternal
      ? { wire: nameToWire(internalApex), from: opts.internalFrom === undefined ? undefined : new ClientPrefixes(opts.internalFrom) }
      : undefined,
    ...(signed ? { signedNxdomain: nxdomainProofs(signed, prebuild(zone.apex, Type.A, Class.IN, sections(nx), true)) } : {}),
  };
}

/** Every (predecessor, closest encloser) pair: the encloser is the predecessor or one of its ancestors. */
function nxdomainProofs(s: SignedZone, fallback: Prebuilt): NxdomainProofs {
  const bodies = new Map<string, Prebuilt>();
  for (const predecessor of s.order) {
    for (let e = predecessor; ; e = e.slice(e.indexOf('.') + 1)) {
      if (s.zone.names.has(e)) {
        const a = nxdomainProof(s, predecessor, e);
        bodies.set(NxdomainProofs.key(predecessor, e), prebuild(s.zone.apex, Type.A, Class.IN, sections(a), true));
      }
      if (e === s.zone.apex || !e.includes('.')) break;
    }
  }
  return new NxdomainProofs(s.order, bodies, fallback);
}

function encode(name: string, qtype: number, qclass: number, a: Answer): Prebuilt {
  return prebuild(name, qtype, qclass, sections(a));
}

/** Decide, then encode: result kinds become rcode, AA and sections. */
export function sections(a: Answer) {
  switch (a.kind) {
    case 'success':
      return { rcode: Rcode.NOERROR, authoritative: true, answer: a.answer, authority: [], additional: a.additional };
    case 'nodata':
      return { rcode: Rcode.NOERROR, authoritative: true, answer: [], authority: a.authority, additional: [] };
    case 'nxdomain':
      return { rcode: Rcode.NXDOMAIN, authoritative: true, answer: [], authority: a.authority, additional: [] };
    case 'refused':
      return { rcode: Rcode.REFUSED, authoritative: false, answer: [], authority: [], additional: [] };
    case 'unavailable':
      return { rcode: Rcode.REFUSED, authoritative: false, answer: [], authority: [], additional: [] };
  }
}
