import { nodeAddresses } from '../config/types';
import { isReply } from './query';
import { formatEndpoint, internalName, queryKey, type Endpoint, type Observations, type Outcome, type Reply } from './types';

/**
 * The observations put in the shape the checks reason about: what the parent delegates, what each
 * name server is and says, and who each name points at. Pure: the same observations, the same model.
 */

export interface ParentView {
  readonly label: string;
  readonly ok: boolean;
  /** Why this parent server's answer is not a usable referral. */
  readonly problem?: string;
  readonly ns: readonly string[];
  readonly nsTtl?: number;
  /** NS host name → addresses (A and AAAA, sorted). */
  readonly glue: ReadonlyMap<string, readonly string[]>;
  readonly glueTtl?: number;
}

export interface ServerView {
  readonly endpoint: Endpoint;
  readonly label: string;
  /** The configured node with this address. */
  readonly node?: string;
  /** NS host names the parent's glue points here. */
  readonly glueNames: readonly string[];
  /** The node name the server gave for itself (NSID). */
  readonly identity?: string;
  readonly udp: string;
  readonly tcp: string;
  readonly reachable: boolean;
  readonly rcode?: string;
  readonly aa?: boolean;
  readonly edns?: boolean;
  /** Answers the zone with data: NOERROR and AA over UDP. */
  readonly serving: boolean;
  readonly serial?: number;
  readonly tcpSerial?: number;
  readonly soaTtl?: number;
  readonly ns?: readonly string[];
  readonly nsTtl?: number;
}

export interface NameView {
  readonly name: string;
  /** Addresses the name should have while its node is up. */
  readonly expected: readonly string[];
  /** The node the name belongs to, when known. */
  readonly owner?: string;
  /** Serving server label → sorted addresses, or the rcode when there are none. */
  readonly answers: ReadonlyMap<string, string>;
  readonly ttl?: number;
}

export interface Model {
  readonly zone: string;
  readonly parents: readonly ParentView[];
  /** The first usable referral: what resolvers are told. */
  readonly parent?: ParentView;
  readonly servers: readonly ServerView[];
  readonly names: readonly NameView[];
}

