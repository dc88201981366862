import { hashWireName } from './query';

/**
 * Values keyed by a wire-format name, compared without regard to ASCII case. Looked up straight
 * from the packet bytes with the hash the query parser computed, so a lookup allocates nothing.
 */
export class NameTable<T> {
  private readonly buckets = new Map<number, Array<{ wire: Uint8Array; value: T }>>();
  size = 0;

  /** `wire` must be lowercase (see `nameToWire`). */
  set(wire: Uint8Array, value: T): void {
    const h = hashWireName(wire, 0, wire.length);
    let b = this.buckets.get(h);
    if (!b) this.buckets.set(h, (b = []));
    const i = b.findIndex((e) => equalFolded(e.wire, wire, 0));
    if (i >= 0) b[i] = { wire, value };
    else {
      b.push({ wire, value });
      this.size++;
    }
  }

  /** Every (wire name, value), in no particular order (the table image, zone/image.ts). */
  *entries(): IterableIterator<[Uint8Array, T]> {
    for (const b of this.buckets.values()) for (const e of b) yield [e.wire, e.value];
  }

  get(buf: Uint8Array, start: number, end: number, hash: number): T | undefined {
    const b = this.buckets.get(hash);
    if (!b) return undefined;
    for (let i = 0; i < b.length; i++) {
      const e = b[i];
      if (e.wire.length === end - start && equalFolded(e.wire, buf, start)) return e.value;
    }
    return undefined;
  }
}

/** `lower` (lowercase) equals `buf` from `at` for lower.length bytes, folding ASCII case in `buf`. */
export function equalFolded(lower: Uint8Array, buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < lower.length; i++) {
    let c = buf[at + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower[i]) return false;
  }
  return true;
}
