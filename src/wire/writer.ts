import { isIPv4 } from 'node:net';
import { Type } from './constants';
import type { Record, RecordData, Rrsig } from './records';

/**
 * Builds DNS messages with name compression. Used when answers are compiled (never per query), so it
 * favours clarity over speed. Compression is by a per-suffix slot: every suffix written is remembered
 * with its offset, the next name reuses the longest remembered suffix.
 */
export class MessageWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly suffixes = new Map<string, number>();
  /** Offsets of the compression pointers written, for relocating a body (see `copyRelocated` in prebuilt.ts). */
  readonly pointers: number[] = [];

  /**
   * `canonical`: no name is compressed, as RFC 4034 §6.2 wants the records a signature covers
   * (names are already lowercase here).
   */
  constructor(size = 512, private readonly canonical = false) {
    this.buf = Buffer.alloc(size);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Writes a name (lowercase dotted), compressed against names written before unless `compress` is false. */
  name(name: string, compress = true): this {
    // Suffixes are slices of `name` at label starts: a signed zone's compile writes thousands of names.
    let start = 0;
    while (start < name.length) {
      const suffix = start === 0 ? name : name.slice(start);
      const at = this.suffixes.get(suffix);
      if (compress && !this.canonical && at !== undefined) {
        this.pointers.push(this.pos);
        return this.u16(0xc000 | at);
      }
      if (this.pos < 0x4000) this.suffixes.set(suffix, this.pos);
      const dot = name.indexOf('.', start);
      const end = dot < 0 ? name.length : dot;
      this.ensure(1 + end - start);
      this.buf[this.pos] = end - start;
      this.pos += 1 + this.buf.write(name.slice(start, end), this.pos + 1, 'latin1');
      start = end + 1;
    }
    return this.u8(0);
  }

  question(name: string, type: number, klass: number): this {
    return this.name(name).u16(type).u16(klass);
  }

  record(r: Record): this {
    this.name(r.name).u16(r.data.type).u16(r.class).u32(r.ttl);
    const lenAt = this.pos;
    this.u16(0);
    const start = this.pos;
    this.rdata(r.data);
    this.buf.writeUInt16BE(this.pos - start, lenAt);
    return this;
  }

  rdata(d: RecordData): this {
    switch (d.type) {
      case Type.A:
        this.bytes(ipv4Bytes(d.address));
        break;
      case Type.AAAA:
        this.bytes(ipv6Bytes(d.address));
        break;
      case Type.NS:
        this.name(d.target);
        break;
      case Type.SOA:
        this.name(d.soa.mname).name(d.soa.rname).u32(d.soa.serial).u32(d.soa.refresh).u32(d.soa.retry).u32(d.soa.expire).u32(d.soa.minimum);
        break;
      case Type.TXT:
        for (const t of d.texts) {
          const b = Buffer.from(t, 'utf8');
          if (b.length > 255) throw new RangeError('TXT string over 255 bytes');
          this.u8(b.length).bytes(b);
        }
        break;
      case Type.SRV:
        // RFC 2782: the target is never compressed.
        this.u16(d.srv.priority).u16(d.srv.weight).u16(d.srv.port).name(d.srv.target, false);
        break;
      case Type.DNSKEY:
      case Type.CDNSKEY:
        this.u16(d.key.flags).u8(d.key.protocol).u8(d.key.algorithm).bytes(d.key.publicKey);
        break;
      case Type.DS:
      case Type.CDS:
        this.u16(d.ds.keyTag).u8(d.ds.algorithm).u8(d.ds.digestType).bytes(d.ds.digest);
        break;
      case Type.NSEC:
        // RFC 4034 §4: the next name is never compressed.
        this.name(d.next, false).bytes(typeBitmap(d.types));
        break;
      case Type.RRSIG:
        this.rrsigFields(d.sig).bytes(d.sig.signature);
        break;
    }
    return this;
  }

  /** RRSIG RDATA up to the signature: also the start of the data a signature covers (RFC 4034 §3.1.8.1). */
  rrsigFields(s: Omit<Rrsig, 'signature'>): this {
    return this.u16(s.typeCovered)
      .u8(s.algorithm)
      .u8(s.labels)
      .u32(s.originalTtl)
      .u32(s.expiration)
      .u32(s.inception)
      .u16(s.keyTag)
      .name(s.signer, false);
  }

  seek(pos: number): void {
    this.ensure(Math.max(0, pos - this.pos));
    this.pos = pos;
  }

  slice(from: number, to = this.pos): Buffer {
    return Buffer.from(this.buf.subarray(from, to));
  }
}

export function ipv4Bytes(a: string): Uint8Array {
  if (!isIPv4(a)) throw new RangeError(`not an IPv4 address: ${a}`);
  return Uint8Array.from(a.split('.').map(Number));
}

export function ipv6Bytes(a: string): Uint8Array {
  let s = a;
  const out = new Uint8Array(16);
  // A trailing dotted IPv4 part becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipv4Bytes(v4[1]);
    s = s.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new RangeError(`not an IPv6 address: ${a}`);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** RFC 4034 §4.1.2: the types present, as windows of up to 32 bytes of bits. */
export function typeBitmap(types: readonly number[]): Uint8Array {
  const windows = new Map<number, Uint8Array>();
  for (const t of types) {
    const w = t >> 8;
    let bits = windows.get(w);
    if (!bits) windows.set(w, (bits = new Uint8Array(32)));
    bits[(t & 0xff) >> 3] |= 0x80 >> (t & 7);
  }
  const out: number[] = [];
  for (const w of [...windows.keys()].sort((a, b) => a - b)) {
    const bits = windows.get(w)!;
    let len = 32;
    while (len > 0 && bits[len - 1] === 0) len--;
    out.push(w, len, ...bits.subarray(0, len));
  }
  return Uint8Array.from(out);
}
