import { isIPv6 } from 'node:net';
import { nameServerNodes, type ClusterConfig, type NodeConfig } from '../config/types';

/** The record types a delegation consists of; nothing else is ever read or written in the parent. */
export type DelegationType = 'NS' | 'A' | 'AAAA';

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

/** The parent's records for the cluster zone: the NS set, then glue A/AAAA per name server. */
export interface DelegationInput {
  readonly zone: string;
  readonly parent: ClusterConfig['parent'];
  readonly nodes: readonly Pick<NodeConfig, 'name' | 'address' | 'address6' | 'role'>[];
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
  return { zone, rrsets: [ns, ...glue], nodeOf };
}
