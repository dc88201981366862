/** DNS numbers used by clusterdns (RFC 1035, 3596, 2782, 6891, 8482, 5001, 7873). */

export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  CDS: 59,
  CDNSKEY: 60,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
} as const;

export const Class = { IN: 1, CH: 3, NONE: 254, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  NOTAUTH: 9,
  /** Extended (needs OPT): 16 = BADVERS. */
  BADVERS: 16,
  BADCOOKIE: 23,
} as const;

/** The TSIG record's Error field (RFC 8945 §4.3). */
export const TsigError = { BADSIG: 16, BADKEY: 17, BADTIME: 18 } as const;

export const Opcode = { QUERY: 0, NOTIFY: 4, UPDATE: 5 } as const;

/** DNSSEC (RFC 4034): DNSKEY flags and the protocol field's one value. */
export const DnskeyFlag = { ZONE: 0x0100, SEP: 0x0001 } as const;
export const DNSKEY_PROTOCOL = 3;

export const EdnsOption = { NSID: 3, COOKIE: 10 } as const;

/** Header flag bits in the 16-bit flags word. */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** Our EDNS UDP payload size (DNS flag day 2020): larger answers go over TCP. */
export const EDNS_UDP_SIZE = 1232;
export const HEADER_LEN = 12;
export const MAX_NAME_LEN = 255;

export function typeName(t: number): string {
  for (const [k, v] of Object.entries(Type)) if (v === t) return k;
  return `TYPE${t}`;
}
