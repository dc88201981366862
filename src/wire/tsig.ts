import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as dnsPacket from 'dns-packet';
import { ClusterDnsError } from '../errors';

/**
 * TSIG (RFC 8945): sign a request and verify the signed response. dns-packet knows the TSIG type
 * number but not its RDATA or the MAC construction, so both are here; names use dns-packet's codec.
 */

const wireName = (dnsPacket as unknown as {
  name: { encode(n: string): Buffer; decode(buf: Buffer, offset: number): string } & { decode: { bytes: number } };
}).name;

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

const TYPE_TSIG = 250;
const CLASS_ANY = 255;
/** RFC 8945 §5.2.3: the recommended fudge. */
const FUDGE = 300;

export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

function keyError(path: string, what: string): ClusterDnsError {
  return new ClusterDnsError('TSIG_KEY', `TSIG key file ${path}: ${what}`, {
    details: ['write it with: tsig-keygen -a hmac-sha256 <key-name> > <file> (the same file nsupdate -k reads)'],
  });
}

/** Reads the first `key` clause of a file in the format tsig-keygen writes and named.conf includes. */
export function parseTsigKeyFile(text: string, path = 'key file'): TsigKey {
  // Comments go, quoted strings stay: a base64 secret may well contain "//".
  const clean = text.replace(/"[^"]*"|\/\*[\s\S]*?\*\/|(?:#|\/\/)[^\n]*/g, (m) => (m.startsWith('"') ? m : ''));
  const m = /key\s+(?:"([^"]+)"|([^\s{]+))\s*\{([^}]*)\}\s*;/.exec(clean);
  if (!m) throw keyError(path, 'no key "name" { algorithm …; secret "…"; }; clause found');
  const name = (m[1] ?? m[2]).toLowerCase().replace(/\.$/, '');
  const body = m[3];
  const alg = /algorithm\s+"?([A-Za-z0-9.-]+)"?\s*;/.exec(body)?.[1]?.toLowerCase().replace(/\.$/, '');
  const secret = /secret\s+"([^"]*)"\s*;/.exec(body)?.[1];
  if (!alg) throw keyError(path, `key "${name}" has no algorithm`);
  const algorithm = (alg === 'hmac-md5.sig-alg.reg.int' ? 'hmac-md5' : alg) as TsigAlgorithm;
  if (!(algorithm in TSIG_ALGORITHMS))
    throw keyError(path, `algorithm ${alg} is not supported (use one of ${Object.keys(TSIG_ALGORITHMS).join(', ')})`);
  if (secret === undefined || !/^[A-Za-z0-9+/=\s]+$/.test(secret)) throw keyError(path, `key "${name}" has no base64 secret`);
  const bytes = Buffer.from(secret.replace(/\s/g, ''), 'base64');
  if (bytes.length === 0) throw keyError(path, `key "${name}" has an empty secret`);
  return { name, algorithm, secret: bytes };
}

