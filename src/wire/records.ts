import { Type } from './constants';

/** Resource records as structured values: what `zone/` decides and `wire/` encodes. */

export interface Soa {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

export interface Srv {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

/** DNSKEY and CDNSKEY (RFC 4034 §2, RFC 7344). */
export interface Dnskey {
  readonly flags: number;
  readonly protocol: number;
  readonly algorithm: number;
  readonly publicKey: Uint8Array;
}

/** DS and CDS (RFC 4034 §5). */
export interface Ds {
  readonly keyTag: number;
  readonly algorithm: number;
  readonly digestType: number;
  readonly digest: Uint8Array;
}

/** RRSIG (RFC 4034 §3); times are seconds since the epoch, mod 2^32 on the wire. */
export interface Rrsig {
  readonly typeCovered: number;
  readonly algorithm: number;
  readonly labels: number;
  readonly originalTtl: number;
  readonly expiration: number;
  readonly inception: number;
  readonly keyTag: number;
  readonly signer: string;
  readonly signature: Uint8Array;
}

export type RecordData =
  | { readonly type: typeof Type.A; readonly address: string }
  | { readonly type: typeof Type.AAAA; readonly address: string }
  | { readonly type: typeof Type.NS; readonly target: string }
  | { readonly type: typeof Type.SOA; readonly soa: Soa }
  | { readonly type: typeof Type.TXT; readonly texts: readonly string[] }
  | { readonly type: typeof Type.SRV; readonly srv: Srv }
  | { readonly type: typeof Type.DNSKEY | typeof Type.CDNSKEY; readonly key: Dnskey }
  | { readonly type: typeof Type.DS | typeof Type.CDS; readonly ds: Ds }
  | { readonly type: typeof Type.NSEC; readonly next: string; readonly types: readonly number[] }
  | { readonly type: typeof Type.RRSIG; readonly sig: Rrsig };

export interface Record {
  /** Lowercase dotted owner name. */
  readonly name: string;
  readonly class: number;
  readonly ttl: number;
  readonly data: RecordData;
}
