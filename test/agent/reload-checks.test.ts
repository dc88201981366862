import { createServer, type Server } from 'node:net';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery, udpExchange } from '../helpers/dns';

/** SIGHUP applies checks and services in full, on real agent processes. Block: 127.0.51.0/24. */

const PORT = 5360;
const SERVICE_PORT = 5369;
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.51.${i}` }));
let cluster: TestCluster;
let service: Server;

const service1 = (ttl: number) =>
  clusterYaml({
    dnsPort: PORT,
    nodes,
    extra: `services:\n  - { name: svc, port: ${SERVICE_PORT}, check: { type: tcp, interval: 200ms, timeout: 100ms } }`,
  }).replace('ttl: 30', `ttl: ${ttl}`);

async function svc(server: string): Promise<{ addrs: string[]; ttl: number | undefined }> {
  const raw = await udpExchange(server, PORT, encodeQuery('svc.cluster.test', 'A'), 500);
  const m = raw ? packet.decode(raw) : undefined;
  return { addrs: (m?.answers ?? []).map((a) => String(a.data)).sort(), ttl: m?.answers?.[0]?.ttl };
}

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`still ${JSON.stringify(v)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  // The service runs on node1 only: node2 and node3 must find that out with the check the reload adds.
  service = createServer((c) => c.destroy());
  await new Promise<void>((resolve) => service.listen(SERVICE_PORT, '127.0.51.1', resolve));
  cluster = new TestCluster(clusterYaml({ dnsPort: PORT, nodes }));
  await Promise.all(nodes.map((n) => cluster.startAgent(n.name)));
  await until(() => udpExchange('127.0.51.1', PORT, encodeQuery('node1.cluster.test', 'A'), 500), (r) => !!r && packet.decode(r).rcode === 'NOERROR', 10_000);
}, 30_000);
afterAll(async () => {
  await cluster?.cleanup();
  await new Promise((r) => service?.close(r));
});

describe('SIGHUP applies checks', () => {
  it('a service added on reload is checked on every node: only the node where it runs answers', async () => {
    cluster.write(service1(30));
    for (const n of nodes) cluster.agents.get(n.name)!.kill('SIGHUP');
    for (const n of nodes) {
      const got = await until(() => svc(n.address), (r) => r.addrs.join() === '127.0.51.1', 5000);
      expect(got.addrs).toEqual(['127.0.51.1']);
    }
    const node2 = cluster.agents.get('node2')!;
    await node2.waitForOutput(/service svc unhealthy: tcp 127\.0\.51\.2:5369/, 2000);
    // It stays that way: not a transient before the old monitor's "no check" came back.
    await new Promise((r) => setTimeout(r, 1000));
    for (const n of nodes) expect((await svc(n.address)).addrs).toEqual(['127.0.51.1']);
  });

  it('a reload that leaves the check alone keeps its results: no flap, and the new TTL applies', async () => {
    const node2 = cluster.agents.get('node2')!;
    const flipsBefore = (node2.stdout.match(/"event":"check"/g) ?? []).length;
    cluster.write(service1(45));
    for (const n of nodes) cluster.agents.get(n.name)!.kill('SIGHUP');
    const seen = new Set<string>();
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      for (const n of nodes) {
        const r = await svc(n.address);
        seen.add(r.addrs.join());
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([...seen]).toEqual(['127.0.51.1']);
    expect((await svc('127.0.51.2')).ttl).toBe(45);
    expect((node2.stdout.match(/"event":"check"/g) ?? []).length).toBe(flipsBefore);
  });

  it('a reload that removes the check takes it away: every node answers again', async () => {
    cluster.write(clusterYaml({ dnsPort: PORT, nodes, extra: `services:\n  - { name: svc, port: ${SERVICE_PORT} }` }));
    for (const n of nodes) cluster.agents.get(n.name)!.kill('SIGHUP');
    for (const n of nodes) await until(() => svc(n.address), (r) => r.addrs.length === 3, 5000);
  });
});
