import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { ClusterDnsError } from '../../src/errors';
import { SECRET } from '../helpers/cluster';

/** peer.profile sets interval, downAfter and upAfter together; explicit keys still win. */
const yaml = (peer: string) => `zone: cluster.test
secret: "${SECRET}"
${peer ? `peer: ${peer}\n` : ''}nodes:
  - { name: node1, address: 127.0.0.21 }
  - { name: node2, address: 127.0.0.22 }
  - { name: node3, address: 127.0.0.23 }
`;

describe('peer.profile', () => {
  it.each([
    ['no peer section: lan', '', { intervalMs: 250, downAfterMs: 1000, upAfterMs: 3000 }],
    ['lan', '{ profile: lan }', { intervalMs: 250, downAfterMs: 1000, upAfterMs: 3000 }],
    ['wan', '{ profile: wan }', { intervalMs: 500, downAfterMs: 3000, upAfterMs: 10_000 }],
    ['wan with an explicit downAfter', '{ profile: wan, downAfter: 4s }', { intervalMs: 500, downAfterMs: 4000, upAfterMs: 10_000 }],
    ['lan with every timing explicit', '{ profile: lan, interval: 100ms, downAfter: 500ms, upAfter: 1s }', { intervalMs: 100, downAfterMs: 500, upAfterMs: 1000 }],
    ['no profile, one explicit key', '{ upAfter: 5s }', { intervalMs: 250, downAfterMs: 1000, upAfterMs: 5000 }],
  ])('%s', (_name, peer, want) => {
    expect(parseConfig(yaml(peer)).peer).toMatchObject({ port: 7946, maxUpAfterMs: 60_000, ...want });
  });

  it('an unknown profile is an error that names the field and the choices', () => {
    let err: unknown;
    try {
      parseConfig(yaml('{ profile: satellite }'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClusterDnsError);
    expect([(err as ClusterDnsError).message, ...(err as ClusterDnsError).details].join('\n')).toMatch(/peer\.profile.*lan or wan/);
  });

  it('the cross-field check applies to the resolved timings', () => {
    expect(() => parseConfig(yaml('{ profile: wan, downAfter: 800ms }'))).toThrow(ClusterDnsError);
  });
});
