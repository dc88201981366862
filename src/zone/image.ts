import { NxdomainProofs } from '../dnssec/nxdomain';
import { ClientPrefixes } from '../net/client-prefixes';
import { NameTable } from '../wire/name-table';
import type { Prebuilt } from '../wire/prebuilt';
import type { AnswerSet, AnswerTable, NameAnswers } from './compile';

/**
 * An `AnswerTable` as one immutable image: a SharedArrayBuffer every answer thread reads in place
 * (docs/DESIGN.md, "Threads"). Control compiles a table, encodes it once with a version, and posts
 * the same buffer to every answer thread; each decodes it into a table whose answer bodies are views
 * into the buffer (no copy of the bytes the hot path sends). Nothing writes the buffer after
 * `encodeTable` returns.
 *
 * Layout (little-endian): magic "CDNT", format, version u32, then the table's fields in order:
 * strings and byte strings with u32 lengths, every distinct `Prebuilt` once (the pool, referred to
 * by index), the name tables as (wire name, answers), the NXDOMAIN proofs as (pair key, index).
 * test/zone/image.test.ts answers many queries from both and compares the bytes.
 */
const MAGIC = 0x544e4443; // "CDNT"
const FORMAT = 1;
const NONE = 0xffffffff;

export interface TableImage {
  readonly version: number;
  readonly buffer: SharedArrayBuffer;
}

class Writer {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }

  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  string(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }

  u16s(a: Uint16Array): void {
    this.u32(a.length);
    for (let i = 0; i < a.length; i++) this.u16(a[i]);
  }

  /** The image: a SharedArrayBuffer of exactly the written length. */
  finish(): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(this.length);
    new Uint8Array(sab).set(this.buf.subarray(0, this.length));
    return sab;
  }
}

class Reader {
  private readonly view: DataView;
  at = 0;

  constructor(private readonly sab: SharedArrayBuffer) {
    this.view = new DataView(sab);
  }

