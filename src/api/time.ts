/**
 * Times for the HTTP API, written from a Date's UTC fields. V8 (Node 20's 11.3) formats
 * `toISOString` and `toUTCString` through its local-time path, which creates ICU's default time
 * zone and its display names on first use: about 0.8 MB of the node binary's ICU data paged in for
 * good, for strings that are in UTC anyway (issue 17, memory at rest; Node's own `Date` header does
 * the same, see server.ts). The getUTC* fields need no time zone.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');
const three = (n: number) => String(n).padStart(3, '0');

/** `new Date(ms).toISOString()` for years 1000–9999 ("2026-12-07T04:58:24.123Z"). */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${three(d.getUTCMilliseconds())}Z`;
}

/** RFC 9110's IMF-fixdate, `new Date(ms).toUTCString()` for years 1000–9999 ("Sun, 06 Nov 1994 08:49:37 GMT"). */
export function httpDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} GMT`;
}
