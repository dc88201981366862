import * as packet from 'dns-packet';
import { randomInt } from 'node:crypto';
import { dsOf } from '../dnssec/keys';
import { verifyRRset } from '../dnssec/verify';
import { ClusterDnsError } from '../errors';
import { exchange } from '../parent/rfc2136/transport';
import { Class, Type } from '../wire/constants';
import type { Dnskey, Record, RecordData, Rrsig } from '../wire/records';
import { formatEndpoint, type Endpoint, type Finding } from './types';

/**
 * DNSSEC for `check`: the parent's DS against the DNSKEYs each server publishes, every signed
 * answer verified against those keys, and how long the earliest signature has left. Gathering asks
 * over TCP with DO=1; judging is pure (signature verification is computation, not I/O).
 */

export interface SignedReply {
  readonly rcode: string;
  /** Answer and authority records. */
  readonly records: readonly Record[];
}

export interface DnssecObservation {
  /** Seconds since the epoch when the answers were gathered. */
  readonly now: number;
  /** The config sets `dnssec`. */
  readonly expected: boolean;
  /** The parent's DS set as `tag alg type HEX`; undefined when no parent server answered. */
  readonly parentDs: readonly string[] | undefined;
  readonly servers: readonly { readonly endpoint: Endpoint; readonly replies: ReadonlyMap<string, SignedReply | string> }[];
}

/** A name no zone holds: its answer must be a signed NXDOMAIN proof. */
export const ABSENT_LABEL = 'clusterdns-check-absent';
const SIGNATURE_WARN_SECONDS = 3 * 86400;

async function askSigned(server: Endpoint, name: string, type: string, timeoutMs: number): Promise<SignedReply | string> {
  const id = randomInt(0, 0x10000);
  const message = packet.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ name, type: type as packet.RecordType, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: packet.DNSSEC_OK, options: [] } as unknown as packet.Answer],
  });
  try {
    const raw = await exchange({ host: server.host, port: server.port }, message, { timeoutMs, failCode: 'CHECK_FAILED', what: `query ${name} ${type}` });
    const p = packet.decode(raw);
    const records = [...(p.answers ?? []), ...(p.authorities ?? [])].map(fromPacket).filter((r): r is Record => r !== undefined);
    return { rcode: (p as { rcode?: string }).rcode ?? 'NOERROR', records };
  } catch (e) {
    return e instanceof ClusterDnsError ? e.message : `undecodable answer: ${(e as Error).message}`;
  }
}

export async function gatherDnssec(opts: {
  zone: string;
  expected: boolean;
  parents: readonly Endpoint[];
  servers: readonly Endpoint[];
  names: readonly string[];
  timeoutMs: number;
}): Promise<DnssecObservation> {
  let parentDs: string[] | undefined;
  for (const p of opts.parents) {
    const r = await askSigned(p, opts.zone, 'DS', opts.timeoutMs);
    if (typeof r === 'string') continue;
    parentDs = r.records.filter((x) => x.data.type === Type.DS && x.name === opts.zone).map((x) => (x.data.type === Type.DS ? dsText(x.data.ds) : ''));
    break;
  }
  const questions: [string, string][] = [
    [opts.zone, 'DNSKEY'],
    [opts.zone, 'SOA'],
    [`${ABSENT_LABEL}.${opts.zone}`, 'A'],
    ...opts.names.map((n): [string, string] => [n, 'A']),
  ];
  const servers = await Promise.all(
    opts.servers.map(async (endpoint) => {
      const replies = new Map<string, SignedReply | string>();
      for (const [name, type] of questions) replies.set(`${name} ${type}`, await askSigned(endpoint, name, type, opts.timeoutMs));
      return { endpoint, replies };
    }),
  );
  return { now: Math.floor(Date.now() / 1000), expected: opts.expected, parentDs, servers };
}

