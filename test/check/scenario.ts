import type { ExpectedCluster, Observations, Outcome, Reply, SeenRecord, ServerObservation } from '../../src/check/types';

/**
 * Observations as the gatherer would record them from a three-node cluster in a given state, so the
 * checks can be tested from tables without sockets. Every field describes one thing that can go wrong.
 */
export interface Scenario {
  /** Pass the config to check (default true). */
  config?: boolean;
  /** Node name → the node whose address its names are answered with (default: itself). */
  targets?: Record<string, string>;
  /** Nodes whose agent does not answer at all (connection refused). */
  dead?: string[];
  /** Nodes that answer the zone with this rcode (minority). */
  rcode?: Record<string, string>;
  /** NS host → glue addresses in the parent (default: the config's). */
  glue?: Record<string, string[]>;
  parentNs?: string[];
  /** Replaces the parent's answer altogether. */
  parentOutcome?: Outcome;
  /** More parent servers, each with its own glue override. */
  otherParents?: Record<string, string[]>[];
  parentError?: string;
  parentTtl?: number;
  configParentTtl?: number;
  answerTtl?: number;
  serials?: Record<string, number>;
  /** Node → the NS set its agent serves. */
  childNs?: Record<string, string[]>;
  /** Node → name → addresses it answers, overriding `targets` for that server only. */
  answers?: Record<string, Record<string, string[]>>;
  tcp?: Record<string, Outcome>;
  noAa?: string[];
  noEdns?: string[];
  /** Node → the identity its agent gives (default: its name). */
  identity?: Record<string, string>;
  detectionMs?: number;
  maxStaleSeconds?: number;
  /** The config gives private addresses (10.8.0.N): the agents answer internal.<zone> names, or refuse them to the checker (dns.internalFrom). */
  internal?: 'answered' | 'refused';
}

export const ZONE = 'cluster.test';
export const NODES = [
  { name: 'node1', address: '127.0.8.1', nsName: 'ns1.cluster.test' },
  { name: 'node2', address: '127.0.8.2', nsName: 'ns2.cluster.test' },
  { name: 'node3', address: '127.0.8.3', nsName: 'ns3.cluster.test' },
];
const NS = NODES.map((n) => n.nsName);
const INTERNAL_ZONE = `internal.${ZONE}`;
const privateOf = (address: string) => address.replace('127.0.8.', '10.8.0.');

export function rec(name: string, type: string, ttl: number, data: string, serial?: number): SeenRecord {
  return { name, type, ttl, data, ...(serial === undefined ? {} : { serial }) };
}

export function reply(r: Partial<Reply>): Outcome {
  return { reply: { rcode: 'NOERROR', aa: true, tc: false, answer: [], authority: [], additional: [], edns: true, ms: 1, ...r } };
}

export const REFUSED: Outcome = { failure: 'refused', detail: 'connection refused (nothing listens on the port)' };
export const TIMEOUT: Outcome = { failure: 'timeout', detail: 'no reply in 1000 ms' };

function referral(ns: string[], glue: Record<string, string[]>, ttl: number): Outcome {
  return reply({
    aa: false,
    authority: ns.map((n) => rec(ZONE, 'NS', ttl, n)),
    additional: Object.entries(glue).flatMap(([host, addrs]) => addrs.map((a) => rec(host, 'A', ttl, a))),
  });
}

export function observe(s: Scenario = {}): Observations {
  const parentTtl = s.parentTtl ?? 2;
  const ttl = s.answerTtl ?? 2;
  const glue = s.glue ?? Object.fromEntries(NODES.map((n) => [n.nsName, [n.address]]));
  const parentNs = s.parentNs ?? NS;
  const addressOf = (node: string) => NODES.find((n) => n.name === node)!.address;
  const target = (node: string) => addressOf(s.targets?.[node] ?? node);

  const parents = s.parentError
    ? []
    : [
        { server: { host: '127.0.8.11', port: 53 }, serverName: 'ns.test', zone: 'test', outcome: s.parentOutcome ?? referral(parentNs, glue, parentTtl) },
        ...(s.otherParents ?? []).map((g, i) => ({ server: { host: `127.0.8.${12 + i}`, port: 53 }, outcome: referral(parentNs, { ...glue, ...g }, parentTtl) })),
      ];

  const hosts = new Set<string>([...(s.config === false ? [] : NODES.map((n) => n.address)), ...Object.values(glue).flat()]);
  const servers: ServerObservation[] = [...hosts].map((host) => {
    const node = NODES.find((n) => n.address === host);
    const endpoint = { host, port: 53 };
    if (!node || s.dead?.includes(node.name)) return { endpoint, udpSoa: REFUSED, tcpSoa: REFUSED, ns: REFUSED, names: new Map() };
    const rcode = s.rcode?.[node.name];
    const meta = { aa: !rcode && !s.noAa?.includes(node.name), edns: !s.noEdns?.includes(node.name), nsid: s.identity?.[node.name] ?? node.name };
    const serial = s.serials?.[node.name] ?? 100;
    const soa = rcode ? reply({ ...meta, rcode }) : reply({ ...meta, answer: [rec(ZONE, 'SOA', ttl, `ns1.${ZONE} ${serial}`, serial)] });
    const ns = rcode ? reply({ ...meta, rcode }) : reply({ ...meta, answer: (s.childNs?.[node.name] ?? NS).map((n) => rec(ZONE, 'NS', parentTtl, n)) });
    const names = new Map<string, Outcome>();
    for (const n of NODES) {
      for (const name of [`${n.name}.${ZONE}`, n.nsName]) {
        const addrs = s.answers?.[node.name]?.[name] ?? [target(n.name)];
        names.set(`${name} A`, rcode ? reply({ ...meta, rcode }) : reply({ ...meta, answer: addrs.map((a) => rec(name, 'A', ttl, a)) }));
      }
      if (!s.internal) continue;
      for (const name of [`${n.name}.${INTERNAL_ZONE}`, n.nsName.replace(ZONE, INTERNAL_ZONE)]) {
        const answer = rcode ?? (s.internal === 'refused' ? 'REFUSED' : undefined);
        names.set(`${name} A`, reply(answer ? { ...meta, aa: false, rcode: answer } : { ...meta, answer: [rec(name, 'A', ttl, privateOf(target(n.name)))] }));
      }
    }
    return { endpoint, udpSoa: soa, tcpSoa: s.tcp?.[node.name] ?? soa, ns, names };
  });

  const expected: ExpectedCluster | undefined =
    s.config === false
      ? undefined
      : {
          nodes: s.internal ? NODES.map((n) => ({ ...n, internal: [privateOf(n.address)] })) : NODES,
          parentNs: NS,
          parentTtl: s.configParentTtl ?? parentTtl,
          ...(s.internal ? { internalZone: INTERNAL_ZONE } : {}),
        };
  return {
    zone: ZONE,
    parents,
    ...(s.parentError ? { parentError: s.parentError } : {}),
    servers,
    ...(expected ? { expected } : {}),
    detectionMs: s.detectionMs ?? 1250,
    detectionFrom: s.config === false ? 'defaults' : 'config',
    maxStaleSeconds: s.maxStaleSeconds ?? 120,
  };
}
