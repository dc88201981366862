import { isIPv4 } from 'node:net';

/**
 * Addresses as 32-bit words, parsed without allocation for IPv4 (the rate limiter reads every UDP
 * query's source), and CIDR prefixes for configuration.
 */

export interface Prefix {
  readonly v6: boolean;
  /** One word (IPv4) or four (IPv6), big-endian. */
  readonly words: Uint32Array;
  readonly bits: number;
}

/** Dotted quad into out[0]; false when `s` is not one. No allocation: this runs per UDP query. */
export function parseIPv4(s: string, out: Uint32Array): boolean {
  let word = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return false;
    } else if (c === 46 && digits > 0 && dots < 3) {
      word = (word << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else return false;
  }
  if (dots !== 3 || digits === 0) return false;
  out[0] = ((word << 8) | part) >>> 0;
  return true;
}

/** An IPv6 literal (as Node reports sources: no zone, maybe an embedded IPv4) into four words. */
export function parseIPv6(s: string, out: Uint32Array): boolean {
  const scope = s.indexOf('%');
  if (scope >= 0) s = s.slice(0, scope);
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const res: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = new Uint32Array(1);
        if (!parseIPv4(it, v4)) return undefined;
        res.push(v4[0] >>> 16, v4[0] & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        res.push(parseInt(it, 16));
      }
    }
    return res;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return false;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return false;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  for (let i = 0; i < 4; i++) out[i] = ((all[2 * i] << 16) | all[2 * i + 1]) >>> 0;
  return true;
}

/** A CIDR prefix (`192.0.2.0/24`, `2001:db8::/32`, or one address); throws with what to write. */
export function parsePrefix(text: string): Prefix {
  const [addr, len] = text.split('/');
  const words = new Uint32Array(4);
  const v6 = !isIPv4(addr);
  if (v6 ? !parseIPv6(addr, words) : !parseIPv4(addr, words)) throw new Error(`"${text}" is not an address or prefix such as 192.0.2.0/24 or 2001:db8::/32`);
  const max = v6 ? 128 : 32;
  const bits = len === undefined ? max : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new Error(`"${text}": the prefix length must be 0–${max}`);
  return { v6, words, bits };
}
