import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, SECRET } from './cluster';
import { run } from './proc';

/**
 * A one-node cluster with every feature on at once: a private address with internal names limited
 * by internalFrom, response-rate limiting, cookies (always on), the HTTP API on the private address,
 * Sentinel discovery, and a DNSSEC-signed zone. For tests that attack or reload the whole agent.
 */
export interface FullConfig {
  address: string;
  privateAddress: string;
  dnsPort: number;
  peerPort: number;
  httpPort: number;
  discoveryPort: number;
  /** Key base names (see makeKey). */
  keys: string[];
  internalFrom?: string[];
  rateLimit?: { responsesPerSecond: number; slip?: number };
  /** DNSSEC signature validity and refresh, as the config writes them. */
  validity?: string;
  refresh?: string;
  secrets?: string[];
  tcpIdleTimeout?: string;
  extra?: string;
}

export function fullConfigYaml(c: FullConfig): string {
  const rl = c.rateLimit ?? { responsesPerSecond: 0 };
  return [
    'zone: cluster.test',
    'ttl: 30',
    `secret: ${JSON.stringify(c.secrets ?? [SECRET])}`,
    `dns: { port: ${c.dnsPort}, tcpIdleTimeout: ${c.tcpIdleTimeout ?? '2s'}, internalFrom: ${JSON.stringify(c.internalFrom ?? ['127.0.0.0/8'])}, ` +
      `rateLimit: { responsesPerSecond: ${rl.responsesPerSecond}, slip: ${rl.slip ?? 2} } }`,
    `peer: { port: ${c.peerPort} }`,
    `http: { port: ${c.httpPort} }`,
    `discovery: { enabled: true, port: ${c.discoveryPort} }`,
    `dnssec: { keys: ${JSON.stringify(c.keys)}${c.validity ? `, validity: ${c.validity}` : ''}${c.refresh ? `, refresh: ${c.refresh}` : ''} }`,
    'nodes:',
    `  - { name: solo, address: ${c.address}, privateAddress: ${c.privateAddress} }`,
    'services:',
    '  - { name: redis-12000, port: 12000 }',
    c.extra ?? '',
  ].join('\n');
}

/** A CSK for cluster.test made by `clusterdns dnssec keygen` into `dir`; its base name. */
export async function makeKey(dir: string): Promise<string> {
  const config = join(dir, 'keygen.yaml');
  writeFileSync(config, `zone: cluster.test\nsecret: "${SECRET}"\nnodes:\n  - { name: solo, address: 192.0.2.1 }\n`);
  const r = await run(process.execPath, [CLI, 'dnssec', 'keygen', '--config', config, '--directory', dir]);
  if (r.code !== 0) throw new Error(`dnssec keygen failed: ${r.stderr}`);
  return r.stdout.trim();
}
