import { byName, type DesiredDelegation } from './records';

/**
 * The delegation as master-file text (RFC 1035 §5) with absolute names, so it can be pasted into
 * any parent zone file regardless of its $ORIGIN.
 */
export function zoneFileSnippet(desired: DesiredDelegation): string {
  const rows = desired.rrsets.flatMap((r) => r.values.map((v) => [`${r.name}.`, String(r.ttl), 'IN', r.type, r.type === 'NS' ? `${v}.` : v]));
  const width = (i: number) => Math.max(...rows.map((row) => row[i].length));
  const sorted = rows.sort((a, b) => Number(b[3] === 'NS') - Number(a[3] === 'NS') || byName(a[0], b[0]) || a[3].localeCompare(b[3]));
  return [
    `; Delegation of ${desired.zone} written by clusterdns: paste into the parent zone, raise its SOA serial, reload.`,
    ...sorted.map((row) => row.map((f, i) => (i < 4 ? f.padEnd(width(i)) : f)).join(' ')),
    '',
  ].join('\n');
}
