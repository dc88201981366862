import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The peer protocol's wire format. Byte 0 is magic (high nibble 0xD) plus protocol version (low
 * nibble), byte 1 the message type; the last 32 bytes are HMAC-SHA256 over everything before them.
 * Message types are append-only with explicit numbers: a new type gets a new number, an old number
 * never changes meaning. An unknown type is dropped and counted, never fatal.
 *
 * Heartbeat (type 1, version 2), after the two header bytes:
 *   u64 incarnation (random boot id) · u32 sequence · u8 flags (bit 0: node healthy)
 *   id sender · str configHash
 *   u8 n · n × (id node · u8 flags · u16 age · [u32 boot tag · u32 sequence])
 *   u8 m · m × (id service · u8 healthy)
 *   u32 zoneSerial (the SOA serial the sender serves: agents converge on the highest)
 *   32 bytes HMAC
 * where str is u8 length + ASCII, id is the u32 FNV-1a hash of a node or service name (config
 * validation rejects two names with one id), and a row entry's flags are bit 0 ever heard, bits 1–2
 * the sender's verdict, bit 3 an echo follows: the node's boot tag (low 32 bits of its incarnation)
 * and the last sequence the sender accepted from it, its proof that this heartbeat is not older
 * than that node's own message (see replay.ts). Only the recipient reads an echo (its own), so an
 * agent sends each peer its own copy with that peer's echo alone (`encodeHeartbeats`); a receiver
 * decodes it as any version 2 heartbeat, echoes being optional per entry. Ids instead of names, and
 * one echo instead of one per node, keep a heartbeat of `MAX_NODES` nodes under 1,200 bytes whatever
 * the names, so it never fragments; a peer whose node list differs during a config rollout still
 * reports rows for every node both configs name.
 *
 * Version 1 (names, wall-clock incarnations, no echoes) cannot prove a new boot fresh, so this
 * build does not accept it: during a rolling upgrade the upgraded and the old nodes do not hear each
 * other, and whichever side holds a majority serves.
 *
 * Compatibility from version 2 on (N and N−1 in both directions, so a rolling upgrade or a rollback
 * keeps every node in one cluster):
 * - A build whose newest version is N decodes N and N−1 (MIN_VERSION = N − 1; version 2 is the first,
 *   so MIN_VERSION stays 2 until a version 3 exists). Version 1 is the one exception, above.
 * - Every heartbeat says the newest version its sender decodes, in bits 4–7 of the health flags
 *   (`speaks`; 0 means 2: builds from before this rule, which leave those bits 0). Version 2
 *   decoders read bit 0 only, so the field costs old peers nothing.
 * - A sender writes each peer's copy in `versionFor(peer's speaks)`: the newest version both decode,
 *   and MIN_VERSION (N−1) to a peer not heard yet, whose first heartbeat then says what it speaks.
 *   Two upgraded nodes thus move to N after one exchange, and an old node is never sent N.
 * - What version N adds must be optional in meaning: a peer speaking N−1 lacks it and is judged
 *   on what N−1 carries. A config hash or feature set that differs during the rollout is reported
 *   (clusterdns_config_mismatch), never a reason to drop a peer's heartbeats.
 * - One step at a time: N+1 does not decode N−1, so a rollout finishes before the next one begins.
 *   A release that changes the wire bumps PROTOCOL_VERSION, says so in CHANGELOG.md, and adds a
 *   test that decodes the previous release's recorded heartbeats.
 */

const MAGIC = 0xd0;
export const PROTOCOL_VERSION = 2;
/** The versions this build decodes: N−1 and N, once a version 3 exists (see the rule above). */
export const MIN_VERSION = 2;
export const MAX_VERSION = 2;
/** Bits 4–7 of a heartbeat's health flags: the newest version its sender decodes (0: 2). */
const SPEAKS_SHIFT = 4;

/** Offset of a heartbeat's health flags: after the 2-byte header, the u64 incarnation and the u32 sequence. */
const HEALTH_FLAGS_OFFSET = 2 + 8 + 4;

/**
 * The newest version the sender of `bytes` decodes: at least the version it sent. Read it only from
 * a message `decode` accepted (the HMAC vouches for the byte); undefined for anything shorter.
 */
export function speaks(bytes: Uint8Array): number | undefined {
  if (bytes.length <= HEALTH_FLAGS_OFFSET) return undefined;
  return Math.max(bytes[0] & 0x0f, bytes[HEALTH_FLAGS_OFFSET] >> SPEAKS_SHIFT);
}

/** The version to write to a peer that said it decodes up to `speaks` (undefined: not heard yet). */
export function versionFor(speaks: number | undefined): number {
  if (speaks === undefined) return MIN_VERSION;
  return Math.min(MAX_VERSION, Math.max(MIN_VERSION, speaks));
}

export const MessageType = { Heartbeat: 1 } as const;

const MAC_LENGTH = 32;
const HEADER_LENGTH = 2;
/** Bounds the HMAC work garbage can cause; far above any heartbeat this build sends. */
export const MAX_MESSAGE_LENGTH = 4096;
/**
 * What a heartbeat may take: under the path MTU of any real network after IP and UDP headers
 * (IPv6 guarantees 1,280), so it is never fragmented. The config is bounded to fit (see heartbeatBound).
 */
export const MAX_HEARTBEAT_LENGTH = 1200;
/**
 * The most nodes a cluster may have: their heartbeat (one echo, no service) is 1,132 bytes, which
 * leaves room for 13 services; 129 nodes leave room for 43.
 */
const MAX_NODES = 150;
const HASH = /^[0-9a-zA-Z]{1,64}$/;
const ROW_ENTRY_LENGTH = 4 + 1 + 2;
const ECHO_LENGTH = 8;
const SERVICE_LENGTH = 4 + 1;
const ECHO_FLAG = 8;

/**
 * `replay`: already outlived (an old sequence, an earlier boot). `unproven`: a boot not proven
 * fresh, ignored — a recording from before this agent's boot, or a restarted peer's heartbeat
 * while its previous boot is still heard (the handshake itself is not counted).
 */
export type RejectReason = 'short' | 'version' | 'type' | 'hmac' | 'unknown-sender' | 'replay' | 'unproven' | 'malformed';
export const REJECT_REASONS: readonly RejectReason[] = ['short', 'version', 'type', 'hmac', 'unknown-sender', 'replay', 'unproven', 'malformed'];

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

/** The last (boot, sequence) the sender accepted from a node, echoed back to it as proof of freshness. */
export interface Echo {
  /** Low 32 bits of the node's incarnation. */
  readonly boot: number;
  readonly sequence: number;
}

export interface Heartbeat {
  readonly type: 'heartbeat';
  readonly sender: string;
  /** Boot id: random, new on every start; boots are told apart by it, never ordered by it. */
  readonly incarnation: bigint;
  /** Starts at a random value each boot; compared with serial-number arithmetic (replay.ts). */
  readonly sequence: number;
  readonly configHash: string;
  readonly nodeHealthy: boolean;
  readonly heard: ReadonlyMap<string, Observation>;
  /** Per node of `heard` (never for one it does not list): what the sender echoes back to it. */
  readonly echoes: ReadonlyMap<string, Echo>;
  readonly services: ReadonlyMap<string, boolean>;
  readonly zoneSerial: number;
}

export type Message = Heartbeat;

export type DecodeResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly reason: RejectReason };

export type HeartbeatInput = Omit<Heartbeat, 'type' | 'zoneSerial' | 'echoes'> & { zoneSerial?: number; echoes?: ReadonlyMap<string, Echo> };

/** The wire id of a node or service name: FNV-1a, 32 bits. */
function wireId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The names a receiver knows, by wire id: its configured nodes and services. */
export interface WireNames {
  readonly nodes: ReadonlyMap<number, string>;
  readonly services: ReadonlyMap<number, string>;
}

export function wireNames(nodes: Iterable<string>, services: Iterable<string>): WireNames {
  return { nodes: new Map([...nodes].map((n) => [wireId(n), n])), services: new Map([...services].map((s) => [wireId(s), s])) };
}

/**
 * What a config must satisfy for every heartbeat to encode and fit `MAX_HEARTBEAT_LENGTH`:
 * problems as `field: what and why` lines (empty when it fits). `configHashLength` is 16 today.
 */
export function heartbeatBound(nodes: readonly string[], services: readonly string[], configHashLength = 16): string[] {
  const problems: string[] = [];
  const why = `every heartbeat carries one entry per node and per service and must fit one unfragmented UDP datagram (${MAX_HEARTBEAT_LENGTH} bytes)`;
  if (nodes.length > MAX_NODES) problems.push(`nodes: ${nodes.length} nodes, at most ${MAX_NODES} — ${why}`);
  else {
    const length = worstHeartbeatLength(nodes.length, services.length, configHashLength);
    if (length > MAX_HEARTBEAT_LENGTH) {
      let fit = services.length;
      while (fit > 0 && worstHeartbeatLength(nodes.length, fit, configHashLength) > MAX_HEARTBEAT_LENGTH) fit--;
      problems.push(`services: ${services.length} services with ${nodes.length} nodes make ${length}-byte heartbeats; at most ${fit} services with ${nodes.length} nodes — ${why}`);
    }
  }
  for (const [kind, names] of [
    ['nodes', nodes],
    ['services', services],
  ] as const) {
    const seen = new Map<number, string>();
    for (const n of names) {
      const other = seen.get(wireId(n));
      if (other !== undefined && other !== n) problems.push(`${kind}: "${n}" and "${other}" have the same wire id (${wireId(n)}) — rename one of them`);
      seen.set(wireId(n), n);
    }
  }
  return problems;
}

/** Every node in the row, the recipient's echo (the only one sent), every service. */
function worstHeartbeatLength(nodes: number, services: number, configHashLength: number): number {
  const row = new Map(Array.from({ length: nodes }, (_, i) => [`n${i}`, { everHeard: true, ageMs: 0, verdict: 'up' as const }]));
  const echoes = new Map([...row.keys()].slice(1, 2).map((n) => [n, { boot: 0, sequence: 0 }]));
  return encodingLength({ configHash: 'x'.repeat(configHashLength), heard: row, echoes, services: new Map(Array.from({ length: services }, (_, i) => [`s${i}`, true])) });
}

/** The exact encoded size of a heartbeat, HMAC included. */
export function encodingLength(h: Pick<HeartbeatInput, 'configHash' | 'heard' | 'echoes' | 'services'>): number {
  let echoes = 0;
  for (const node of h.echoes?.keys() ?? []) if (h.heard.has(node)) echoes++;
  return (
    HEADER_LENGTH + 8 + 4 + 1 + 4 + (1 + h.configHash.length) + 1 + h.heard.size * ROW_ENTRY_LENGTH + echoes * ECHO_LENGTH + 1 + h.services.size * SERVICE_LENGTH + 4 + MAC_LENGTH
  );
}

/**
 * One heartbeat per recipient, each with that recipient's echo only (none where `echoes` has
 * none): what an agent sends its peers each interval. The row is encoded once; each copy splices
 * its echo into the recipient's entry and is signed on its own. Throws as encodeHeartbeat.
 */
export function encodeHeartbeats(h: Omit<HeartbeatInput, 'echoes'>, recipients: Iterable<string>, echoes: ReadonlyMap<string, Echo>, secret: string): Map<string, Buffer> {
  const to = [...recipients];
  // While one heartbeat with every recipient's echo fits a datagram (up to about 64 nodes), all
  // get that one: a copy per peer costs an HMAC per peer, a fifth of an idle agent's CPU at 17 nodes.
  if (to.length > 1) {
    const all = new Map<string, Echo>();
    for (const peer of to) {
      const echo = echoes.get(peer);
      if (echo) all.set(peer, echo);
    }
    if (encodingLength({ ...h, echoes: all }) <= MAX_HEARTBEAT_LENGTH) {
      const bytes = encodeHeartbeat({ ...h, echoes: all }, secret);
      return new Map(to.map((peer) => [peer, bytes]));
    }
  }
  const base = encodeUnsigned({ ...h, echoes: undefined });
  const echoOf = (peer: string) => (h.heard.has(peer) ? echoes.get(peer) : undefined);
  // Every copy in one allocation: at 17 nodes a buffer per copy was 64 small ArrayBuffers a second,
  // and their garbage collection cost an idle agent more than the heartbeats themselves.
  let total = 0;
  for (const peer of to) total += base.length + (echoOf(peer) ? ECHO_LENGTH : 0) + MAC_LENGTH;
  const block = Buffer.allocUnsafe(total);
  const out = new Map<string, Buffer>();
  let entryEnds: Map<string, number> | undefined;
  let at = 0;
  for (const peer of to) {
    const echo = echoOf(peer);
    const signed = base.length + (echo ? ECHO_LENGTH : 0);
    const buf = block.subarray(at, (at += signed + MAC_LENGTH));
    if (!echo) base.copy(buf);
    else {
      entryEnds ??= entryOffsets(h);
      const end = entryEnds.get(peer)!;
      base.copy(buf, 0, 0, end);
      buf[end - 3] |= ECHO_FLAG; // the entry's flags: id (4) · flags (1) · age (2)
      buf.writeUInt32BE(echo.boot >>> 0, end);
      buf.writeUInt32BE(echo.sequence >>> 0, end + 4);
      base.copy(buf, end + ECHO_LENGTH, end);
    }
    mac(secret, buf.subarray(0, signed)).copy(buf, signed);
    out.set(peer, buf);
  }
  return out;
}

/** Where each node's row entry ends in an encoding without echoes. */
function entryOffsets(h: Pick<HeartbeatInput, 'configHash' | 'heard'>): Map<string, number> {
  const ends = new Map<string, number>();
  // After the header: incarnation, sequence, flags, sender, configHash (length-prefixed), entry count.
  let o = HEADER_LENGTH + 8 + 4 + 1 + 4 + (1 + h.configHash.length) + 1;
  for (const node of h.heard.keys()) ends.set(node, (o += ROW_ENTRY_LENGTH));
  return ends;
}

function sign(unsigned: Buffer, secret: string): Buffer {
  const buf = Buffer.alloc(unsigned.length + MAC_LENGTH);
  unsigned.copy(buf);
  mac(secret, unsigned).copy(buf, unsigned.length);
  return buf;
}

/** Throws TypeError on what the wire cannot carry (a caller's bug or an unbounded config). */
export function encodeHeartbeat(h: HeartbeatInput, secret: string): Buffer {
  return sign(encodeUnsigned(h), secret);
}

function encodeUnsigned(h: HeartbeatInput): Buffer {
  if (!HASH.test(h.configHash)) throw new TypeError(`cannot encode config hash ${JSON.stringify(h.configHash)}`);
  if (h.heard.size > 255 || h.services.size > 255) throw new TypeError('at most 255 nodes and 255 services');
  const buf = Buffer.alloc(encodingLength(h) - MAC_LENGTH);
  let o = 0;
  buf[o++] = MAGIC | PROTOCOL_VERSION;
  buf[o++] = MessageType.Heartbeat;
  buf.writeBigUInt64BE(BigInt.asUintN(64, h.incarnation), o);
  o += 8;
  buf.writeUInt32BE(h.sequence >>> 0, o);
  o += 4;
  buf[o++] = (h.nodeHealthy ? 1 : 0) | (MAX_VERSION << SPEAKS_SHIFT);
  o = buf.writeUInt32BE(wireId(h.sender), o);
  o = writeString(buf, o, h.configHash);
  buf[o++] = h.heard.size;
  for (const [node, obs] of h.heard) {
    const echo = h.echoes?.get(node);
    o = buf.writeUInt32BE(wireId(node), o);
    buf[o++] = (obs.everHeard ? 1 : 0) | (VERDICTS.indexOf(obs.verdict) << 1) | (echo ? ECHO_FLAG : 0);
    o = buf.writeUInt16BE(encodeAge(obs.ageMs), o);
    if (echo) {
      o = buf.writeUInt32BE(echo.boot >>> 0, o);
      o = buf.writeUInt32BE(echo.sequence >>> 0, o);
    }
  }
  buf[o++] = h.services.size;
  for (const [service, healthy] of h.services) {
    o = buf.writeUInt32BE(wireId(service), o);
    buf[o++] = healthy ? 1 : 0;
  }
  buf.writeUInt32BE((h.zoneSerial ?? 0) >>> 0, o);
  return buf;
}

/**
 * Ages in 16 bits: exact milliseconds below 32,768, then in steps of 32 ms up to about 18 minutes
 * (past peer.downAfter's largest value, 10 minutes), saturating beyond. Rounded down: an age is
 * never reported longer than it was.
 */
const AGE_EXACT = 0x8000;
const AGE_STEP = 32;
export const MAX_AGE_MS = AGE_EXACT + (0xffff - AGE_EXACT) * AGE_STEP;

export function encodeAge(ms: number): number {
  const v = Math.max(0, Math.round(ms));
  if (v < AGE_EXACT) return v;
  return Math.min(0xffff, AGE_EXACT + Math.floor((v - AGE_EXACT) / AGE_STEP));
}

export function decodeAge(v: number): number {
  return v < AGE_EXACT ? v : AGE_EXACT + (v - AGE_EXACT) * AGE_STEP;
}

/**
 * Any byte string → a message or the reason it was rejected; never throws. Checks run cheapest
 * first, and nothing past the header is read before the HMAC holds. Row entries and services whose
 * id `names` does not know (a node or service only the sender's config lists) are skipped.
 */
export function decode(bytes: Uint8Array, secrets: string | readonly string[], names: WireNames): DecodeResult {
  try {
    return decodeUnsafe(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), typeof secrets === 'string' ? [secrets] : secrets, names);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

function decodeUnsafe(buf: Buffer, secrets: readonly string[], names: WireNames): DecodeResult {
  if (buf.length < HEADER_LENGTH + MAC_LENGTH) return reject('short');
  const version = buf[0] & 0x0f;
  if ((buf[0] & 0xf0) !== MAGIC || version < MIN_VERSION || version > MAX_VERSION) return reject('version');
  if (buf.length > MAX_MESSAGE_LENGTH) return reject('malformed');
  const signed = buf.subarray(0, buf.length - MAC_LENGTH);
  // During a rotation a peer signs under any of the listed secrets (the first is the one we sign with).
  const given = buf.subarray(buf.length - MAC_LENGTH);
  if (!secrets.some((secret) => timingSafeEqual(mac(secret, signed), given))) return reject('hmac');
  if (buf[1] !== MessageType.Heartbeat) return reject('type');

  const r = new Reader(signed, HEADER_LENGTH);
  const incarnation = r.u64();
  const sequence = r.u32();
  const healthFlags = r.u8();
  const sender = names.nodes.get(r.u32());
  const configHash = r.str(HASH);
  const heard = new Map<string, Observation>();
  const echoes = new Map<string, Echo>();
  for (let n = r.u8(); n > 0; n--) {
    const node = names.nodes.get(r.u32());
    const flags = r.u8();
    const verdict = VERDICTS[(flags >> 1) & 3];
    if (verdict === undefined || flags > 15) return reject('malformed');
    const ageMs = decodeAge(r.u16());
    const echo = flags & ECHO_FLAG ? { boot: r.u32(), sequence: r.u32() } : undefined;
    if (node === undefined) continue;
    heard.set(node, { everHeard: (flags & 1) === 1, ageMs, verdict });
    if (echo) echoes.set(node, echo);
  }
  const services = new Map<string, boolean>();
  for (let n = r.u8(); n > 0; n--) {
    const service = names.services.get(r.u32());
    const healthy = (r.u8() & 1) === 1;
    if (service !== undefined) services.set(service, healthy);
  }
  const zoneSerial = r.u32();
  if (!r.atEnd()) return reject('malformed');
  if (sender === undefined) return reject('unknown-sender');
  return {
    ok: true,
    message: { type: 'heartbeat', sender, incarnation, sequence, configHash, nodeHealthy: (healthFlags & 1) === 1, heard, echoes, services, zoneSerial },
  };
}

function reject(reason: RejectReason): DecodeResult {
  return { ok: false, reason };
}

/**
 * HMAC keys by secret, imported once: a string key is re-imported on every createHmac, and an agent
 * signs a heartbeat per peer per interval and checks one per peer. Secrets come from the config, so
 * this holds a few; it is cleared should reloads ever have piled up more.
 */
const keys = new Map<string, KeyObject>();
function mac(secret: string, data: Uint8Array): Buffer {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 16) keys.clear();
    keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  }
  return createHmac('sha256', key).update(data).digest();
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
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.o);
    this.o += 2;
    return v;
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
