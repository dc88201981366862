import { Class, Type, typeName } from '../wire/constants';
import type { Record, RecordData } from '../wire/records';
import type { ZoneData } from './zone';

/**
 * The cluster zone as an RFC 1035 master file (§5): `$ORIGIN`, the SOA first, then every RRset,
 * every name absolute (trailing dot) so the text means the same under any `$ORIGIN`. NSD, BIND and
 * Knot load it as is; the DNS benchmark serves it from NSD to compare answers and speed.
 *
 * Order: the apex (SOA, NS, then the other types by number), then the other owners in DNSSEC
 * canonical order (RFC 4034 §6.1), each owner's RRsets by type number. Deterministic: the same zone
 * gives the same bytes.
 *
 * A master file cannot say "this name exists but has no records": an owner with no RRsets and
 * nothing below it (a service whose nodes are all down) is NODATA from the agent and NXDOMAIN from
 * a server loading this file. Such owners are listed in a comment.
 */
export function zoneFileText(zone: ZoneData, opts: { header?: string } = {}): string {
  const apex = zone.apex;
  const lines: string[] = [];
  if (opts.header) for (const l of opts.header.split('\n')) lines.push(`; ${l}`);
  lines.push(`$ORIGIN ${absolute(apex)}`);
  lines.push(`$TTL ${zone.soa.ttl}`);

  const rows: string[][] = [];
  rows.push(row(zone.soa));
  const apexTypes = zone.names.get(apex);
  if (apexTypes) {
    for (const type of sortedTypes(apexTypes, true)) for (const r of apexTypes.get(type)!) rows.push(row(r));
  }

  const empty: string[] = [];
  const owners = [...zone.names.keys()].filter((n) => n !== apex).sort(canonicalCompare);
  for (const owner of owners) {
    const types = zone.names.get(owner)!;
    const sets = sortedTypes(types, false).filter((t) => types.get(t)!.length > 0);
    if (sets.length === 0) {
      if (!owners.some((o) => o !== owner && o.endsWith(`.${owner}`))) empty.push(owner);
      continue;
    }
    for (const type of sets) for (const r of types.get(type)!) rows.push(row(r));
  }

  // Align the owner, TTL, class and type columns; the data column is free.
  const width = [0, 0, 0, 0];
  for (const r of rows) for (let i = 0; i < 4; i++) width[i] = Math.max(width[i], r[i].length);
  for (const r of rows) lines.push(r.map((f, i) => (i < 4 ? f.padEnd(width[i]) : f)).join(' ').trimEnd());

  if (empty.length) {
    lines.push(`; names with no records (NODATA from clusterdns, NXDOMAIN from a server loading this file):`);
    for (const e of empty) lines.push(`;   ${absolute(e)}`);
  }
  lines.push('');
  return lines.join('\n');
}

/** One record as [owner, ttl, class, type, rdata]. */
function row(r: Record): string[] {
  return [absolute(r.name), String(r.ttl), className(r.class), typeName(r.data.type), rdataText(r.data)];
}

function rdataText(d: RecordData): string {
  switch (d.type) {
    case Type.A:
    case Type.AAAA:
      return d.address;
    case Type.NS:
      return absolute(d.target);
    case Type.SOA: {
      const s = d.soa;
      return `${absolute(s.mname)} ${absolute(s.rname)} ${s.serial >>> 0} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case Type.SRV:
      return `${d.srv.priority} ${d.srv.weight} ${d.srv.port} ${absolute(d.srv.target)}`;
    case Type.TXT:
      return d.texts.map(quoted).join(' ');
    case Type.DNSKEY:
    case Type.CDNSKEY:
      return `${d.key.flags} ${d.key.protocol} ${d.key.algorithm} ${Buffer.from(d.key.publicKey).toString('base64')}`;
    case Type.DS:
    case Type.CDS:
      return `${d.ds.keyTag} ${d.ds.algorithm} ${d.ds.digestType} ${Buffer.from(d.ds.digest).toString('hex').toUpperCase()}`;
    case Type.NSEC:
      return [absolute(d.next), ...d.types.map(typeName)].join(' ');
    case Type.RRSIG: {
      const g = d.sig;
      return `${typeName(g.typeCovered)} ${g.algorithm} ${g.labels} ${g.originalTtl} ${sigTime(g.expiration)} ${sigTime(g.inception)} ${g.keyTag} ${absolute(g.signer)} ${Buffer.from(g.signature).toString('base64')}`;
    }
  }
}

/** RFC 4034 §3.2: YYYYMMDDHHmmSS in UTC. */
function sigTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function className(c: number): string {
  if (c === Class.IN) return 'IN';
  if (c === Class.CH) return 'CH';
  return `CLASS${c}`;
}

/** The SOA first, NS next at the apex; then by type number. */
function sortedTypes(types: ReadonlyMap<number, readonly Record[]>, isApex: boolean): number[] {
  const rank = (t: number) => (isApex ? (t === Type.SOA ? -2 : t === Type.NS ? -1 : t) : t);
  return [...types.keys()].filter((t) => !(isApex && t === Type.SOA)).sort((a, b) => rank(a) - rank(b));
}

/** A lowercase dotted name as an absolute master-file name, escaping what the syntax reserves. */
export function absolute(name: string): string {
  if (name === '' || name === '.') return '.';
  return `${name.split('.').map(escapeLabel).join('.')}.`;
}

function escapeLabel(label: string): string {
  let out = '';
  for (const ch of Buffer.from(label, 'utf8')) {
    const c = String.fromCharCode(ch);
    if (/[A-Za-z0-9_-]/.test(c)) out += c;
    else if (ch > 0x20 && ch < 0x7f) out += `\\${c}`;
    else out += `\\${String(ch).padStart(3, '0')}`;
  }
  return out;
}

/** A <character-string> in quotes: `"` and `\` escaped, non-printable bytes as \DDD. */
function quoted(s: string): string {
  let out = '"';
  for (const ch of Buffer.from(s, 'utf8')) {
    if (ch === 0x22 || ch === 0x5c) out += `\\${String.fromCharCode(ch)}`;
    else if (ch >= 0x20 && ch < 0x7f) out += String.fromCharCode(ch);
    else out += `\\${String(ch).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** RFC 4034 §6.1: compare label by label from the right, each label as lowercase bytes. */
export function canonicalCompare(a: string, b: string): number {
  const la = a.split('.').reverse();
  const lb = b.split('.').reverse();
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const c = Buffer.compare(Buffer.from(la[i].toLowerCase()), Buffer.from(lb[i].toLowerCase()));
    if (c !== 0) return c;
  }
  return la.length - lb.length;
}
