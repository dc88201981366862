import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestCluster } from '../helpers/cluster';
import { command, discoveryCluster, exchange, until } from './helpers';

/** A running agent's discovery service across a SIGHUP reload. Block: 127.0.83.0/24 (.6). */

const HOST = '127.0.83.6';
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

describe('reload', () => {
  it('a password added by SIGHUP applies to new connections; a new service is told at once', async () => {
    cluster = discoveryCluster({ nodes: [{ name: 'node1', address: HOST }], dnsPort: 5861, discoveryPort: 5864, services: ['{ name: cache, port: 6379 }'] });
    const agent = await cluster.startAgent('node1');
    await until('serving', () => exchange(HOST, 5864, [command('SENTINEL', 'get-master-addr-by-name', 'cache')]), (r) => r.text.startsWith('*2'), 10_000);
    const before = readFileSync(cluster.configPath, 'utf8');
    cluster.write(before.replace('enabled: true }', 'enabled: true, password: pw-0123 }').replace('  - { name: cache, port: 6379 }', '  - { name: cache, port: 6379 }\n  - { name: queue, port: 6380 }'));
    process.kill(agent.pid, 'SIGHUP');
    await until('NOAUTH after the reload', () => exchange(HOST, 5864, [command('PING')]), (r) => r.text === '-NOAUTH Authentication required.\r\n', 5000);
    const r = await exchange(HOST, 5864, [command('AUTH', 'pw-0123') + command('SENTINEL', 'get-master-addr-by-name', 'queue')]);
    expect(r.text).toBe(`+OK\r\n*2\r\n$10\r\n${HOST}\r\n$4\r\n6380\r\n`);
  });
});
