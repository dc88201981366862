import { MAX_NAME_LEN } from './constants';

/**
 * Domain names on the wire. Names are handled as lowercase dotted strings without the trailing dot
 * ('' is the root); the wire form is length-prefixed labels ending in a zero byte.
 */

/** Wire form of a dotted name, lowercased. Throws on labels over 63 bytes or names over 255. */
export function nameToWire(name: string): Uint8Array {
  const labels = name === '' ? [] : name.toLowerCase().split('.');
  const parts: number[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    if (b.length === 0 || b.length > 63) throw new RangeError(`bad label in ${JSON.stringify(name)}`);
    parts.push(b.length, ...b);
  }
  parts.push(0);
  if (parts.length > MAX_NAME_LEN) throw new RangeError(`name too long: ${name}`);
  return Uint8Array.from(parts);
}

/**
 * Reads a possibly compressed name at `offset`. Returns the dotted name (letter case as sent) and the
 * offset after the name in the original position, or undefined when malformed: out of bounds,
 * pointers that do not point strictly backwards, reserved label types, or longer than 255 bytes.
 */
export function readName(buf: Uint8Array, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let total = 0;
  let lowest = offset;
  for (;;) {
    if (pos >= buf.length) return undefined;
    const len = buf[pos];
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) return undefined;
      const target = ((len & 0x3f) << 8) | buf[pos + 1];
      if (end < 0) end = pos + 2;
      // Only strictly backwards pointers, each further back than the last: no loops possible.
      if (target >= lowest) return undefined;
      lowest = target;
      pos = target;
      continue;
    }
    if (kind !== 0) return undefined;
    if (pos + 1 + len > buf.length) return undefined;
    total += len + 1;
    if (total + 1 > MAX_NAME_LEN) return undefined;
    labels.push(Buffer.from(buf.buffer, buf.byteOffset + pos + 1, len).toString('latin1'));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** True when `name` is `zone` or below it (both lowercase dotted). */
export function isInZone(name: string, zone: string): boolean {
  return name === zone || (name.length > zone.length && name.endsWith(zone) && name[name.length - zone.length - 1] === '.');
}
