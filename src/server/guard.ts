import { parseIPv4, parseIPv6, parsePrefix, type Prefix } from '../net/prefix';
import type { QueryParser } from '../wire/query';
import { siphash24 } from './siphash';
import type { QueryStats } from './stats';

/**
 * The decide step between parse and lookup (DESIGN.md): DNS cookies (RFC 7873, server cookies as
 * RFC 9018 builds them) and response-rate limiting (RRL, as BIND and NSD do it). The Responder asks
 * `admit` after parsing and, for a UDP answer from a client without a valid server cookie, `limit`
 * once the answer is built: RRL counts responses by what they say, so it reads the answer's header.
 */

export interface RateLimitConfig {
  /** Identical responses per second one client prefix gets; 0 turns rate limiting off. */
  readonly responsesPerSecond: number;
  /** Every slip-th response over the limit goes out truncated (TC=1) instead of dropped; 0: none. */
  readonly slip: number;
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  /** Client prefixes (CIDR) never limited. */
  readonly exempt: readonly string[];
}

export interface GuardOptions {
  readonly rateLimit: RateLimitConfig;
  /**
   * The cookie keys (cookie-keys.ts), first one first: cookies are made under the first, accepted
   * under any. Keys, not secrets: this file runs in the answer threads, which do not load node:crypto.
   */
  readonly keys: readonly Uint8Array[];
  /** Milliseconds since the epoch; RFC 9018 timestamps are wall-clock seconds. */
  readonly now?: () => number;
  /**
   * Milliseconds on a monotonic scale, for the rate table's refill (default: `now` when given, else
   * performance.now()). Never the wall clock: a clock stepped back would stop the refill, and every
   * answer to every client would be limited until it caught up again.
   */
  readonly monotonic?: () => number;
  /** Slots in the rate table (a power of two). */
  readonly tableSize?: number;
}

export const enum Cookie {
  /** No COOKIE option. */
  None = 0,
  /** A client cookie, with no server cookie or one that is not ours, or stale (RFC 7873 §5.2.3–4). */
  ClientOnly = 1,
  /** A server cookie this cluster made for this client, in date: the client is not rate limited. */
  Valid = 2,
}

export const enum Limit {
  Answer = 0,
  Drop = 1,
  /** Send a small answer that makes a real client retry: TC=1, or BADCOOKIE to a cookie client. */
  Slip = 2,
}

/** RFC 9018 §4.3: a server cookie is good from 5 minutes ahead of our clock to 1 hour behind it. */
const COOKIE_MAX_AGE_S = 3600;
const COOKIE_MAX_AHEAD_S = 300;
const DEFAULT_TABLE_SIZE = 1 << 16;

/** RRL response classes (BIND's and NSD's): what an identical response is. */
const enum Kind {
  /** An answer: per (name, type). */
  Answer = 1,
  /** NODATA: per name, whatever the type. */
  NoData = 2,
  /** NXDOMAIN: per zone, whatever the name; one zone, so one identity. */
  NxDomain = 3,
  /** Any other rcode (REFUSED, FORMERR, ...): one identity per prefix. */
  Error = 4,
}

export class Guard {

  /** Client cookie and our fresh server cookie, the option data the answer carries. */
  readonly cookie = Buffer.alloc(24);
  private readonly keys: readonly Uint8Array[];
  private readonly hashInput = Buffer.alloc(32);
  private readonly now: () => number;
  private readonly elapsed: () => number;

  private readonly rate: number;
  private readonly slip: number;
  private readonly masks: Uint32Array; // v4 mask, then 4 v6 word masks
  private readonly exempt: Prefix[];
  private readonly mask: number;
  private readonly check: Uint32Array;
  private readonly credit: Float64Array;
  private readonly stamp: Float64Array;
  private readonly slips: Uint8Array;

  /** The query's source as 1 (IPv4) or 4 (IPv6) big-endian words, and its byte length. */
  private readonly src = new Uint32Array(4);
  private srcLen = 0;

  constructor(
    opts: GuardOptions,
    private readonly stats: Pick<QueryStats, 'rateLimited' | 'cookies'>,
  ) {
    if (opts.keys.length === 0 || opts.keys.some((k) => k.length !== 16)) throw new Error('cookie keys: at least one, of 16 bytes each');
    this.keys = opts.keys;
    this.now = opts.now ?? Date.now;
    this.elapsed = opts.monotonic ?? opts.now ?? (() => performance.now());
    const rl = opts.rateLimit;
    this.rate = rl.responsesPerSecond;
    this.slip = rl.slip;
    this.masks = new Uint32Array(5);
    this.masks[0] = prefixWord(rl.ipv4PrefixLength);
    for (let i = 0; i < 4; i++) this.masks[1 + i] = prefixWord(rl.ipv6PrefixLength - 32 * i);
    this.exempt = rl.exempt.map(parsePrefix);
    const size = this.rate > 0 ? (opts.tableSize ?? DEFAULT_TABLE_SIZE) : 1;
    this.mask = size - 1;
    this.check = new Uint32Array(size);
    this.credit = new Float64Array(size);
    this.stamp = new Float64Array(size);
    this.slips = new Uint8Array(size);
  }

  get limiting(): boolean {
    return this.rate > 0;
  }