export function checkDnssec(zone: string, obs: DnssecObservation | undefined): Finding[] {
  if (!obs) return [];
  const findings: Finding[] = [];
  const keysOf = (replies: ReadonlyMap<string, SignedReply | string>): Record[] => {
    const r = replies.get(`${zone} DNSKEY`);
    return typeof r === 'object' ? r.records.filter((x) => x.data.type === Type.DNSKEY && x.name === zone) : [];
  };
  const signed = obs.servers.some((s) => keysOf(s.replies).length > 0);
  const ds = obs.parentDs ?? [];
  if (!signed) {
    if (obs.expected || ds.length)
      findings.push({
        severity: 'broken',
        code: 'dnssec-unsigned',
        subject: zone,
        message: `${ds.length ? `the parent holds a DS for ${zone}` : 'the config sets dnssec'} but no server publishes a DNSKEY: validating resolvers answer SERVFAIL`,
        fix: 'restart the agents with the dnssec config, or remove the DS with: clusterdns delegate … --apply (dnssec unset)',
      });
    return findings;
  }
  if (obs.parentDs !== undefined && ds.length === 0)
    findings.push({
      severity: 'warn',
      code: 'dnssec-no-ds',
      subject: zone,
      message: `${zone} is signed but the parent holds no DS: resolvers treat its answers as unsigned`,
      fix: 'add the DS with: clusterdns delegate route53|rfc2136 --config … --apply (or delegate zonefile)',
    });

  let earliest: number | undefined;
  let verified = 0;
  for (const s of obs.servers) {
    const who = formatEndpoint(s.endpoint);
    const keyRecords = keysOf(s.replies);
    const keys = keyRecords.map((r) => (r.data.type === Type.DNSKEY ? r.data.key : undefined)).filter((k): k is Dnskey => k !== undefined);
    if (keys.length === 0) {
      findings.push({ severity: 'broken', code: 'dnssec-no-dnskey', subject: who, message: `${who} publishes no DNSKEY for ${zone} while other servers do`, fix: 'give every node the same dnssec config and restart it' });
      continue;
    }
    if (ds.length) {
      const dnskeySigs = sigsOver(typeof s.replies.get(`${zone} DNSKEY`) === 'object' ? (s.replies.get(`${zone} DNSKEY`) as SignedReply).records : [], zone, Type.DNSKEY);
      const anchored = keys.filter((k) => ds.includes(dsText(dsOf(zone, k))) && dnskeySigs.some((g) => verifyRRset(keyRecords, g, k)));
      if (anchored.length === 0)
        findings.push({
          severity: 'broken',
          code: 'dnssec-ds-mismatch',
          subject: who,
          message: `no DNSKEY ${who} serves matches the parent's DS (${ds.map((d) => `tag ${d.split(' ')[0]}`).join(', ')}) and signs the DNSKEY set: validating resolvers answer SERVFAIL`,
          fix: 'run clusterdns delegate … --apply with the config the agents run, so the DS matches their keys',
        });
    }
    for (const [question, reply] of s.replies) {
      if (typeof reply === 'string') continue;
      const problems = validate(reply, keys, obs.now);
      for (const g of reply.records) if (g.data.type === Type.RRSIG && (earliest === undefined || g.data.sig.expiration < earliest)) earliest = g.data.sig.expiration;
      if (question.startsWith(`${ABSENT_LABEL}.`) && reply.rcode === 'NXDOMAIN' && !reply.records.some((r) => r.data.type === Type.NSEC))
        problems.push('NXDOMAIN without NSEC proof');
      if (problems.length)
        findings.push({
          severity: 'broken',
          code: 'dnssec-bogus',
          subject: who,
          message: `${question} from ${who} does not validate: ${problems.join('; ')}`,
          fix: 'check the node clocks and that every node runs the same dnssec keys',
        });
      else verified++;
    }
  }
  if (!findings.some((f) => f.severity === 'broken'))
    findings.push({ severity: 'ok', code: 'dnssec-valid', subject: zone, message: `${verified} signed answers from ${obs.servers.length} servers validate${ds.length ? ' from the parent\'s DS' : ''}` });
  if (earliest !== undefined) {
    const left = earliest - obs.now;
    findings.push({
      severity: left < SIGNATURE_WARN_SECONDS ? 'warn' : 'ok',
      code: 'dnssec-expiry',
      subject: zone,
      message: `the earliest signature expires ${new Date(earliest * 1000).toISOString()}, in ${formatSeconds(left)}`,
      ...(left < SIGNATURE_WARN_SECONDS ? { fix: 'agents re-sign at dnssec.refresh: check that they run and that their clocks are right' } : {}),
    });
  }
  return findings;
}

