import { getServers } from 'node:dns';
import { hasInternalNames, INTERNAL_LABEL, nodeAddresses, privateAddresses, type ClusterConfig } from '../config/types';
import { desiredDelegation } from '../parent/records';
import { gatherDnssec } from './dnssec';
import { readReferral } from './model';
import { ask, askLikeAResolver, isReply, type Question } from './query';
import { internalName, queryKey, type Endpoint, type ExpectedCluster, type Observations, type Outcome, type ParentObservation, type ServerObservation } from './types';

export interface GatherOptions {
  /** Lowercase, no trailing dot. */
  readonly zone: string;
  readonly config?: ClusterConfig;
  /** Ask this parent server directly; otherwise the parent's servers are found through `resolver`. */
  readonly parent?: Endpoint;
  /** Recursive resolver used to find the parent's servers (default: the system's first). */
  readonly resolver?: Endpoint;
  readonly timeoutMs: number;
  readonly maxStaleSeconds: number;
}

/** Default failure detection when there is no config: the config's own defaults. */
const DEFAULT_DETECTION_MS = 1000 + 250;
const MAX_PARENT_SERVERS = 6;

function systemResolver(): Endpoint {
  const first = getServers()[0];
  if (!first) return { host: '127.0.0.1', port: 53 };
  const m = /^\[(.+)\]:(\d+)$/.exec(first) ?? /^([^:]+):(\d+)$/.exec(first);
  return m ? { host: m[1], port: Number(m[2]) } : { host: first, port: 53 };
}

/**
 * The parent zone's name servers as `dig +trace` would reach them: the closest enclosing zone that
 * has an NS set, found through a recursive resolver, then its servers' addresses.
 */
async function findParentServers(zone: string, resolver: Endpoint, timeoutMs: number): Promise<{ zone: string; servers: { name: string; endpoint: Endpoint }[] } | { error: string }> {
  const labels = zone.split('.');
  for (let i = 1; i <= labels.length; i++) {
    const candidate = labels.slice(i).join('.');
    const o = await askLikeAResolver(resolver, { name: candidate || '.', type: 'NS' }, timeoutMs, { recurse: true });
    if (!isReply(o)) return { error: `resolver ${resolver.host}:${resolver.port} did not answer ${candidate || '.'} NS (${o.failure}: ${o.detail})` };
    // Going further up on SERVFAIL would ask a grandparent, which only refers to the parent.
    if (o.reply.rcode !== 'NOERROR' && o.reply.rcode !== 'NXDOMAIN')
      return { error: `resolver ${resolver.host}:${resolver.port} answered ${o.reply.rcode} for ${candidate || '.'} NS` };
    const names = o.reply.answer.filter((r) => r.type === 'NS' && r.name === candidate).map((r) => r.data);
    if (names.length === 0) continue;
    const servers: { name: string; endpoint: Endpoint }[] = [];
    for (const name of names.slice(0, MAX_PARENT_SERVERS)) {
      let addrs = o.reply.additional.filter((r) => r.type === 'A' && r.name === name).map((r) => r.data);
      if (addrs.length === 0) {
        const a = await askLikeAResolver(resolver, { name, type: 'A' }, timeoutMs, { recurse: true });
        addrs = isReply(a) ? a.reply.answer.filter((r) => r.type === 'A').map((r) => r.data) : [];
      }
      for (const host of addrs) servers.push({ name, endpoint: { host, port: 53 } });
    }
    if (servers.length === 0) return { error: `found the parent zone ${candidate || '.'} (${names.join(', ')}) but no IPv4 address for its name servers` };
    return { zone: candidate, servers: servers.slice(0, MAX_PARENT_SERVERS) };
  }
  return { error: `resolver ${resolver.host}:${resolver.port} found no zone above ${zone}` };
}

async function askParents(opts: GatherOptions): Promise<{ parents: ParentObservation[]; parentError?: string }> {
  const q: Question = { name: opts.zone, type: 'NS' };
  if (opts.parent) return { parents: [{ server: opts.parent, outcome: await askLikeAResolver(opts.parent, q, opts.timeoutMs) }] };
  const found = await findParentServers(opts.zone, opts.resolver ?? systemResolver(), opts.timeoutMs);
  if ('error' in found) return { parents: [], parentError: found.error };
  const parents = await Promise.all(
    found.servers.map(async (s) => ({ zone: found.zone, server: s.endpoint, serverName: s.name, outcome: await askLikeAResolver(s.endpoint, q, opts.timeoutMs) })),
  );
  return { parents };
}

