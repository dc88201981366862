import type { CheckConfig, ClusterConfig, ServiceConfig } from '../../src/config/types';

/** A three-node cluster on 127.0.6.4–6 whose checks and services the test chooses. */
export function cluster(opts: { checks?: CheckConfig[]; services?: Array<Partial<ServiceConfig> & Pick<ServiceConfig, 'name'>> }): ClusterConfig {
  return {
    zone: 'cluster.test',
    ttl: 30,
    negativeTtl: 5,
    secret: 'test-secret',
    secrets: ['test-secret'],
    dns: {
      port: 5353,
      chaos: true,
      minority: 'refused',
      tcpIdleTimeoutMs: 10_000,
      tcpMaxConnections: 100,
      tcpMaxConnectionsPerSource: 16,
      rateLimit: { responsesPerSecond: 100, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: [] },
    },
    peer: { port: 7946, intervalMs: 250, downAfterMs: 1000, upAfterMs: 3000, maxUpAfterMs: 30_000 },
    http: { port: 8053, enabled: false },
    discovery: { port: 8001, enabled: false },
    parent: { ttl: 60 },
    failoverOnCheckFailure: true,
    checks: opts.checks ?? [],
    nodes: [
      { name: 'node1', address: '127.0.6.4', peerAddress: '127.0.6.4', listen: ['127.0.6.4'], apiListen: ['127.0.6.4'], role: 'node' },
      { name: 'node2', address: '127.0.6.5', peerAddress: '127.0.6.5', listen: ['127.0.6.5'], apiListen: ['127.0.6.5'], role: 'node' },
      { name: 'node3', address: '127.0.6.6', peerAddress: '127.0.6.6', listen: ['127.0.6.6'], apiListen: ['127.0.6.6'], role: 'node' },
    ],
    services: (opts.services ?? []).map((s) => ({ port: 1, nodes: ['node1', 'node2'], policy: 'first-healthy', whenAllDown: 'none', ...s })),
    hash: '0000000000000000',
  };
}
