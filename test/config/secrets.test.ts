import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import type { ClusterDnsError } from '../../src/errors';

/** Secret lists, the keyed config hash, where the API listens, and the rateLimit block (issue 9). */

const A = 'secret-a-secret-a-secret-a-secret-a-0123';
const B = 'secret-b-secret-b-secret-b-secret-b-0123';

const doc = (lines: string[]) =>
  parseConfig(
    [
      'zone: cluster.test',
      ...lines,
      'nodes:',
      '  - { name: node1, address: 192.0.2.1, peerAddress: 10.0.0.1 }',
      '  - { name: node2, address: 192.0.2.2 }',
      '  - { name: node3, address: 192.0.2.3, listen: [10.0.1.3] }',
    ].join('\n'),
  );

/** The error's message and every problem it lists, one per line. */
function refusal(lines: string[]): string {
  try {
    doc(lines);
  } catch (e) {
    return [(e as ClusterDnsError).message, ...(e as ClusterDnsError).details].join('\n');
  }
  return 'accepted';
}

describe('secrets', () => {
  it('a list: the first sends, all are accepted; one string is a list of one', () => {
    expect(doc([`secret: [${A}, ${B}]`])).toMatchObject({ secret: A, secrets: [A, B] });
    expect(doc([`secret: ${A}`])).toMatchObject({ secret: A, secrets: [A] });
  });

  it.each([
    [`secret: [${A}, short]`, /secret\[1\]: needs at least 32 characters/],
    [`secret: [${A}, ${A}]`, /secret\[1\]: is listed twice/],
    ['secret: []', /list at least one secret/],
  ])('%s is refused with the fix', (line, message) => {
    expect(refusal([line])).toMatch(message);
  });
});

describe('the published config hash', () => {
  it('is keyed: the same config under another sending secret hashes differently', () => {
    expect(doc([`secret: ${A}`]).hash).not.toBe(doc([`secret: ${B}`]).hash);
  });

  it('is no plain hash of the config with its secret in it', () => {
    const c = doc([`secret: ${A}`]);
    const { hash, ...body } = c;
    for (const text of [JSON.stringify(body), JSON.stringify({ ...body, secrets: undefined })])
      expect(createHash('sha256').update(text).digest('hex').slice(0, 16)).not.toBe(hash);
  });

  it('does not change when only accepted secrets are added or removed (a rotation step that keeps the sending one)', () => {
    expect(doc([`secret: [${A}, ${B}]`]).hash).toBe(doc([`secret: ${A}`]).hash);
  });

  it('changes with the rest of the config', () => {
    expect(doc([`secret: ${A}`, 'ttl: 31']).hash).not.toBe(doc([`secret: ${A}`]).hash);
  });
});

describe('where the HTTP API listens', () => {
  it('on the peerAddress when given, else on the DNS listen addresses', () => {
    const c = doc([`secret: ${A}`]);
    expect(c.nodes.map((n) => n.apiListen)).toEqual([['10.0.0.1'], ['192.0.2.2'], ['10.0.1.3']]);
  });
  it('http.listen overrides it for every node', () => {
    const c = doc([`secret: ${A}`, 'http: { listen: [127.0.0.1] }']);
    expect(c.nodes.map((n) => n.apiListen)).toEqual([['127.0.0.1'], ['127.0.0.1'], ['127.0.0.1']]);
  });
});

describe('dns.rateLimit', () => {
  it('is on by default, as the README says', () => {
    expect(doc([`secret: ${A}`]).dns.rateLimit).toEqual({ responsesPerSecond: 100, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: [] });
  });
  it.each([
    ['dns: { rateLimit: { exempt: [10.0.0.0/33] } }', /dns\.rateLimit\.exempt\[0\]: .*prefix length must be 0–32/],
    ['dns: { rateLimit: { exempt: [nonsense] } }', /dns\.rateLimit\.exempt\[0\]: "nonsense" is not an address or prefix/],
    ['dns: { rateLimit: { slip: 11 } }', /slip.*0–10/],
    ['dns: { rateLimit: { responsesPerSecond: -1 } }', /responsesPerSecond.*0 turns rate limiting off/],
    ['dns: { rateLimit: { burst: 5 } }', /burst/],
  ])('%s is refused with the fix', (line, message) => {
    expect(refusal([`secret: ${A}`, line])).toMatch(message);
  });
});
