import { isIPv4, isIPv6 } from 'node:net';

/**
 * One spelling per address, for telling whether two config entries name the same one: `fd00::1`,
 * `fd00:0::1` and `FD00::0001` are one address, and `::ffff:10.0.0.1` is 10.0.0.1 (a dual-stack
 * socket bound to either holds both). IPv6 goes through Node's URL parser, its RFC 5952 formatter;
 * a zone index (`%eth0`, which the URL parser refuses) is kept as written, since interface names
 * are case-sensitive. Undefined for anything that is not an address.
 */
export function addressKey(a: string): string | undefined {
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return undefined;
  const at = a.indexOf('%');
  const zone = at < 0 ? '' : a.slice(at);
  let host: string;
  try {
    host = new URL(`http://[${at < 0 ? a : a.slice(0, at)}]/`).hostname.slice(1, -1);
  } catch {
    // An IPv6 spelling the URL parser refuses but isIPv6 takes: compared as written.
    host = (at < 0 ? a : a.slice(0, at)).toLowerCase();
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped && zone === '') {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return host + zone;
}

/** The unspecified address of either family (a wildcard bind), however written. */
export function isUnspecified(a: string): boolean {
  const k = addressKey(a);
  return k === '0.0.0.0' || k === '::';
}

/** `a` and `b` are one address however written; false when either is not an address. */
export function sameAddress(a: string, b: string): boolean {
  const k = addressKey(a);
  return k !== undefined && k === addressKey(b);
}
