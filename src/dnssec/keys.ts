import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { DNSKEY_PROTOCOL, DnskeyFlag } from '../wire/constants';
import { nameToWire } from '../wire/name';
import type { Dnskey, Ds } from '../wire/records';
import { MessageWriter } from '../wire/writer';

/**
 * DNSSEC keys in BIND's file format (`K<zone>.+<alg>+<tag>.key` and `.private`, as `dnssec-keygen`
 * writes them), so keys move freely between clusterdns and BIND's tools. Pure: text in, text out;
 * reading the files is the caller's business.
 */

export const Algorithm = { ECDSAP256SHA256: 13, ED25519: 15 } as const;
export type AlgorithmNumber = (typeof Algorithm)[keyof typeof Algorithm];
const ALGORITHM_NAMES: Record<AlgorithmNumber, string> = { 13: 'ECDSAP256SHA256', 15: 'ED25519' };
const PUBLIC_KEY_LENGTH: Record<AlgorithmNumber, number> = { 13: 64, 15: 32 };
/** DS digest type 2 (RFC 4509): the one every resolver supports and the only one we publish. */
export const DIGEST_SHA256 = 2;

/** The timing metadata BIND keeps in `.private` (seconds since the epoch): when a key is published and signs. */
export interface KeyTiming {
  readonly created?: number;
  readonly publish?: number;
  readonly activate?: number;
  readonly inactive?: number;
  readonly delete?: number;
}

/** A key pair as plain data (base64 strings, so a frozen config can hold and hash it). */
export interface KeyFiles {
  readonly zone: string;
  readonly flags: number;
  readonly algorithm: AlgorithmNumber;
  /** DNSKEY public key field, base64. */
  readonly publicKey: string;
  /** The private key as BIND writes it (the scalar for ECDSA, the seed for Ed25519), base64. */
  readonly privateKey: string;
  readonly timing: KeyTiming;
}

export class KeyFormatError extends Error {}

export function dnskeyOf(k: KeyFiles): Dnskey {
  return { flags: k.flags, protocol: DNSKEY_PROTOCOL, algorithm: k.algorithm, publicKey: Buffer.from(k.publicKey, 'base64') };
}

export function isSep(k: { flags: number }): boolean {
  return (k.flags & DnskeyFlag.SEP) !== 0;
}

/** RFC 4034 appendix B (algorithm 1 aside, which we do not support). */
export function keyTag(key: Dnskey): number {
  const rdata = new MessageWriter(64, true).rdata({ type: 48, key }).slice(0);
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** DS with SHA-256 (RFC 4034 §5.1.4): digest of the owner's canonical wire name and the DNSKEY RDATA. */
export function dsOf(zone: string, key: Dnskey): Ds {
  const rdata = new MessageWriter(64, true).rdata({ type: 48, key }).slice(0);
  const digest = createHash('sha256').update(nameToWire(zone)).update(rdata).digest();
  return { keyTag: keyTag(key), algorithm: key.algorithm, digestType: DIGEST_SHA256, digest };
}

/** `K<zone>.+<alg>+<tag>`, BIND's base name (zero-padded). */
export function baseName(k: KeyFiles): string {
  return `K${k.zone}.+${String(k.algorithm).padStart(3, '0')}+${String(keyTag(dnskeyOf(k))).padStart(5, '0')}`;
}

export function generateKey(zone: string, algorithm: AlgorithmNumber, flags: number, timing: KeyTiming): KeyFiles {
  const jwk =
    algorithm === Algorithm.ED25519
      ? generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const pub = algorithm === Algorithm.ED25519 ? fromB64url(jwk.x!) : Buffer.concat([fromB64url(jwk.x!), fromB64url(jwk.y!)]);
  return { zone, flags, algorithm, publicKey: pub.toString('base64'), privateKey: fromB64url(jwk.d!).toString('base64'), timing };
}

/** The private key as a node:crypto key; throws KeyFormatError when it does not match the public key. */
export function privateKeyObject(k: KeyFiles): KeyObject {
  const pub = Buffer.from(k.publicKey, 'base64');
  const d = Buffer.from(k.privateKey, 'base64');
  const jwk =
    k.algorithm === Algorithm.ED25519
      ? { kty: 'OKP', crv: 'Ed25519', x: b64url(pub), d: b64url(d) }
      : { kty: 'EC', crv: 'P-256', x: b64url(pub.subarray(0, 32)), y: b64url(pub.subarray(32)), d: b64url(d) };
  const { d: _d, ...publicJwk } = jwk;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    // Node 24 checks an EC JWK's pair itself ("Invalid JWK EC key"): with a valid public key and a
    // private scalar of the right size, that is a key of another pair, as the signature says below.
    if (d.length === 32 && validPublic(publicJwk)) throw new KeyFormatError('the private key does not belong to the public key in the .key file');
    throw new KeyFormatError(`the private key is not a valid ${ALGORITHM_NAMES[k.algorithm]} key (${(e as Error).message})`);
  }
  // Node before 24 takes the JWK's public part as given: prove the pair by a signature.
  const probe = Buffer.from('clusterdns key pair check');
  const hash = k.algorithm === Algorithm.ED25519 ? null : 'sha256';
  const pair = cryptoVerify(hash, probe, createPublicKey({ key: publicJwk, format: 'jwk' }), cryptoSign(hash, probe, key));
  if (!pair) throw new KeyFormatError('the private key does not belong to the public key in the .key file');
  return key;
}