  private need(n: number): void {
    if (this.at + n > this.sab.byteLength) throw new RangeError(`table image cut short at byte ${this.at}`);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  /** A view into the image (Buffer, for `copy` on the hot path): not a copy. */
  bytes(): Buffer {
    const n = this.u32();
    this.need(n);
    const b = Buffer.from(this.sab, this.at, n);
    this.at += n;
    return b;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }

  u16s(): Uint16Array {
    const n = this.u32();
    this.need(2 * n);
    const a = new Uint16Array(n);
    for (let i = 0; i < n; i++) a[i] = this.u16();
    return a;
  }
}

export function encodeTable(table: AnswerTable, version: number): TableImage {
  const pool = new Map<Prebuilt, number>();
  const order: Prebuilt[] = [];
  const ref = (p: Prebuilt): number => {
    let i = pool.get(p);
    if (i === undefined) {
      i = order.length;
      pool.set(p, i);
      order.push(p);
    }
    return i;
  };
  // Index every Prebuilt first, so the pool can be written before the structures that use it.
  const sets = (a: NameAnswers) => [a as AnswerSet, ...(a.signed ? [a.signed] : [])];
  for (const t of [table.names, table.chaos]) for (const [, a] of t.entries()) for (const s of sets(a)) [s.nodata, s.any, ...s.byType.values()].forEach(ref);
  ref(table.nxdomain);
  const nx = table.signedNxdomain;
  if (nx) {
    ref(nx.fallback);
    for (const p of nx.pairs.values()) ref(p);
  }

  const w = new Writer();
  w.u32(MAGIC);
  w.u32(FORMAT);
  w.u32(version >>> 0);
  w.string(table.zone);
  w.u32(table.serial >>> 0);
  w.u8(table.serving ? 1 : 0);
  w.u8(table.unavailableRcode);
  w.bytes(table.apexWire);
  w.u32(order.length);
  for (const p of order) {
    w.u16(p.flags);
    w.u16(p.an);
    w.u16(p.ns);
    w.u16(p.ar);
    w.bytes(p.body);
    w.u8(p.pointers ? 1 : 0);
    if (p.pointers) w.u16s(p.pointers);
    w.u16s(p.additionalEnds);
  }
  const answerSet = (s: AnswerSet) => {
    w.u32(ref(s.nodata));
    w.u32(ref(s.any));
    w.u32(s.byType.size);
    for (const [type, p] of s.byType) {
      w.u16(type);
      w.u32(ref(p));
    }
  };
  for (const t of [table.names, table.chaos]) {
    w.u32(t.size);
    for (const [wire, a] of t.entries()) {
      w.bytes(wire);
      w.u8((a.internal ? 1 : 0) | (a.signed ? 2 : 0));
      answerSet(a);
      if (a.signed) answerSet(a.signed);
    }
  }
  w.u32(ref(table.nxdomain));
  w.u8(table.internal ? 1 : 0);
  if (table.internal) {
    w.bytes(table.internal.wire);
    const from = table.internal.from?.prefixes;
    w.u32(from ? from.length : NONE);
    for (const p of from ?? []) w.string(p);
  }
  w.u8(nx ? 1 : 0);
  if (nx) {
    w.u32(nx.order.length);
    for (const n of nx.order) w.string(n);
    w.u32(ref(nx.fallback));
    w.u32(nx.pairs.size);
    for (const [key, p] of nx.pairs) {
      w.string(key);
      w.u32(ref(p));
    }
  }
  return { version: version >>> 0, buffer: w.finish() };
}

/** The table an image holds; throws RangeError on an image that is not one (never returns a partial table). */
export function decodeTable(buffer: SharedArrayBuffer): { version: number; table: AnswerTable } {
  const r = new Reader(buffer);
  if (r.u32() !== MAGIC) throw new RangeError('not an answer table image');
  const format = r.u32();
  if (format !== FORMAT) throw new RangeError(`answer table image format ${format}, this build reads ${FORMAT}`);
  const version = r.u32();
  const zone = r.string();
  const serial = r.u32();
  const serving = r.u8() === 1;
  const unavailableRcode = r.u8();
  const apexWire = new Uint8Array(r.bytes());
  const pool: Prebuilt[] = new Array(r.u32());
  for (let i = 0; i < pool.length; i++) {
    const flags = r.u16();
    const an = r.u16();
    const ns = r.u16();
    const ar = r.u16();
    const body = r.bytes();
    const pointers = r.u8() === 1 ? r.u16s() : undefined;
    pool[i] = { flags, an, ns, ar, body, pointers, additionalEnds: r.u16s() };
  }
  const at = (i: number): Prebuilt => {
    const p = pool[i];
    if (p === undefined) throw new RangeError(`table image refers to answer ${i} of ${pool.length}`);
    return p;
  };
  const answerSet = (): AnswerSet => {
    const nodata = at(r.u32());
    const any = at(r.u32());
    const byType = new Map<number, Prebuilt>();
    for (let n = r.u32(); n > 0; n--) byType.set(r.u16(), at(r.u32()));
    return { byType, nodata, any };
  };
  const nameTable = (): NameTable<NameAnswers> => {
    const t = new NameTable<NameAnswers>();
    for (let n = r.u32(); n > 0; n--) {
      const wire = new Uint8Array(r.bytes());
      const bits = r.u8();
      const plain = answerSet();
      t.set(wire, bits & 2 ? { ...plain, internal: (bits & 1) !== 0, signed: answerSet() } : { ...plain, internal: (bits & 1) !== 0 });
    }
    return t;
  };
  const names = nameTable();
  const chaos = nameTable();
  const nxdomain = at(r.u32());
  let internal: AnswerTable['internal'];
  if (r.u8() === 1) {
    const wire = new Uint8Array(r.bytes());
    const count = r.u32();
    const from: string[] = [];
    if (count !== NONE) for (let i = 0; i < count; i++) from.push(r.string());
    internal = { wire, from: count === NONE ? undefined : new ClientPrefixes(from) };
  }
  let signedNxdomain: NxdomainProofs | undefined;
  if (r.u8() === 1) {
    const order: string[] = [];
    for (let n = r.u32(); n > 0; n--) order.push(r.string());
    const fallback = at(r.u32());
    const pairs = new Map<string, Prebuilt>();
    for (let n = r.u32(); n > 0; n--) pairs.set(r.string(), at(r.u32()));
    signedNxdomain = new NxdomainProofs(order, pairs, fallback);
  }
  const table: AnswerTable = { zone, serial, serving, apexWire, names, nxdomain, unavailableRcode, chaos, internal, ...(signedNxdomain ? { signedNxdomain } : {}) };
  return { version, table };
}
