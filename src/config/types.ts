import type { KeyFiles } from '../dnssec/keys';
/** The validated, normalised configuration every part of clusterdns reads. Times are milliseconds. */

export type NodeRole = 'node' | 'witness';

export interface NodeConfig {
  /** DNS label, lowercase; the node answers as `<name>.<zone>`. */
  readonly name: string;
  /** IPv4 address clients reach the node on; the agent's DNS listens here. A node has at least one
   * of `address` and `address6`. */
  readonly address?: string;
  readonly address6?: string;
  /**
   * Addresses clients inside the private network reach the node on; `internal.<zone>` answers with
   * them. Apart from peerAddress, which may be a dedicated heartbeat network clients cannot route to.
   */
  readonly privateAddress?: string;
  readonly privateAddress6?: string;
  /** Address peers send heartbeats to (defaults to `privateAddress`, else `address`, else `address6`). */
  readonly peerAddress: string;
  /** Addresses the agent's DNS listens on (default: address, address6 and the private ones). Behind NAT (e.g. an EC2
   * public address), list the private address the machine really has. */
  readonly listen: readonly string[];
  /** Where the node's HTTP API listens: `http.listen` when set, else its peerAddress (the private
   * network) when the config gives one, else its listen addresses (issue 9: nothing private on a
   * public address). */
  readonly apiListen: readonly string[];
  readonly rack?: string;
  readonly role: NodeRole;
}

export type CheckType = 'tcp' | 'redis' | 'http' | 'exec';

export interface CheckConfig {
  readonly type: CheckType;
  /** Host to check; defaults to the checking node's first `listen` address (see health/monitor.ts). */
  readonly host?: string;
  readonly port?: number;
  /** http: path (default `/`) and the status codes counted as healthy (default 200–399). */
  readonly path?: string;
  readonly expectStatus?: readonly number[];
  /** exec: argv, run without a shell; exit 0 is healthy. */
  readonly command?: readonly string[];
  /** redis: optional AUTH password. */
  readonly password?: string;
  /** redis: healthy only while `ROLE` says this (a service that follows the current primary). */
  readonly role?: 'master' | 'replica';
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive successes to become healthy / failures to become unhealthy. */
  readonly rise: number;
  readonly fall: number;
}

export interface DiscoveryTls {
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile?: string;
  readonly authClients: 'no' | 'optional' | 'yes';
}

export type ServicePolicy = 'first-healthy' | 'all-healthy';

export interface ServiceConfig {
  /** DNS label: answers at `<name>.<zone>` (A/AAAA) and `_<name>._tcp.<zone>` (SRV). */
  readonly name: string;
  readonly port: number;
  /** Node names, in preference order for `first-healthy`. */
  readonly nodes: readonly string[];
  readonly policy: ServicePolicy;
  /** What to answer when none of its nodes is healthy: nothing (NODATA) or every listed node. */
  readonly whenAllDown: 'none' | 'all';
  readonly check?: CheckConfig;
}

export interface ClusterConfig {
  /** Lowercase, no trailing dot. */
  readonly zone: string;
  readonly ttl: number;
  /** SOA minimum: how long resolvers cache NXDOMAIN/NODATA (RFC 2308). */
  readonly negativeTtl: number;
  /** The secret heartbeats and cookies are made with: the first of `secrets`. */
  readonly secret: string;
  /** Every secret accepted from peers (and in cookies), the sending one first. */
  readonly secrets: readonly string[];
  readonly dns: {
    readonly port: number;
    /** Answer CHAOS TXT hostname.bind / id.server with the node name. */
    readonly chaos: boolean;
    /** What a node that is in the minority answers for the zone. */
    readonly minority: 'refused' | 'servfail';
    readonly tcpIdleTimeoutMs: number;
    readonly tcpMaxConnections: number;
    /** Connections one client address may hold, over all of the node's addresses together. */
    readonly tcpMaxConnectionsPerSource: number;
    /** Answer threads: a number, or `auto` (answer/threads.ts answerThreads). */
    readonly workers: 'auto' | number;
    readonly rateLimit: {
      readonly responsesPerSecond: number;
      readonly slip: number;
      readonly ipv4PrefixLength: number;
      readonly ipv6PrefixLength: number;
      readonly exempt: readonly string[];
    };
    /**
     * Client prefixes (`address/length`) that may ask `internal.<zone>` names; others get REFUSED.
     * Undefined: every client may.
     */
    readonly internalFrom?: readonly string[];
  };
  readonly peer: {
    readonly port: number;
    readonly intervalMs: number;
    readonly downAfterMs: number;
    readonly upAfterMs: number;
    /** Upper bound of the flap-grown hold-down. */
    readonly maxUpAfterMs: number;
  };
  readonly http: { readonly port: number; readonly enabled: boolean; readonly listen?: readonly string[] };
  /** The Sentinel-protocol discovery service (src/discovery/); `password` is its AUTH password. */
  readonly discovery: {
    readonly port: number;
    readonly enabled: boolean;
    readonly password?: string;
    /** ACL users besides `default`; with users and no `password`, `default` is off. */
    readonly users?: ReadonlyArray<{ readonly name: string; readonly password: string }>;
    /** A TLS listener (Redis's tls-port …); the files are read at start and at every reload (SIGHUP). */
    readonly tls?: DiscoveryTls;
  };
  readonly parent: { readonly ttl: number };
  /** Node names fail over when the node's own checks fail. */
  readonly failoverOnCheckFailure: boolean;
  readonly checks: readonly CheckConfig[];
  readonly nodes: readonly NodeConfig[];
  readonly services: readonly ServiceConfig[];
  /** Sign the zone with these keys (read from their files at load); absent: unsigned. */
  readonly dnssec?: DnssecConfig;
  /**
   * HMAC-SHA256 of the normalised config without its secrets, keyed by a key derived from the
   * sending secret; first 16 hex digits. Peers compare it. Unkeyed, it would let anyone who reads
   * it test guesses of the secret or a check's password offline.
   */
  readonly hash: string;
}

export interface DnssecConfig {
  /** Key base paths as written in the config, and the keys read from them, in the same order. */
  readonly keyPaths: readonly string[];
  readonly keys: readonly KeyFiles[];
  /** Seconds a signature is valid, and after which it is made again. */
  readonly validity: number;
  readonly refresh: number;
}

/** The node's client-facing addresses: `address` and/or `address6`, IPv4 first. */
export function nodeAddresses(n: { readonly address?: string; readonly address6?: string }): string[] {
  return [n.address, n.address6].filter((a): a is string => a !== undefined);
}

/** The node's private addresses, IPv4 first (may be empty). */
export function privateAddresses(n: { readonly privateAddress?: string; readonly privateAddress6?: string }): string[] {
  return [n.privateAddress, n.privateAddress6].filter((a): a is string => a !== undefined);
}

/** The label under the zone that holds the names answered with private addresses. */
export const INTERNAL_LABEL = 'internal';

/** `internal.<zone>` names exist when any node has a private address. */
export function hasInternalNames(config: { readonly nodes: readonly { readonly privateAddress?: string; readonly privateAddress6?: string }[] }): boolean {
  return config.nodes.some((n) => privateAddresses(n).length > 0);
}

/** Name servers are the non-witness nodes, in config order: ns1 is the first of them. */
export function nameServerNodes<N extends { role: NodeRole }>(config: { nodes: readonly N[] }): N[] {
  return config.nodes.filter((n) => n.role !== 'witness');
}