function validPublic(jwk: NodeJS.Dict<unknown>): boolean {
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
}

/** Parses the two files of one key. Throws KeyFormatError with what is wrong. */
export function parseKeyFiles(keyText: string, privateText: string): KeyFiles {
  const rr = keyText
    .split('\n')
    .map((l) => l.replace(/;.*$/, '').trim())
    .find((l) => /\sDNSKEY\s/i.test(l));
  if (!rr) throw new KeyFormatError('the .key file holds no DNSKEY record');
  const fields = rr.split(/\s+/);
  const at = fields.findIndex((f) => f.toUpperCase() === 'DNSKEY');
  const [flagsText, protocolText, algText, ...keyParts] = fields.slice(at + 1);
  const zone = fields[0].toLowerCase().replace(/\.$/, '');
  const flags = Number(flagsText);
  const algorithm = Number(algText);
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff || (flags & DnskeyFlag.ZONE) === 0)
    throw new KeyFormatError(`DNSKEY flags ${flagsText} are not a zone key's (256 or 257)`);
  if (Number(protocolText) !== DNSKEY_PROTOCOL) throw new KeyFormatError(`DNSKEY protocol ${protocolText} is not 3`);
  if (algorithm !== Algorithm.ECDSAP256SHA256 && algorithm !== Algorithm.ED25519)
    throw new KeyFormatError(`algorithm ${algText} is not supported — use 13 (ECDSAP256SHA256) or 15 (ED25519)`);
  const publicKey = Buffer.from(keyParts.join(''), 'base64');
  if (publicKey.length !== PUBLIC_KEY_LENGTH[algorithm])
    throw new KeyFormatError(`the public key is ${publicKey.length} bytes, algorithm ${algorithm} has ${PUBLIC_KEY_LENGTH[algorithm]}`);

  const fieldsOfPrivate = new Map<string, string>();
  for (const line of privateText.split('\n')) {
    const m = /^([A-Za-z-]+):\s*(.*?)\s*$/.exec(line);
    if (m) fieldsOfPrivate.set(m[1].toLowerCase(), m[2]);
  }
  if (!fieldsOfPrivate.has('private-key-format')) throw new KeyFormatError('the .private file has no Private-key-format line');
  const privAlg = Number((fieldsOfPrivate.get('algorithm') ?? '').split(/\s/)[0]);
  if (privAlg !== algorithm) throw new KeyFormatError(`the .private file is for algorithm ${privAlg}, the .key file for ${algorithm}`);
  const privateKey = fieldsOfPrivate.get('privatekey');
  if (!privateKey) throw new KeyFormatError('the .private file has no PrivateKey line');
  const time = (name: string): number | undefined => {
    const v = fieldsOfPrivate.get(name);
    if (v === undefined) return undefined;
    const t = parseKeyTime(v);
    if (t === undefined) throw new KeyFormatError(`${name}: ${v} is not a time as YYYYMMDDHHMMSS`);
    return t;
  };
  const timing: KeyTiming = {
    created: time('created'),
    publish: time('publish'),
    activate: time('activate'),
    inactive: time('inactive'),
    delete: time('delete'),
  };
  const k: KeyFiles = { zone, flags, algorithm, publicKey: publicKey.toString('base64'), privateKey, timing: dropUndefined(timing) };
  privateKeyObject(k);
  return k;
}

/** The `.key` and `.private` texts, as `dnssec-keygen` writes them. */
export function formatKeyFiles(k: KeyFiles): { key: string; private: string } {
  const tag = keyTag(dnskeyOf(k));
  const kind = isSep(k) ? 'key-signing' : 'zone-signing';
  const times = (['created', 'publish', 'activate', 'inactive', 'delete'] as const).filter((n) => k.timing[n] !== undefined);
  const title = (n: string) => n[0].toUpperCase() + n.slice(1);
  const key = [
    `; This is a ${kind} key, keyid ${tag}, for ${k.zone}.`,
    ...times.map((n) => `; ${title(n)}: ${formatKeyTime(k.timing[n]!)} (${new Date(k.timing[n]! * 1000).toUTCString()})`),
    `${k.zone}. IN DNSKEY ${k.flags} ${DNSKEY_PROTOCOL} ${k.algorithm} ${k.publicKey}`,
    '',
  ].join('\n');
  const priv = [
    'Private-key-format: v1.3',
    `Algorithm: ${k.algorithm} (${ALGORITHM_NAMES[k.algorithm]})`,
    `PrivateKey: ${k.privateKey}`,
    ...times.map((n) => `${title(n)}: ${formatKeyTime(k.timing[n]!)}`),
    '',
  ].join('\n');
  return { key, private: priv };
}

export function parseKeyTime(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(s.trim());
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(t) ? undefined : t / 1000;
}

export function formatKeyTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** BIND's key states reduced to the two that matter here: in the DNSKEY RRset, and signing. */
export function isPublished(t: KeyTiming, now: number): boolean {
  return (t.publish === undefined || t.publish <= now) && (t.delete === undefined || now < t.delete);
}

export function isActive(t: KeyTiming, now: number): boolean {
  return isPublished(t, now) && (t.activate === undefined || t.activate <= now) && (t.inactive === undefined || now < t.inactive);
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function fromB64url(s: string): Buffer {
  return Buffer.from(s, 'base64url');
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
