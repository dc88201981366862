import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, SECRET, TestCluster } from '../helpers/cluster';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { poll } from '../helpers/poll';

/**
 * A node with only an IPv6 address (::1) next to two IPv4 nodes, on real agents, asked with dig
 * over IPv6 and IPv4. Its heartbeats go over the IPv4 peer network. Block: 127.0.52.0/24 and ::1
 * on port 5370.
 */

const PORT = 5370;
const CHECK_PORT = 5379;
const yaml = `zone: cluster.test
ttl: 30
secret: "${SECRET}"
dns: { port: ${PORT}, tcpIdleTimeout: 2s }
peer: { port: ${PORT + 1} }
http: { port: ${PORT + 2} }
checks:
  - { type: tcp, port: ${CHECK_PORT}, interval: 200ms, timeout: 100ms }
nodes:
  - { name: node1, address: 127.0.52.1 }
  - { name: node2, address: 127.0.52.2 }
  - { name: node3, address6: "::1", peerAddress: 127.0.52.3 }
`;

let cluster: TestCluster;
const listeners: Server[] = [];
let dig: string;

async function digShort(args: string[]): Promise<string[]> {
  const r = await run(dig, [...args, '-p', String(PORT), '+norec', '+short', '+time=1', '+tries=1'], { timeoutMs: 5000 });
  return r.stdout.trim().split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  dig = requireTool('dig');
  // Every node's check connects to its own listen address (::1 for node3): this listens on all of them.
  for (const host of ['127.0.52.1', '127.0.52.2', '::1']) {
    const s = createServer((c) => c.destroy());
    listeners.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(CHECK_PORT, host, resolve);
    });
  }
  cluster = new TestCluster(yaml);
  await Promise.all(['node1', 'node2', 'node3'].map((n) => cluster.startAgent(n)));
}, 30_000);
afterAll(async () => {
  await cluster?.cleanup();
  await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
});

describe('an IPv6-only node', () => {
  it('answers over IPv6 (dig -6) with its AAAA; its own names and the apex carry ::1, and A is NODATA', async () => {
    expect(await poll(() => digShort(['-6', '@::1', 'node3.cluster.test', 'AAAA']), (got) => got.join() === '::1', 10_000, 100)).toEqual(['::1']);
    for (const server of ['@::1', '@127.0.52.1']) {
      expect(await digShort([server, 'ns3.cluster.test', 'AAAA'])).toEqual(['::1']);
      expect(await poll(() => digShort([server, 'cluster.test', 'AAAA']), (got) => got.join() === '::1', 5000, 100)).toEqual(['::1']);
      expect(await digShort([server, 'cluster.test', 'A'])).toEqual(['127.0.52.1', '127.0.52.2']);
      const a = await run(dig, [server, '-p', String(PORT), '+norec', 'node3.cluster.test', 'A', '+time=1', '+tries=1']);
      expect(a.stdout).toMatch(/status: NOERROR/);
      expect(a.stdout).toMatch(/ANSWER: 0,/);
    }
  });

  it('its check ran against ::1 and passed: node1 sees it up; status reaches it over IPv6', async () => {
    for (const asked of ['node1', 'node3']) {
      const status = await run(process.execPath, [CLI, 'status', '--config', cluster.configPath, '--node', asked, '--json'], { timeoutMs: 10_000 });
      expect(status.code, status.stderr).toBe(0);
      const doc = JSON.parse(status.stdout) as { nodes: { name: string; state: string; address: string | null; address6: string | null }[] };
      expect(doc.nodes.find((n) => n.name === 'node3'), `as ${asked} sees it`).toMatchObject({ state: 'up', address: null, address6: '::1' });
    }
    expect(cluster.agents.get('node3')!.stdout).not.toMatch(/unhealthy/);
  });

  it('delegation glue: AAAA only for its name server', async () => {
    const r = await run(process.execPath, [CLI, 'delegate', 'zonefile', '--config', cluster.configPath]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ns3\.cluster\.test\.\s+\d+\s+IN\s+AAAA\s+::1$/m);
    expect(r.stdout).not.toMatch(/^ns3\.cluster\.test\.\s+\d+\s+IN\s+A\s/m);
    expect(r.stdout).toMatch(/^ns1\.cluster\.test\.\s+\d+\s+IN\s+A\s+127\.0\.52\.1$/m);
  });
});