function outcomeText(o: Outcome | undefined): string {
  if (o === undefined) return 'not asked';
  if (!isReply(o)) return o.failure;
  return o.reply.rcode === 'NOERROR' ? 'ok' : o.reply.rcode;
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

export function readReferral(zone: string, label: string, o: Outcome): ParentView {
  const empty = { label, ok: false, ns: [], glue: new Map() };
  if (!isReply(o)) return { ...empty, problem: `gave no answer (${o.failure}: ${o.detail})` };
  const r = o.reply;
  if (r.rcode !== 'NOERROR') return { ...empty, problem: `answers ${r.rcode} for ${zone} NS` };
  const inAnswer = r.answer.filter((x) => x.type === 'NS' && x.name === zone);
  if (r.aa && inAnswer.length > 0) return { ...empty, problem: `answers ${zone} NS itself (authoritative) instead of referring to the cluster: it is not a server of the parent zone` };
  const ns = r.authority.filter((x) => x.type === 'NS' && x.name === zone);
  if (ns.length === 0) {
    const cut = r.authority.find((x) => x.type === 'NS' || x.type === 'SOA');
    return { ...empty, problem: cut?.type === 'SOA' ? `has no delegation for ${zone} (no NS records at ${zone})` : `does not refer ${zone} to its name servers` };
  }
  const names = sorted(ns.map((x) => x.data));
  const glue = new Map<string, string[]>();
  const glueRecords = r.additional.filter((x) => (x.type === 'A' || x.type === 'AAAA') && names.includes(x.name));
  for (const g of glueRecords) glue.set(g.name, sorted([...(glue.get(g.name) ?? []), g.data]));
  return {
    label,
    ok: true,
    ns: names,
    nsTtl: Math.max(...ns.map((x) => x.ttl)),
    glue,
    glueTtl: glueRecords.length ? Math.max(...glueRecords.map((x) => x.ttl)) : undefined,
  };
}

function soa(r: Reply | undefined, zone: string) {
  return r?.answer.find((x) => x.type === 'SOA' && x.name === zone);
}

export function buildModel(obs: Observations): Model {
  const zone = obs.zone;
  const parents = obs.parents.map((p) =>
    readReferral(zone, p.serverName ? `${p.serverName} (${formatEndpoint(p.server)})` : formatEndpoint(p.server), p.outcome),
  );
  const parent = parents.find((p) => p.ok);

  const servers: ServerView[] = obs.servers.map((s) => {
    const udp = isReply(s.udpSoa) ? s.udpSoa.reply : undefined;
    const tcp = isReply(s.tcpSoa) ? s.tcpSoa.reply : undefined;
    const ns = isReply(s.ns) ? s.ns.reply : undefined;
    const node = obs.expected?.nodes.find((n) => n.address === s.endpoint.host || n.address6 === s.endpoint.host)?.name;
    const glueNames = parent ? [...parent.glue].filter(([, addrs]) => addrs.includes(s.endpoint.host)).map(([n]) => n) : [];
    const serving = !!udp && udp.rcode === 'NOERROR' && udp.aa && soa(udp, zone) !== undefined;
    const nsRecords = ns?.answer.filter((x) => x.type === 'NS' && x.name === zone) ?? [];
    return {
      endpoint: s.endpoint,
      label: formatEndpoint(s.endpoint),
      node,
      glueNames,
      identity: udp?.nsid ?? tcp?.nsid,
      udp: outcomeText(s.udpSoa),
      tcp: outcomeText(s.tcpSoa),
      reachable: !!udp || !!tcp,
      rcode: (udp ?? tcp)?.rcode,
      aa: (udp ?? tcp)?.aa,
      edns: udp?.edns,
      serving,
      serial: soa(udp, zone)?.serial,
      tcpSerial: soa(tcp, zone)?.serial,
      soaTtl: soa(udp, zone)?.ttl,
      ns: serving && ns ? sorted(nsRecords.map((x) => x.data)) : undefined,
      nsTtl: nsRecords.length ? Math.max(...nsRecords.map((x) => x.ttl)) : undefined,
    };
  });

  const names = nameViews(obs, parent, servers);
  return { zone, parents, parent, servers, names };
}

function nameViews(obs: Observations, parent: ParentView | undefined, servers: readonly ServerView[]): NameView[] {
  const zone = obs.zone;
  const expected = new Map<string, { addrs: string[]; owner?: string }>();
  for (const n of obs.expected?.nodes ?? []) {
    const addrs = nodeAddresses(n);
    expected.set(`${n.name}.${zone}`, { addrs, owner: n.name });
    expected.set(n.nsName, { addrs, owner: n.name });
    const iz = obs.expected?.internalZone;
    if (iz && n.internal) {
      expected.set(`${n.name}.${iz}`, { addrs: [...n.internal], owner: n.name });
      expected.set(internalName(n.nsName, zone, iz), { addrs: [...n.internal], owner: n.name });
    }
  }
  const asked = new Set<string>();
  for (const s of obs.servers) for (const k of s.names.keys()) asked.add(k.split(' ')[0]);
  for (const n of parent?.ns ?? []) if (n.endsWith(`.${zone}`)) asked.add(n);

  const views: NameView[] = sorted(asked).map((name) => {
    const answers = new Map<string, string>();
    let ttl: number | undefined;
    for (const s of obs.servers) {
      const view = servers.find((v) => v.endpoint === s.endpoint)!;
      if (!view.serving) continue;
      if (!['A', 'AAAA'].some((type) => s.names.has(queryKey(name, type)))) continue;
      const addrs: string[] = [];
      let rcode: string | undefined;
      for (const type of ['A', 'AAAA']) {
        const o = s.names.get(queryKey(name, type));
        if (o === undefined) continue;
        if (!isReply(o)) {
          rcode = o.failure;
          continue;
        }
        if (o.reply.rcode !== 'NOERROR') rcode = o.reply.rcode;
        for (const r of o.reply.answer.filter((x) => x.name === name && x.type === type)) {
          addrs.push(r.data);
          ttl = Math.max(ttl ?? 0, r.ttl);
        }
      }
      answers.set(view.label, addrs.length ? sorted(addrs).join(' ') : (rcode ?? 'NODATA'));
    }
    const e = expected.get(name);
    return { name, expected: e?.addrs ?? [], owner: e?.owner, answers, ttl };
  });
  return obs.expected ? views : withoutConfig(views, parent, servers, zone);
}

/**
 * Without a config, what a name "should" answer is inferred: a node's own name is its server's
 * address; an NS name is the address the cluster gives it unless that address also answers for
 * another NS name (then it is failed over, and the parent's glue tells the name's own address).
 */
function withoutConfig(views: NameView[], parent: ParentView | undefined, servers: readonly ServerView[], zone: string): NameView[] {
  const nsNames = new Set(parent?.ns ?? []);
  const nsAnswers = views.filter((v) => nsNames.has(v.name)).map((v) => agreed(v.answers));
  return views.map((v) => {
    const byIdentity = servers.find((s) => s.identity && `${s.identity}.${zone}` === v.name);
    if (byIdentity) return { ...v, expected: [byIdentity.endpoint.host], owner: byIdentity.identity };
    if (!nsNames.has(v.name)) return v;
    const answer = agreed(v.answers);
    const own = answer !== undefined && /[.:]/.test(answer) && nsAnswers.filter((a) => a === answer).length === 1;
    const expected = own ? answer.split(' ') : [...(parent?.glue.get(v.name) ?? [])];
    const owner = servers.find((s) => s.identity && expected.includes(s.endpoint.host))?.identity;
    return { ...v, expected, owner };
  });
}

/** The answer most serving servers give (ties: the first seen). */
export function agreed(answers: ReadonlyMap<string, string>): string | undefined {
  const counts = new Map<string, number>();
  for (const a of answers.values()) counts.set(a, (counts.get(a) ?? 0) + 1);
  let best: string | undefined;
  for (const [a, c] of counts) if (best === undefined || c > counts.get(best)!) best = a;
  return best;
}

/** The node an address belongs to, by config or by the identity of the server at that address. */
export function nodeAt(obs: Observations, model: Model, address: string): string | undefined {
  return (
    obs.expected?.nodes.find((n) => n.address === address || n.address6 === address || n.internal?.includes(address))?.name ??
    model.servers.find((s) => s.endpoint.host === address)?.identity
  );
}