export function readTsigKeyFile(path: string): TsigKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw keyError(path, `cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parseTsigKeyFile(text, path);
}

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

interface TsigFields {
  readonly keyName: string;
  readonly algorithm: string;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

/** RFC 8945 §4.3.3: the TSIG fields the MAC covers, names in canonical (lowercase) wire form. */
function variables(t: TsigFields): Buffer {
  return Buffer.concat([
    wireName.encode(t.keyName.toLowerCase()),
    u16(CLASS_ANY),
    Buffer.alloc(4),
    wireName.encode(t.algorithm.toLowerCase()),
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

function tsigRecord(t: TsigFields): Buffer {
  const rdata = Buffer.concat([
    wireName.encode(t.algorithm),
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
  head.writeUInt16BE(TYPE_TSIG, 0);
  head.writeUInt16BE(CLASS_ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([wireName.encode(t.keyName), head, rdata]);
}

export interface SignedRequest {
  readonly message: Buffer;
  /** The request MAC: the response's MAC covers it (RFC 8945 §5.3). */
  readonly mac: Buffer;
}

/** Appends a TSIG RR to a complete, unsigned message (its ARCOUNT is raised by one). */
export function signRequest(message: Buffer, key: TsigKey, nowSeconds = Math.floor(Date.now() / 1000)): SignedRequest {
  const fields = {
    keyName: key.name,
    algorithm: TSIG_ALGORITHMS[key.algorithm].wire,
    timeSigned: nowSeconds,
    fudge: FUDGE,
    originalId: message.readUInt16BE(0),
    error: 0,
    other: Buffer.alloc(0),
  };
  const mac = hmac(key, message, variables({ ...fields, mac: Buffer.alloc(0) }));
  const out = Buffer.concat([message, tsigRecord({ ...fields, mac })]);
  out.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { message: out, mac };
}

/** Skips one RR and returns the offset after it. */
function skipRecord(buf: Buffer, offset: number): number {
  wireName.decode(buf, offset);
  const at = offset + wireName.decode.bytes;
  return at + 10 + buf.readUInt16BE(at + 8);
}

interface FoundTsig {
  readonly start: number;
  readonly fields: TsigFields;
}

/** The TSIG RR, which RFC 8945 §5.1 requires to be the last additional record. */
function findTsig(buf: Buffer): FoundTsig | undefined {
  const [qd, an, ns, ar] = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  if (ar === 0) return undefined;
  let offset = 12;
  for (let i = 0; i < qd; i++) {
    wireName.decode(buf, offset);
    offset += wireName.decode.bytes + 4;
  }
  for (let i = 0; i < an + ns + ar - 1; i++) offset = skipRecord(buf, offset);
  const start = offset;
  const keyName = wireName.decode(buf, offset);
  offset += wireName.decode.bytes;
  if (buf.readUInt16BE(offset) !== TYPE_TSIG) return undefined;
  offset += 10;
  const algorithm = wireName.decode(buf, offset);
  offset += wireName.decode.bytes;
  const timeSigned = buf.readUIntBE(offset, 6);
  const fudge = buf.readUInt16BE(offset + 6);
  const macLen = buf.readUInt16BE(offset + 8);
  offset += 10;
  const mac = buf.subarray(offset, offset + macLen);
  offset += macLen;
  const originalId = buf.readUInt16BE(offset);
  const error = buf.readUInt16BE(offset + 2);
  const otherLen = buf.readUInt16BE(offset + 4);
  const other = buf.subarray(offset + 6, offset + 6 + otherLen);
  if (offset + 6 + otherLen > buf.length) throw new RangeError('TSIG RR runs past the message');
  return { start, fields: { keyName, algorithm, timeSigned, fudge, mac, originalId, error, other } };
}

export type TsigVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'unsigned' | 'malformed' | 'wrong-key' | 'bad-mac' | 'bad-time' }
  /** The server rejected our signature: its TSIG carries the error (BADKEY, BADSIG, BADTIME). */
  | { readonly ok: false; readonly reason: 'server-error'; readonly error: string };

/** Verifies a response to a request signed with `requestMac` (RFC 8945 §5.3.1, §5.4). */
export function verifyResponse(response: Buffer, key: TsigKey, requestMac: Buffer, nowSeconds = Math.floor(Date.now() / 1000)): TsigVerdict {
  let found: FoundTsig | undefined;
  try {
    found = findTsig(response);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!found) return { ok: false, reason: 'unsigned' };
  const t = found.fields;
  if (t.error !== 0) return { ok: false, reason: 'server-error', error: TSIG_ERRORS[t.error] ?? `TSIG error ${t.error}` };
  if (t.keyName.toLowerCase() !== key.name || t.algorithm.toLowerCase() !== TSIG_ALGORITHMS[key.algorithm].wire)
    return { ok: false, reason: 'wrong-key' };
  const unsigned = Buffer.from(response.subarray(0, found.start));
  unsigned.writeUInt16BE(t.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const expected = hmac(key, u16(requestMac.length), requestMac, unsigned, variables(t));
  // Truncated MACs (RFC 8945 §5.2.2.1) are never asked for, so only a full-length MAC is valid.
  if (t.mac.length !== expected.length || !timingSafeEqual(t.mac, expected)) return { ok: false, reason: 'bad-mac' };
  if (Math.abs(nowSeconds - t.timeSigned) > t.fudge) return { ok: false, reason: 'bad-time' };
  return { ok: true };
}
