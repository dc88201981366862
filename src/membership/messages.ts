import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The peer protocol's wire format. Byte 0 is magic (high nibble 0xD) plus protocol version (low
 * nibble), byte 1 the message type; the last 32 bytes are HMAC-SHA256 over everything before them.
 * Message types are append-only with explicit numbers: a new type gets a new number, an old number
 * never changes meaning. An unknown type is dropped and counted, never fatal.
 *
 * Heartbeat (type 1), after the two header bytes:
 *   u64 incarnation · u32 sequence · u8 flags (bit 0: node healthy)
 *   str sender · str configHash
 *   u8 n · n × (str node · u8 flags (bit 0: ever heard, bits 1–2: verdict) · u32 ageMs)
 *   u8 m · m × (str service · u8 healthy)
 *   u32 zoneSerial (the SOA serial the sender serves: agents converge on the highest)
 *   32 bytes HMAC
 * where str is u8 length + ASCII. Peers are named, not numbered, so a peer whose node list differs
 * during a config rollout still reports meaningful rows.
 */

const MAGIC = 0xd0;
export const PROTOCOL_VERSION = 1;
/** The versions this build accepts; widen MIN only when dropping support for old peers. */
export const MIN_VERSION = 1;
export const MAX_VERSION = 1;

export const MessageType = { Heartbeat: 1 } as const;

const MAC_LENGTH = 32;
const HEADER_LENGTH = 2;
/** Far above any real heartbeat (~20 bytes per node); bounds the HMAC work garbage can cause. */
export const MAX_MESSAGE_LENGTH = 4096;
const NAME = /^[a-z0-9_][a-z0-9_-]{0,62}$/;
const HASH = /^[0-9a-zA-Z]{1,64}$/;
const MAX_AGE = 0xffffffff;

export type RejectReason = 'short' | 'version' | 'type' | 'hmac' | 'unknown-sender' | 'replay' | 'malformed';
export const REJECT_REASONS: readonly RejectReason[] = ['short', 'version', 'type', 'hmac', 'unknown-sender', 'replay', 'malformed'];

/** The sender's verdict on a node; on the wire 0, 1, 2 (3 is malformed). */
export type Verdict = 'unknown' | 'up' | 'down';
const VERDICTS: readonly Verdict[] = ['unknown', 'up', 'down'];

/** What one node heard of another: `ageMs` since it last heard it, or since it started if never. */
export interface Observation {
  readonly everHeard: boolean;
  readonly ageMs: number;
  /** The observer's verdict on the node, so an agent that (re)joins can adopt a running hold-down. */
  readonly verdict: Verdict;
}

export interface Heartbeat {
  readonly type: 'heartbeat';
  readonly sender: string;
  /** Boot id: changes on every start, so sequence numbers restart safely. */
  readonly incarnation: bigint;
  readonly sequence: number;
  readonly configHash: string;
  readonly nodeHealthy: boolean;
  readonly heard: ReadonlyMap<string, Observation>;
  readonly services: ReadonlyMap<string, boolean>;
  readonly zoneSerial: number;
}

export type Message = Heartbeat;

export type DecodeResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly reason: RejectReason };

export function encodeHeartbeat(h: Omit<Heartbeat, 'type' | 'zoneSerial'> & { zoneSerial?: number }, secret: string): Buffer {
  const names = [h.sender, h.configHash, ...h.heard.keys(), ...h.services.keys()];
  for (const n of names) if (n.length > 255 || !/^[\x20-\x7e]*$/.test(n)) throw new TypeError(`cannot encode name ${JSON.stringify(n)}`);
  if (h.heard.size > 255 || h.services.size > 255) throw new TypeError('at most 255 nodes and 255 services');
  const body =
    HEADER_LENGTH + 8 + 4 + 1 + (1 + h.sender.length) + (1 + h.configHash.length) + 1 + [...h.heard.keys()].reduce((s, n) => s + 1 + n.length + 5, 0) + 1 + [...h.services.keys()].reduce((s, n) => s + 1 + n.length + 1, 0) + 4;
  const buf = Buffer.alloc(body + MAC_LENGTH);
  let o = 0;
  buf[o++] = MAGIC | PROTOCOL_VERSION;
  buf[o++] = MessageType.Heartbeat;
  buf.writeBigUInt64BE(BigInt.asUintN(64, h.incarnation), o);
  o += 8;
  buf.writeUInt32BE(h.sequence >>> 0, o);
  o += 4;
  buf[o++] = h.nodeHealthy ? 1 : 0;
  o = writeString(buf, o, h.sender);
  o = writeString(buf, o, h.configHash);
  buf[o++] = h.heard.size;
  for (const [node, obs] of h.heard) {
    o = writeString(buf, o, node);
    buf[o++] = (obs.everHeard ? 1 : 0) | (VERDICTS.indexOf(obs.verdict) << 1);
    buf.writeUInt32BE(Math.min(MAX_AGE, Math.max(0, Math.round(obs.ageMs))), o);
    o += 4;
  }
  buf[o++] = h.services.size;
  for (const [service, healthy] of h.services) {
    o = writeString(buf, o, service);
    buf[o++] = healthy ? 1 : 0;
  }
  buf.writeUInt32BE((h.zoneSerial ?? 0) >>> 0, o);
  o += 4;
  mac(secret, buf.subarray(0, o)).copy(buf, o);
  return buf;
}