/** Problems with the signatures of every RRset in a reply (an empty list: it validates). */
function validate(reply: SignedReply, keys: readonly Dnskey[], now: number): string[] {
  const problems: string[] = [];
  const sets = new Map<string, Record[]>();
  for (const r of reply.records) {
    if (r.data.type === Type.RRSIG) continue;
    const k = `${r.name} ${r.data.type}`;
    sets.set(k, [...(sets.get(k) ?? []), r]);
  }
  for (const set of sets.values()) {
    const { name, data } = set[0];
    const sigs = sigsOver(reply.records, name, data.type);
    const what = `${name} ${typeLabel(data.type)}`;
    if (sigs.length === 0) {
      problems.push(`${what} has no RRSIG`);
      continue;
    }
    const good = sigs.filter((g) => keys.some((k) => verifyRRset(set, g, k)));
    if (good.length === 0) problems.push(`no RRSIG over ${what} verifies with the published keys`);
    else if (!good.some((g) => g.inception <= now && now <= g.expiration)) problems.push(`the RRSIGs over ${what} are not valid now (expired or not yet valid)`);
  }
  return problems;
}

function sigsOver(records: readonly Record[], name: string, type: number): Rrsig[] {
  return records.flatMap((r) => (r.data.type === Type.RRSIG && r.name === name && r.data.sig.typeCovered === type ? [r.data.sig] : []));
}

function typeLabel(t: number): string {
  return Object.entries(Type).find(([, v]) => v === t)?.[0] ?? `TYPE${t}`;
}

function dsText(d: { keyTag: number; algorithm: number; digestType: number; digest: Uint8Array }): string {
  return `${d.keyTag} ${d.algorithm} ${d.digestType} ${Buffer.from(d.digest).toString('hex').toUpperCase()}`;
}

function formatSeconds(s: number): string {
  if (s <= 0) return 'the past';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  return d ? `${d}d ${h}h` : `${h}h ${Math.floor((s % 3600) / 60)}m`;
}

const TYPE_NUMBER = new Map<string, number>(Object.entries(Type));

/** dns-packet's decoded record as ours, for the types a signed cluster zone serves; others are skipped. */
function fromPacket(a: packet.Answer): Record | undefined {
  if ((a as { class?: string }).class !== 'IN' || a.type === 'OPT') return undefined;
  const name = a.name.toLowerCase().replace(/\.$/, '');
  const ttl = (a as { ttl?: number }).ttl ?? 0;
  const d = (a as { data: unknown }).data as never;
  const data = ((): RecordData | undefined => {
    const x = d as { [k: string]: never };
    switch (a.type) {
      case 'A':
        return { type: Type.A, address: d };
      case 'AAAA':
        return { type: Type.AAAA, address: d };
      case 'NS':
        return { type: Type.NS, target: String(d).toLowerCase() };
      case 'SOA':
        return { type: Type.SOA, soa: { mname: String(x.mname).toLowerCase(), rname: String(x.rname).toLowerCase(), serial: x.serial, refresh: x.refresh, retry: x.retry, expire: x.expire, minimum: x.minimum } };
      case 'SRV':
        return { type: Type.SRV, srv: { priority: x.priority, weight: x.weight, port: x.port, target: String(x.target).toLowerCase() } };
      case 'DNSKEY':
        return { type: Type.DNSKEY, key: { flags: x.flags, protocol: 3, algorithm: x.algorithm, publicKey: x.key } };
      case 'DS':
        return { type: Type.DS, ds: { keyTag: x.keyTag, algorithm: x.algorithm, digestType: x.digestType, digest: x.digest } };
      case 'NSEC':
        return { type: Type.NSEC, next: String(x.nextDomain).replace(/\.$/, ''), types: (x.rrtypes as unknown as string[]).map((t) => TYPE_NUMBER.get(t) ?? Number(String(t).replace('TYPE', ''))) };
      case 'RRSIG':
        return {
          type: Type.RRSIG,
          sig: {
            typeCovered: TYPE_NUMBER.get(x.typeCovered) ?? Number(String(x.typeCovered).replace('TYPE', '')),
            algorithm: x.algorithm,
            labels: x.labels,
            originalTtl: x.originalTTL,
            expiration: x.expiration,
            inception: x.inception,
            keyTag: x.keyTag,
            signer: String(x.signersName).toLowerCase().replace(/\.$/, ''),
            signature: x.signature,
          },
        };
      default:
        return undefined;
    }
  })();
  return data ? { name, class: Class.IN, ttl, data } : undefined;
}
