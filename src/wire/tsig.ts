import { createHmac, timingSafeEqual } from 'node:crypto';
import { Class, HEADER_LEN, Type } from './constants';
import { nameToWire, readName } from './name';
import { skipName, skipRecord } from './query';

/**
 * TSIG (RFC 8945): sign a request and verify the signed response. Bytes and a parsed key in, bytes
 * and verdicts out; key files are read in src/config/tsig-key.ts.
 */

export const TSIG_ALGORITHMS = {
  'hmac-md5': { wire: 'hmac-md5.sig-alg.reg.int', hash: 'md5' },
  'hmac-sha1': { wire: 'hmac-sha1', hash: 'sha1' },
  'hmac-sha224': { wire: 'hmac-sha224', hash: 'sha224' },
  'hmac-sha256': { wire: 'hmac-sha256', hash: 'sha256' },
  'hmac-sha384': { wire: 'hmac-sha384', hash: 'sha384' },
  'hmac-sha512': { wire: 'hmac-sha512', hash: 'sha512' },
} as const;
export type TsigAlgorithm = keyof typeof TSIG_ALGORITHMS;

export interface TsigKey {
  /** Lowercase, no trailing dot: the MAC covers the canonical form. */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** RFC 8945 §5.2.3: the recommended fudge. */
const FUDGE = 300;

const TSIG_ERRORS: Readonly<Record<number, string>> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

/** The TSIG RDATA fields after the algorithm name; the names are the key's own. */
interface TsigFields {
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

/** RFC 8945 §4.3.3: the TSIG fields the MAC covers, names in canonical (lowercase, uncompressed) form. */
function variables(key: TsigKey, t: TsigFields): Buffer {
  return Buffer.concat([
    nameToWire(key.name),
    u16(Class.ANY),
    Buffer.alloc(4),
    nameToWire(TSIG_ALGORITHMS[key.algorithm].wire),
    u48(t.timeSigned),
    u16(t.fudge),
    u16(t.error),
    u16(t.other.length),
    t.other,
  ]);
}

function hmac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac(TSIG_ALGORITHMS[key.algorithm].hash, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

function tsigRecord(key: TsigKey, t: TsigFields): Buffer {
  const rdata = Buffer.concat([
    nameToWire(TSIG_ALGORITHMS[key.algorithm].wire),
    u48(t.timeSigned),
    u16(t.fudge),
    u16(t.mac.length),
    t.mac,
    u16(t.originalId),
    u16(t.error),
    u16(t.other.length),
    t.other,
  ]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(Type.TSIG, 0);
  head.writeUInt16BE(Class.ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([nameToWire(key.name), head, rdata]);
}

export interface SignedRequest {
  readonly message: Buffer;
  /** The request MAC: the response's MAC covers it (RFC 8945 §5.3). */
  readonly mac: Buffer;
}

/** Appends a TSIG RR to a complete, unsigned message (its ARCOUNT is raised by one). */
export function signRequest(message: Buffer, key: TsigKey, nowSeconds = Math.floor(Date.now() / 1000)): SignedRequest {
  const fields = { timeSigned: nowSeconds, fudge: FUDGE, originalId: message.readUInt16BE(0), error: 0, other: Buffer.alloc(0) };
  const mac = hmac(key, message, variables(key, { ...fields, mac: Buffer.alloc(0) }));
  const out = Buffer.concat([message, tsigRecord(key, { ...fields, mac })]);
  out.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: out, mac };
}

interface FoundTsig {
  /** Where the TSIG RR starts: the MAC covers the message before it. */
  readonly start: number;
  readonly keyName: string;
  readonly algorithm: string;
  readonly fields: TsigFields;
}

/**
 * The TSIG RR, which RFC 8945 §5.1 requires to be the last additional record; undefined when the
 * message has none, 'malformed' when a section or the TSIG RDATA runs past its end.
 */
function findTsig(buf: Buffer): FoundTsig | 'malformed' | undefined {
  const len = buf.length;
  if (len < HEADER_LEN) return 'malformed';
  const [qd, an, ns, ar] = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  if (ar === 0) return undefined;
  let offset = HEADER_LEN;
  for (let i = 0; i < qd; i++) {
    offset = skipName(buf, offset, len);
    if (offset < 0 || offset + 4 > len) return 'malformed';
    offset += 4;
  }
  for (let i = 0; i < an + ns + ar - 1; i++) {
    offset = skipRecord(buf, offset, len);
    if (offset < 0) return 'malformed';
  }
  const start = offset;
  const owner = readName(buf, offset);
  if (!owner || owner.end + 10 > len) return 'malformed';
  offset = owner.end;
  if (buf.readUInt16BE(offset) !== Type.TSIG) return undefined;
  const end = offset + 10 + buf.readUInt16BE(offset + 8);
  if (end > len) return 'malformed';
  const algorithm = readName(buf.subarray(0, end), offset + 10);
  if (!algorithm || algorithm.end + 10 > end) return 'malformed';
  offset = algorithm.end;
  const timeSigned = buf.readUIntBE(offset, 6);
  const fudge = buf.readUInt16BE(offset + 6);
  const macEnd = offset + 10 + buf.readUInt16BE(offset + 8);
  if (macEnd + 6 > end) return 'malformed';
  const mac = buf.subarray(offset + 10, macEnd);
  const originalId = buf.readUInt16BE(macEnd);
  const error = buf.readUInt16BE(macEnd + 2);
  const otherEnd = macEnd + 6 + buf.readUInt16BE(macEnd + 4);
  if (otherEnd > end) return 'malformed';
  const other = buf.subarray(macEnd + 6, otherEnd);
  return { start, keyName: owner.name, algorithm: algorithm.name, fields: { timeSigned, fudge, mac, originalId, error, other } };
}

export type TsigVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'unsigned' | 'malformed' | 'wrong-key' | 'bad-mac' | 'bad-time' }
  /** The server rejected our signature: its TSIG carries the error (BADKEY, BADSIG, BADTIME). */
  | { readonly ok: false; readonly reason: 'server-error'; readonly error: string };

/** Verifies a response to a request signed with `requestMac` (RFC 8945 §5.3.1, §5.4). */
export function verifyResponse(response: Buffer, key: TsigKey, requestMac: Buffer, nowSeconds = Math.floor(Date.now() / 1000)): TsigVerdict {
  const found = findTsig(response);
  if (found === 'malformed') return { ok: false, reason: 'malformed' };
  if (!found) return { ok: false, reason: 'unsigned' };
  const t = found.fields;
  if (t.error !== 0) return { ok: false, reason: 'server-error', error: TSIG_ERRORS[t.error] ?? `TSIG error ${t.error}` };
  if (found.keyName.toLowerCase() !== key.name || found.algorithm.toLowerCase() !== TSIG_ALGORITHMS[key.algorithm].wire)
    return { ok: false, reason: 'wrong-key' };
  const unsigned = Buffer.from(response.subarray(0, found.start));
  unsigned.writeUInt16BE(t.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = hmac(key, u16(requestMac.length), requestMac, unsigned, variables(key, t));
  // Truncated MACs (RFC 8945 §5.2.2.1) are never asked for, so only a full-length MAC is valid.
  if (t.mac.length !== expected.length || !timingSafeEqual(t.mac, expected)) return { ok: false, reason: 'bad-mac' };
  if (Math.abs(nowSeconds - t.timeSigned) > t.fudge) return { ok: false, reason: 'bad-time' };
  return { ok: true };
}