function expectedCluster(config: ClusterConfig): ExpectedCluster {
  const desired = desiredDelegation(config);
  const ns = desired.rrsets.find((r) => r.type === 'NS')!;
  const byNode = new Map([...desired.nodeOf].map(([host, node]) => [node, host]));
  const internal = hasInternalNames(config);
  return {
    nodes: config.nodes.filter((n) => byNode.has(n.name)).map((n) => ({
      name: n.name,
      ...(n.address ? { address: n.address } : {}),
      ...(n.address6 ? { address6: n.address6 } : {}),
      nsName: byNode.get(n.name)!,
      // As zone/zone.ts answers: the private addresses, or the public ones of a node that has none.
      ...(internal ? { internal: privateAddresses(n).length ? privateAddresses(n) : nodeAddresses(n) } : {}),
    })),
    ...(internal ? { internalZone: `${INTERNAL_LABEL}.${config.zone}` } : {}),
    parentNs: ns.values,
    parentTtl: ns.ttl,
  };
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Asks everything `check` judges. Thin: no conclusions here, only questions and raw outcomes. */
export async function gather(opts: GatherOptions): Promise<Observations> {
  const { zone, timeoutMs } = opts;
  const expected = opts.config ? expectedCluster(opts.config) : undefined;
  const { parents, parentError } = await askParents(opts);
  const referral = parents.map((p) => readReferral(zone, '', p.outcome)).find((r) => r.ok);

  const port = opts.config?.dns.port ?? 53;
  const hosts = new Set<string>();
  for (const n of expected?.nodes ?? []) {
    for (const a of nodeAddresses(n)) hosts.add(a);
  }
  for (const addrs of referral?.glue.values() ?? []) for (const a of addrs) hosts.add(a);
  const endpoints = [...hosts].map((host) => ({ host, port }));

  const probe = async (endpoint: Endpoint) => {
    const [udpSoa, tcpSoa, ns] = await Promise.all([
      askLikeAResolver(endpoint, { name: zone, type: 'SOA' }, timeoutMs, { nsid: true }),
      ask(endpoint, { name: zone, type: 'SOA' }, { transport: 'tcp', timeoutMs, nsid: true }),
      askLikeAResolver(endpoint, { name: zone, type: 'NS' }, timeoutMs),
    ]);
    return { endpoint, udpSoa, tcpSoa, ns };
  };
  const first = await Promise.all(endpoints.map(probe));

  const names = new Set<string>();
  for (const n of expected?.nodes ?? []) names.add(`${n.name}.${zone}`).add(n.nsName);
  const internalZone = expected?.internalZone;
  if (internalZone) for (const n of expected!.nodes) names.add(`${n.name}.${internalZone}`).add(internalName(n.nsName, zone, internalZone));
  for (const n of referral?.ns ?? []) if (n.endsWith(`.${zone}`)) names.add(n);
  const addIdentities = (probes: typeof first) => {
    for (const s of probes) {
      const id = isReply(s.udpSoa) ? s.udpSoa.reply.nsid?.toLowerCase() : undefined;
      if (id && LABEL.test(id)) names.add(`${id}.${zone}`);
    }
  };
  addIdentities(first);
  const withV6 = expected ? expected.nodes.some((n) => n.address6) : [...(referral?.glue.values() ?? [])].flat().some((a) => a.includes(':'));
  const types: ('A' | 'AAAA')[] = withV6 ? ['A', 'AAAA'] : ['A'];

  const askNames = (probes: typeof first, which: readonly string[], into: ServerObservation[] = []): Promise<ServerObservation[]> =>
    Promise.all(
      probes.map(async (s, i) => {
        const answered = new Map<string, Outcome>(into[i]?.names ?? []);
        // A server that did not answer the SOA is not asked more: every question would only time out.
        if (isReply(s.udpSoa)) {
          await Promise.all(
            which.flatMap((name) => types.map(async (type) => answered.set(queryKey(name, type), await askLikeAResolver(s.endpoint, { name, type }, timeoutMs)))),
          );
        }
        return { ...s, names: answered };
      }),
    );
  let servers = await askNames(first, [...names]);

  // The child's own answers for its NS names can lead to servers the parent's glue does not (wrong glue).
  const more = new Set<string>();
  for (const s of servers) {
    for (const [key, o] of s.names) {
      if (!isReply(o) || !o.reply.aa) continue;
      const name = key.split(' ')[0];
      const nsName = (referral?.ns ?? []).includes(name) || expected?.nodes.some((n) => n.nsName === name);
      if (!nsName) continue;
      for (const r of o.reply.answer) if ((r.type === 'A' || r.type === 'AAAA') && !hosts.has(r.data)) more.add(r.data);
    }
  }
  if (more.size > 0) {
    const second = await Promise.all([...more].map((host) => probe({ host, port })));
    const known = new Set(names);
    addIdentities(second);
    const added = [...names].filter((n) => !known.has(n));
    servers = [...(added.length ? await askNames(first, added, servers) : servers), ...(await askNames(second, [...names]))];
  }

  const dnssec = await gatherDnssec({
    zone,
    expected: opts.config?.dnssec !== undefined,
    parents: parents.map((p) => p.server),
    servers: servers.filter((s) => isReply(s.udpSoa)).map((s) => s.endpoint),
    names: [...names],
    timeoutMs,
  });

  return {
    zone,
    parents,
    dnssec,
    ...(parentError ? { parentError } : {}),
    servers,
    ...(expected ? { expected } : {}),
    detectionMs: opts.config ? opts.config.peer.downAfterMs + opts.config.peer.intervalMs : DEFAULT_DETECTION_MS,
    detectionFrom: opts.config ? 'config' : 'defaults',
    maxStaleSeconds: opts.maxStaleSeconds,
  };
}
