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

export type RecordData =
  | { readonly type: typeof Type.A; readonly address: string }
  | { readonly type: typeof Type.AAAA; readonly address: string }
  | { readonly type: typeof Type.NS; readonly target: string }
  | { readonly type: typeof Type.SOA; readonly soa: Soa }
  | { readonly type: typeof Type.TXT; readonly texts: readonly string[] }
  | { readonly type: typeof Type.SRV; readonly srv: Srv };

export interface Record {
  /** Lowercase dotted owner name. */
  readonly name: string;
  readonly class: number;
  readonly ttl: number;
  readonly data: RecordData;
}
