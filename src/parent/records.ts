import { isIPv6 } from 'node:net';
import { nameServerNodes, type ClusterConfig, type DnssecConfig, type NodeConfig } from '../config/types';
import { dnskeyOf, dsOf, isSep } from '../dnssec/keys';

/** The record types a delegation consists of; nothing else is ever read or written in the parent. */
export type DelegationType = 'NS' | 'A' | 'AAAA' | 'DS';

/**
 * One RRset as the parent holds it. Names are lowercase without the trailing dot; values are in a
 * canonical form (names lowercase without dot, IPv6 compressed) and sorted, so two RRsets with the
 * same records compare equal whatever order or spelling a backend returned them in.
 */
export interface RRset {
  readonly name: string;
  readonly type: DelegationType;
  readonly ttl: number;
  readonly values: readonly string[];
}

export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function canonicalValue(type: DelegationType, value: string): string {
  if (type === 'NS') return canonicalName(value);
  if (type === 'DS') return canonicalDs(value);
  // The URL parser is Node's built-in RFC 5952 formatter: one spelling per IPv6 address.
  if (type === 'AAAA' && isIPv6(value)) return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  return value;
}

export function rrset(name: string, type: DelegationType, ttl: number, values: Iterable<string>): RRset {
  const set = new Set([...values].map((v) => canonicalValue(type, v)));
  return { name: canonicalName(name), type, ttl, values: [...set].sort(byName) };
}

/** ns2 before ns10: the order a person reads name servers in. */
export function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export function rrsetKey(r: { name: string; type: DelegationType }): string {
  return `${r.name} ${r.type}`;
}

export function sameRecords(a: RRset, b: RRset): boolean {
  return a.values.length === b.values.length && a.values.every((v, i) => v === b.values[i]);
}

/** `ns1.<zone>` … in name-server order: the names the cluster itself serves as its NS set. */
function nameServerName(zone: string, index: number): string {
  return `ns${index + 1}.${zone}`;
}

/** The name-server host names clusterdns owns below the zone, whatever the current config says. */
export function isManagedNameServer(zone: string, name: string): boolean {
  return name.endsWith(`.${zone}`) && /^ns[1-9][0-9]*$/.test(name.slice(0, -(zone.length + 1)));
}

export interface DesiredDelegation {
  readonly zone: string;
  readonly rrsets: readonly RRset[];
  /** Which node each name server name stands for, so a plan can say why a record exists. */
  readonly nodeOf: ReadonlyMap<string, string>;
}

/** The parent's records for the cluster zone: the NS set, the DS set when signed, then glue A/AAAA per name server. */
export interface DelegationInput {
  readonly zone: string;
  readonly parent: ClusterConfig['parent'];
  readonly nodes: readonly Pick<NodeConfig, 'name' | 'address' | 'address6' | 'role'>[];
  readonly dnssec?: Pick<DnssecConfig, 'keys'>;
}

/** `tag alg digest-type HEX`: one spelling (decimal numbers, uppercase hex without spaces) whatever a backend returns. */
function canonicalDs(value: string): string {
  const [tag, alg, type, ...digest] = value.trim().split(/\s+/);
  return [Number(tag), Number(alg), Number(type), digest.join('').toUpperCase()].join(' ');
}

/**
 * DS (SHA-256) for every key with the SEP flag in `dnssec.keys`: a key is in the parent's DS set
 * while it is in the config, whether it signs yet or not, so a rollover adds the new key's DS
 * before the old one goes (README: DNSSEC).
 */
export function dsValues(zone: string, dnssec: Pick<DnssecConfig, 'keys'>): string[] {
  return dnssec.keys.filter(isSep).map((k) => {
    const ds = dsOf(zone, dnskeyOf(k));
    return `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${Buffer.from(ds.digest).toString('hex').toUpperCase()}`;
  });
}

export function desiredDelegation(config: DelegationInput): DesiredDelegation {
  const zone = canonicalName(config.zone);
  const ttl = config.parent.ttl;
  const servers = nameServerNodes(config);
  const nodeOf = new Map<string, string>();
  const glue: RRset[] = [];
  servers.forEach((node, i) => {
    const host = nameServerName(zone, i);
    nodeOf.set(host, node.name);
    // An IPv6-only node has AAAA glue only; an empty A RRset is no record at all.
    if (node.address) glue.push(rrset(host, 'A', ttl, [node.address]));
    if (node.address6) glue.push(rrset(host, 'AAAA', ttl, [node.address6]));
  });
  const ns = rrset(zone, 'NS', ttl, servers.map((_, i) => nameServerName(zone, i)));
  const ds = config.dnssec ? [rrset(zone, 'DS', ttl, dsValues(zone, config.dnssec))] : [];
  return { zone, rrsets: [ns, ...ds, ...glue], nodeOf };
}
