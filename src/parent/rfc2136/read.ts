import type * as dnsPacket from 'dns-packet';
import { ClusterDnsError } from '../../errors';
import { canonicalName, rrset, type DelegationType, type RRset } from '../records';
import { query, type QueryOptions } from './query';
import { formatServer } from './transport';

type Rcode = string | undefined;
const rcodeOf = (p: dnsPacket.DecodedPacket): Rcode => (p as unknown as { rcode?: string }).rcode;

function records(section: readonly dnsPacket.Answer[] | undefined, name: string, type: DelegationType): RRset | undefined {
  const rrs = (section ?? []).filter((a) => a.type === type && canonicalName(a.name) === name) as Array<{ ttl?: number; data: string | DsData }>;
  if (rrs.length === 0) return undefined;
  return rrset(name, type, Math.min(...rrs.map((r) => r.ttl ?? 0)), rrs.map((r) => (typeof r.data === 'string' ? r.data : dsText(r.data))));
}

interface DsData {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: Buffer;
}

function dsText(d: DsData): string {
  return `${d.keyTag} ${d.algorithm} ${d.digestType} ${d.digest.toString('hex')}`;
}

/** The parent must answer its own SOA authoritatively, or it is the wrong server or zone. */
export async function checkAuthoritative(opts: QueryOptions, parent: string): Promise<void> {
  const r = await query(opts, parent, 'SOA');
  const soa = (r.answers ?? []).find((a) => a.type === 'SOA' && canonicalName(a.name) === parent);
  if (rcodeOf(r) === 'NOERROR' && r.flag_aa && soa) return;
  throw new ClusterDnsError('PARENT_NOT_FOUND', `${formatServer(opts.server)} is not authoritative for ${parent} (SOA query: ${rcodeOf(r)}${r.flag_aa ? '' : ', no AA flag'})`, {
    details: ['give --server the primary of the parent zone and --zone the parent zone name (the zone that contains the cluster zone)'],
  });
}

/**
 * Reads the delegation with ordinary queries, which any primary answers: the NS set at the zone
 * comes back as a referral (authority section, not AA) and the glue of the names it lists in the
 * additional section; names the NS set does not list are asked for directly, and are authoritative
 * data when no delegation exists yet. Glue for a name the NS set does not list is occluded and so
 * invisible here — the UPDATE replaces it instead of assuming it absent (see update.ts).
 */
export async function readDelegation(opts: QueryOptions, zone: string, hosts: readonly string[]): Promise<RRset[]> {
  const out: RRset[] = [];
  const nsAnswer = await query(opts, zone, 'NS');
  expectOk(opts, nsAnswer, `${zone} NS`);
  const ns = records(nsAnswer.answers, zone, 'NS') ?? records(nsAnswer.authorities, zone, 'NS');
  if (ns) out.push(ns);
  // The DS set is the parent's own data at the cut: an authoritative answer, whether a delegation exists or not.
  const dsAnswer = await query(opts, zone, 'DS');
  expectOk(opts, dsAnswer, `${zone} DS`);
  const ds = records(dsAnswer.answers, zone, 'DS');
  if (ds) out.push(ds);
  const all = [...new Set([...hosts, ...(ns?.values ?? []).filter((v) => v.endsWith(`.${zone}`))])];
  for (const host of all) {
    for (const type of ['A', 'AAAA'] as const) {
      const r = await query(opts, host, type);
      expectOk(opts, r, `${host} ${type}`);
      const found = records(r.answers, host, type) ?? (records(r.authorities, zone, 'NS') ? records(r.additionals, host, type) : undefined);
      if (found) out.push(found);
    }
  }
  return out;
}

function expectOk(opts: QueryOptions, r: dnsPacket.DecodedPacket, what: string): void {
  const rcode = rcodeOf(r);
  if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') return;
  throw new ClusterDnsError('PARENT_READ', `${formatServer(opts.server)} answered ${rcode} to the query ${what}`, {
    details: ['the parent\'s primary must answer queries for the zone from this host (allow-query)'],
  });
}
