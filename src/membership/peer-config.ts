import type { ClusterConfig, NodeConfig } from '../config/types';

/**
 * The part of the config the membership protocol reads: nodes (names, roles, peer addresses), the
 * peer timings, the secrets heartbeats are made with, the config hash, and the service names its
 * heartbeats carry health for. The failure-detector thread is given only this (src/detector/): no
 * DNSSEC keys, check passwords, discovery password or client addresses. A `ClusterConfig` is one.
 */
export interface PeerConfig {
  readonly hash: string;
  readonly secret: string;
  readonly secrets: readonly string[];
  readonly peer: ClusterConfig['peer'];
  readonly failoverOnCheckFailure: boolean;
  readonly nodes: readonly PeerNode[];
  readonly services: readonly { readonly name: string }[];
}

export type PeerNode = Pick<NodeConfig, 'name' | 'role' | 'peerAddress'>;

/** The slice of `config` the detector thread receives: plain data, structured-cloneable. */
export function peerConfigOf(config: ClusterConfig): PeerConfig {
  return {
    hash: config.hash,
    secret: config.secret,
    secrets: [...config.secrets],
    peer: { ...config.peer },
    failoverOnCheckFailure: config.failoverOnCheckFailure,
    nodes: config.nodes.map((n) => ({ name: n.name, role: n.role, peerAddress: n.peerAddress })),
    services: config.services.map((s) => ({ name: s.name })),
  };
}