/**
 * Any byte string → a message or the reason it was rejected; never throws. Checks run cheapest
 * first, and nothing past the header is read before the HMAC holds.
 */
export function decode(bytes: Uint8Array, secret: string, isKnownNode: (name: string) => boolean): DecodeResult {
  try {
    return decodeUnsafe(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), secret, isKnownNode);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

function decodeUnsafe(buf: Buffer, secret: string, isKnownNode: (name: string) => boolean): DecodeResult {
  if (buf.length < HEADER_LENGTH + MAC_LENGTH) return reject('short');
  const version = buf[0] & 0x0f;
  if ((buf[0] & 0xf0) !== MAGIC || version < MIN_VERSION || version > MAX_VERSION) return reject('version');
  if (buf.length > MAX_MESSAGE_LENGTH) return reject('malformed');
  const signed = buf.subarray(0, buf.length - MAC_LENGTH);
  if (!timingSafeEqual(mac(secret, signed), buf.subarray(buf.length - MAC_LENGTH))) return reject('hmac');
  if (buf[1] !== MessageType.Heartbeat) return reject('type');

  const r = new Reader(signed, HEADER_LENGTH);
  const incarnation = r.u64();
  const sequence = r.u32();
  const healthFlags = r.u8();
  const sender = r.str(NAME);
  const configHash = r.str(HASH);
  const heard = new Map<string, Observation>();
  for (let n = r.u8(); n > 0; n--) {
    const node = r.str(NAME);
    const flags = r.u8();
    const verdict = VERDICTS[(flags >> 1) & 3];
    if (verdict === undefined || flags > 7) return reject('malformed');
    heard.set(node, { everHeard: (flags & 1) === 1, ageMs: r.u32(), verdict });
  }
  const services = new Map<string, boolean>();
  for (let n = r.u8(); n > 0; n--) {
    const service = r.str(NAME);
    services.set(service, (r.u8() & 1) === 1);
  }
  const zoneSerial = r.u32();
  if (!r.atEnd()) return reject('malformed');
  if (!isKnownNode(sender)) return reject('unknown-sender');
  return {
    ok: true,
    message: { type: 'heartbeat', sender, incarnation, sequence, configHash, nodeHealthy: (healthFlags & 1) === 1, heard, services, zoneSerial },
  };
}

function reject(reason: RejectReason): DecodeResult {
  return { ok: false, reason };
}

function mac(secret: string, data: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

function writeString(buf: Buffer, o: number, s: string): number {
  buf[o++] = s.length;
  buf.write(s, o, 'latin1');
  return o + s.length;
}

class Malformed extends Error {}

/** Bounds-checked reads; any overrun or bad string throws Malformed, which decode() turns into 'malformed'. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    private o: number,
  ) {}
  private need(n: number): void {
    if (this.o + n > this.buf.length) throw new Malformed();
  }
  u8(): number {
    this.need(1);
    return this.buf[this.o++];
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.o);
    this.o += 8;
    return v;
  }
  str(pattern: RegExp): string {
    const len = this.u8();
    this.need(len);
    const s = this.buf.toString('latin1', this.o, this.o + len);
    this.o += len;
    if (!pattern.test(s)) throw new Malformed();
    return s;
  }
  atEnd(): boolean {
    return this.o === this.buf.length;
  }
}
