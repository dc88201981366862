import { hostPort } from '../net/host-port';
import type { DnssecObservation } from './dnssec';

/**
 * What `check` gathers (observations) and what it concludes (findings). Observations are plain data
 * so that every conclusion is a pure function of them, tested from tables without sockets.
 */

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** One record as received: owner and data lowercase without the trailing dot. */
export interface SeenRecord {
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  /** Address for A/AAAA, target for NS, `mname serial` for SOA, text for TXT. */
  readonly data: string;
  readonly serial?: number;
}

export interface Reply {
  readonly rcode: string;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly answer: readonly SeenRecord[];
  readonly authority: readonly SeenRecord[];
  readonly additional: readonly SeenRecord[];
  /** The reply carried an OPT record (RFC 6891). */
  readonly edns: boolean;
  /** EDNS NSID (RFC 5001): the answering node's name. */
  readonly nsid?: string;
  readonly ms: number;
}

export type Failure = 'timeout' | 'refused' | 'unreachable' | 'malformed';

/** A question's outcome: a reply of any rcode, or no usable reply at all. */
export type Outcome = { readonly reply: Reply } | { readonly failure: Failure; readonly detail: string };

export interface ParentObservation {
  /** The parent zone the servers were found for (`test` for `cluster.test`); undefined with --parent. */
  readonly zone?: string;
  readonly server: Endpoint;
  /** The server's own name when it was found by walking (ns.test), for the report. */
  readonly serverName?: string;
  /** Non-recursive `<zone> NS` to that server: a referral when the delegation is in place. */
  readonly outcome: Outcome;
}

export interface ServerObservation {
  readonly endpoint: Endpoint;
  /** SOA at the apex over UDP, with EDNS and NSID asked. */
  readonly udpSoa: Outcome;
  readonly tcpSoa: Outcome;
  readonly ns?: Outcome;
  /** `<name> A|AAAA` (lowercase FQDN without dot, then type) → outcome over UDP. */
  readonly names: ReadonlyMap<string, Outcome>;
}

/** The cluster as its config describes it (only with --config). */
export interface ExpectedCluster {
  readonly nodes: readonly {
    readonly name: string;
    readonly address?: string;
    readonly address6?: string;
    readonly nsName: string;
    /** What the node's internal.<zone> names answer with while it is up (with `internalZone`). */
    readonly internal?: readonly string[];
  }[];
  /** internal.<zone>, when the config gives nodes private addresses. */
  readonly internalZone?: string;
  /** The NS set and glue the parent should hold, from src/parent/records.ts. */
  readonly parentNs: readonly string[];
  readonly parentTtl: number;
}

export interface Observations {
  readonly zone: string;
  readonly parents: readonly ParentObservation[];
  /** Why no parent server could be asked (walk failed); undefined when `parents` is not empty. */
  readonly parentError?: string;
  readonly servers: readonly ServerObservation[];
  readonly expected?: ExpectedCluster;
  /** How long the cluster takes to fail a dead node's names over: peer.downAfter + peer.interval. */
  readonly detectionMs: number;
  readonly detectionFrom: 'config' | 'defaults';
  readonly maxStaleSeconds: number;
  /** DS, DNSKEY and signed answers (see dnssec.ts). */
  readonly dnssec?: DnssecObservation;
}

export type Severity = 'ok' | 'warn' | 'degraded' | 'broken';

export interface Finding {
  readonly severity: Severity;
  /** Stable identifier, for programs reading --json. */
  readonly code: string;
  readonly subject: string;
  readonly message: string;
  /** What to do about it. */
  readonly fix?: string;
  /** May be a change in progress (serials moving, failover not yet done): ask again once before believing it. */
  readonly transient?: boolean;
}

/** `nsK.<zone>` as it is named under internal.<zone>. */
export function internalName(name: string, zone: string, internalZone: string): string {
  return `${name.slice(0, -zone.length)}${internalZone}`;
}

export function queryKey(name: string, type: string): string {
  return `${name} ${type}`;
}

export function formatEndpoint(e: Endpoint): string {
  return hostPort(e.host, e.port === 53 ? undefined : e.port);
}
