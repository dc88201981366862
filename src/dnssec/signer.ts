import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { Type } from '../wire/constants';
import { nameToWire } from '../wire/name';
import type { Dnskey, Record, RecordData } from '../wire/records';
import { MessageWriter } from '../wire/writer';
import { Algorithm, dnskeyOf, dsOf, isActive, isPublished, isSep, keyTag, privateKeyObject, type KeyFiles } from './keys';
import { INCEPTION_SKEW } from './timing';

export interface SignerOptions {
  /** Seconds a signature is valid from the signing time. */
  readonly validity: number;
  /** Seconds after which a cached signature is made again (before it expires). */
  readonly refresh: number;
}

interface Key {
  readonly files: KeyFiles;
  readonly dnskey: Dnskey;
  readonly tag: number;
  readonly private: KeyObject;
}

interface CachedSignature {
  readonly sig: Record;
  readonly signedAt: number;
  used: number;
}

/**
 * Makes RRSIGs for RRsets, remembering each signature by the exact content it covers, so a compile
 * after a failover signs only the RRsets whose records changed (and those due for refresh). The only
 * state is that cache; time comes in as an argument.
 */
export class Signer {
  private readonly keys: readonly Key[];
  private readonly cache = new Map<string, CachedSignature>();
  private generation = 0;
  /** Signatures made (not taken from the cache) since construction: tests and metrics read it. */
  signed = 0;

  constructor(
    readonly zone: string,
    keys: readonly KeyFiles[],
    readonly options: SignerOptions,
  ) {
    this.keys = keys.map((files) => {
      const dnskey = dnskeyOf(files);
      return { files, dnskey, tag: keyTag(dnskey), private: privateKeyObject(files) };
    });
  }

  /** The DNSKEY RRset's contents at `now`: every published key, signing or not yet (pre-publication). */
  publishedKeys(now: number): Dnskey[] {
    return this.keys.filter((k) => isPublished(k.files.timing, now)).map((k) => k.dnskey);
  }

  /** Keys for CDS/CDNSKEY (RFC 7344): the SEP keys that sign, i.e. what the parent's DS should match. */
  secureEntryKeys(now: number): Dnskey[] {
    return this.keys.filter((k) => isSep(k.files) && isActive(k.files.timing, now)).map((k) => k.dnskey);
  }

  dsRecords(now: number) {
    return this.secureEntryKeys(now).map((k) => dsOf(this.zone, k));
  }

  /** Begins a compile: signatures not used by this compile are dropped at `endCompile`. */
  beginCompile(): void {
    this.generation++;
  }

  endCompile(): void {
    for (const [k, v] of this.cache) if (v.used !== this.generation) this.cache.delete(k);
  }

  /**
   * RRSIGs over one RRset (all records share owner, type, class and TTL). SEP keys sign the key
   * sets at the apex; other keys sign the rest, or the SEP keys too when no other key signs (a CSK).
   */
  sign(rrset: readonly Record[], now: number): Record[] {
    const active = this.keys.filter((k) => isActive(k.files.timing, now));
    const keySet = rrset[0].data.type === Type.DNSKEY || rrset[0].data.type === Type.CDS || rrset[0].data.type === Type.CDNSKEY;
    const zsks = active.filter((k) => !isSep(k.files));
    const signers = keySet ? active.filter((k) => isSep(k.files)) : zsks.length ? zsks : active;
    const rdatas = canonicalRdatas(rrset.map((r) => r.data));
    const content = createHash('sha256');
    content.update(`${rrset[0].name}/${rrset[0].data.type}/${rrset[0].class}/${rrset[0].ttl}/`);
    for (const r of rdatas) content.update(r);
    const contentKey = content.digest('base64');
    const out: Record[] = [];
    for (const k of signers) {
      const cacheKey = `${k.tag}/${k.files.algorithm}/${contentKey}`;
      const hit = this.cache.get(cacheKey);
      if (hit && fresh(hit.signedAt, now, this.options.refresh)) {
        hit.used = this.generation;
        out.push(hit.sig);
        continue;
      }
      const sig = this.makeSignature(k, rrset, rdatas, now);
      this.signed++;
      this.cache.set(cacheKey, { sig, signedAt: now, used: this.generation });
      out.push(sig);
    }
    return out;
  }

  /** The earliest expiration of any cached signature (undefined before the first compile). */
  earliestExpiration(): number | undefined {
    let min: number | undefined;
    for (const v of this.cache.values()) if (v.sig.data.type === Type.RRSIG && (min === undefined || v.sig.data.sig.expiration < min)) min = v.sig.data.sig.expiration;
    return min;
  }

  private makeSignature(k: Key, rrset: readonly Record[], rdatas: readonly Buffer[], now: number): Record {
    const first = rrset[0];
    const fields = {
      typeCovered: first.data.type,
      algorithm: k.files.algorithm,
      labels: first.name === '' ? 0 : first.name.split('.').length,
      originalTtl: first.ttl,
      expiration: (now + this.options.validity) >>> 0,
      inception: (now - INCEPTION_SKEW) >>> 0,
      keyTag: k.tag,
      signer: this.zone,
    };
    // RFC 4034 §3.1.8.1: RRSIG RDATA without the signature, then each RR in canonical form and order.
    const w = new MessageWriter(512, true);
    w.rrsigFields(fields);
    const owner = nameToWire(first.name);
    for (const rd of rdatas) w.bytes(owner).u16(first.data.type).u16(first.class).u32(first.ttl).u16(rd.length).bytes(rd);
    const data = w.slice(0);
    const signature =
      k.files.algorithm === Algorithm.ED25519 ? cryptoSign(null, data, k.private) : cryptoSign('sha256', data, { key: k.private, dsaEncoding: 'ieee-p1363' });
    return { name: first.name, class: first.class, ttl: first.ttl, data: { type: Type.RRSIG, sig: { ...fields, signature } } };
  }
}

/**
 * A cached signature may be served again while it is younger than `refresh` and began before `now`.
 * One made while the clock was ahead (an NTP step back, a node booted with a fast clock) begins in
 * the future once the clock is right: validators reject it ("validity period has not begun") until
 * real time catches up, so it is made again from the current time instead of kept for `refresh`.
 */
function fresh(signedAt: number, now: number, refresh: number): boolean {
  return signedAt - INCEPTION_SKEW < now && now < signedAt + refresh;
}

/** RFC 4034 §6.3: the RRset's RDATA in canonical form, sorted as octet strings, duplicates removed. */
export function canonicalRdatas(data: readonly RecordData[]): Buffer[] {
  const all = data.map((d) => new MessageWriter(64, true).rdata(d).slice(0)).sort(Buffer.compare);
  return all.filter((b, i) => i === 0 || !b.equals(all[i - 1]));
}
