import { INCEPTION_SKEW, resignCheckSeconds } from '../dnssec/timing';
import type { RawConfig } from './schema';

/**
 * Room kept past the last moment a resolver may still hold a signature: for resolvers whose clock is
 * ahead (signatures begin an hour early for clocks behind; this is the same hour the other way) and
 * for an agent that re-signs late (a stopped process, a busy machine).
 */
const MARGIN = INCEPTION_SKEW;

/**
 * RFC 6781 §4.4.2: a signature must outlive every copy of it. One made at t is remade at the first
 * look for due signatures after t + refresh, so it is served until t + refresh + the look interval,
 * and a resolver may keep it for the largest TTL after that; it expires at t + validity. So
 * validity − refresh must cover the look interval, the largest TTL and a margin. Without this rule
 * validity 3h with refresh 10200 s served a signature 1,949 s after it expired.
 */
export function signatureTimeProblems(c: Pick<RawConfig, 'ttl' | 'parent' | 'dnssec'>): string[] {
  const d = c.dnssec;
  if (!d) return [];
  const validity = d.validity;
  const refresh = d.refresh ?? Math.floor(validity / 2);
  // Node and service answers and the SOA carry ttl (NSEC the smaller of ttl and negativeTtl); NS,
  // DNSKEY, CDS and CDNSKEY carry parent.ttl.
  const [ttlField, ttl] = c.parent.ttl > c.ttl ? ['parent.ttl', c.parent.ttl] : ['ttl', c.ttl];
  const look = resignCheckSeconds(refresh);
  const need = Math.ceil(look + ttl + MARGIN);
  if (refresh <= 0 || refresh >= validity || validity - refresh >= need) return [];
  const why =
    `a signature is remade when a look (every refresh/4, at most 1 h: ${fmt(look)} s) finds it older than refresh, ` +
    `then resolvers may keep it for the largest TTL (${ttlField}: ${ttl} s), and ${MARGIN} s are kept for clocks ahead — ` +
    `validity − refresh must be at least ${need} s, and is ${validity - refresh} s, so resolvers could hold signatures past their expiration (RFC 6781 §4.4.2)`;
  const most = maxRefresh(validity, ttl);
  if (d.refresh !== undefined) {
    const fix = most > 0 ? `write refresh: ${most} (or less), or a longer validity` : `write a longer validity (at least ${minValidity(ttl)} s with refresh left out) or a shorter ${ttlField}`;
    return [`dnssec.refresh: ${why} — ${fix}`];
  }
  return [`dnssec.validity: ${validity} s with refresh left out (half of it, ${refresh} s): ${why} — write validity: ${minValidity(ttl)} (or more), or a shorter ${ttlField}`];
}

/** The longest refresh that validity and the TTL allow (0 if none does). */
function maxRefresh(validity: number, ttl: number): number {
  // While refresh/4 is under the hour: validity − r ≥ r/4 + ttl + MARGIN.
  const quarter = Math.floor(((validity - ttl - MARGIN) * 4) / 5);
  const r = quarter <= 4 * 3600 ? quarter : validity - 3600 - ttl - MARGIN;
  return Math.max(0, r);
}

/** The shortest validity whose default refresh (half of it, rounded down) the TTL allows. */
function minValidity(ttl: number): number {
  // While validity/8 (the look at the default refresh) is under the hour: validity/2 ≥ validity/8 + ttl + MARGIN.
  const eighths = Math.ceil(((ttl + MARGIN) * 8) / 3);
  let v = eighths <= 8 * 3600 ? eighths : 2 * (3600 + ttl + MARGIN);
  // Half of an odd validity rounds down, which can leave room a second or two sooner.
  for (let i = 0; i < 4 && fitsDefault(v - 1, ttl); i++) v--;
  return Math.max(3 * 3600, v);
}

function fitsDefault(validity: number, ttl: number): boolean {
  const refresh = Math.floor(validity / 2);
  return validity - refresh >= Math.ceil(resignCheckSeconds(refresh) + ttl + MARGIN);
}

const fmt = (s: number) => (Number.isInteger(s) ? String(s) : s.toFixed(1));