  /** Reads the source address and the query's COOKIE option; fills `cookie` when there is one. */
  admit(query: Buffer, p: QueryParser, source: string): Cookie {
    if (p.cookieLen === 0) {
      // The source matters to the rate table only; without it, the query costs nothing here.
      if (this.rate > 0) this.readSource(source);
      return Cookie.None;
    }
    this.readSource(source);
    const at = p.cookieStart;
    query.copy(this.cookie, 0, at, at + 8);
    const nowS = Math.floor(this.now() / 1000);
    let valid = false;
    // Ours is version 1 with reserved zero, 16 bytes (RFC 9018 §4.2); any other is not ours.
    if (p.cookieLen === 24 && query[at + 8] === 1 && query[at + 9] === 0 && query[at + 10] === 0 && query[at + 11] === 0) {
      const ts = query.readUInt32BE(at + 12);
      const age = nowS - ts;
      if (age <= COOKIE_MAX_AGE_S && age >= -COOKIE_MAX_AHEAD_S) {
        for (let k = 0; k < this.keys.length && !valid; k++) valid = this.hashMatches(this.keys[k], query, at, query, at + 16);
      }
    }
    // A fresh cookie every time: always in date, and always under the first (sending) secret.
    this.cookie[8] = 1;
    this.cookie[9] = 0;
    this.cookie[10] = 0;
    this.cookie[11] = 0;
    this.cookie.writeUInt32BE(nowS >>> 0, 12);
    this.hash(this.keys[0], this.cookie, 0, this.cookie, 16);
    if (valid) this.stats.cookies.valid++;
    else this.stats.cookies.clientOnly++;
    return valid ? Cookie.Valid : Cookie.ClientOnly;
  }

  /**
   * Counts the built answer `out` against its client prefix and identity: a token bucket of
   * `responsesPerSecond` per (prefix, identity) in a fixed table, so a flood from spoofed sources
   * overwrites slots instead of growing memory.
   */
  limit(out: Buffer, p: QueryParser): Limit {
    const rcode = out[3] & 0xf;
    const kind = rcode === 0 ? (out[6] | out[7] ? Kind.Answer : Kind.NoData) : rcode === 3 ? Kind.NxDomain : Kind.Error;
    let h = Math.imul(kind, 0x9e3779b1);
    if (kind <= Kind.NoData) h = mix(h, p.qhash);
    if (kind === Kind.Answer) h = mix(h, p.qtype);
    const s = this.src;
    if (this.srcLen === 4) h = mix(h, s[0] & this.masks[0]);
    else for (let i = 0; i < 4; i++) h = mix(h ^ 0x6b, s[i] & this.masks[1 + i]);
    const slot = h & this.mask;
    const check = (mix(h, 0x85ebca6b) | 1) >>> 0;
    const now = this.elapsed();
    if (this.check[slot] !== check) {
      this.check[slot] = check;
      this.credit[slot] = this.rate;
      this.slips[slot] = 0;
    } else {
      this.credit[slot] = Math.min(this.rate, this.credit[slot] + ((now - this.stamp[slot]) * this.rate) / 1000);
    }
    this.stamp[slot] = now;
    if (this.credit[slot] >= 1) {
      this.credit[slot] -= 1;
      return Limit.Answer;
    }
    if (this.isExempt()) return Limit.Answer;
    if (this.slip > 0 && ++this.slips[slot] >= this.slip) {
      this.slips[slot] = 0;
      this.stats.rateLimited.slipped++;
      return Limit.Slip;
    }
    this.stats.rateLimited.dropped++;
    return Limit.Drop;
  }

  private isExempt(): boolean {
    const v6 = this.srcLen === 16;
    for (const e of this.exempt) {
      if (e.v6 !== v6) continue;
      let match = true;
      for (let i = 0; i < (v6 ? 4 : 1) && match; i++) {
        const m = prefixWord(e.bits - 32 * i);
        match = ((this.src[i] ^ e.words[i]) & m) === 0;
      }
      if (match) return true;
    }
    return false;
  }

  private hash(key: Uint8Array, from: Buffer, at: number, out: Buffer, outAt: number): void {
    cookieHash(key, from, at, this.src, this.srcLen, this.hashInput, out, outAt);
  }

  private readonly computed = Buffer.alloc(8);

  private hashMatches(key: Uint8Array, from: Buffer, at: number, given: Buffer, givenAt: number): boolean {
    this.hash(key, from, at, this.computed, 0);
    // Not secret-dependent timing worth hiding: a forger learns nothing from a 16-bit early exit
    // that the cookie's own 64-bit space does not already make hopeless; compare all bytes anyway.
    let diff = 0;
    for (let i = 0; i < 8; i++) diff |= this.computed[i] ^ given[givenAt + i];
    return diff === 0;
  }

  private readSource(source: string): void {
    const s = this.src;
    if (parseIPv4(source, s)) this.srcLen = 4;
    else if (parseIPv6(source, s)) this.srcLen = 16;
    else {
      // No usable address (in-process callers): one anonymous source.
      s.fill(0);
      this.srcLen = 4;
    }
  }
}

/**
 * RFC 9018 §4.4: SipHash-2-4 under `key` over client cookie | version | reserved | timestamp (the
 * 16 bytes at `from[at..]`) | client IP (`ip` as big-endian words, `ipLen` 4 or 16 bytes), into
 * `out[outAt..]` (8 bytes). `scratch` holds the input (32 bytes).
 */
export function cookieHash(key: Uint8Array, from: Buffer, at: number, ip: Uint32Array, ipLen: number, scratch: Buffer, out: Uint8Array, outAt: number): void {
  from.copy(scratch, 0, at, at + 16);
  for (let i = 0; i < ipLen / 4; i++) scratch.writeUInt32BE(ip[i], 16 + 4 * i);
  siphash24(key, scratch, 0, 16 + ipLen, out, outAt);
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x01000193);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

/** The mask of the first `bits` bits of a 32-bit word (bits ≤ 0: none, ≥ 32: all). */
export function prefixWord(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}
