import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { udpQuery } from '../helpers/dns';
import { poll } from '../helpers/poll';

/** SIGHUP reloads a validated config; a bad one is refused and the running one kept. Block 127.0.14.0/24. */

const PORT = 5314;
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.14.${i}` }));
let cluster: TestCluster;

const soaSerial = async () => ((await udpQuery('127.0.14.1', PORT, 'cluster.test', 'SOA')).answers?.[0]?.data as packet.SoaData | undefined)?.serial ?? 0;

beforeAll(async () => {
  cluster = new TestCluster(clusterYaml({ dnsPort: PORT, nodes }));
  await Promise.all(nodes.map((n) => cluster.startAgent(n.name)));
  await poll(() => udpQuery('127.0.14.1', PORT, 'node1.cluster.test', 'A'), (m) => m.rcode === 'NOERROR', 10_000);
});
afterAll(async () => {
  await cluster?.cleanup();
});

describe('SIGHUP', () => {
  it('applies a new TTL and moves the SOA serial forward', async () => {
    const before = await soaSerial();
    cluster.write(clusterYaml({ dnsPort: PORT, nodes }).replace('ttl: 30', 'ttl: 45'));
    cluster.agents.get('node1')!.kill('SIGHUP');
    const m = await poll(() => udpQuery('127.0.14.1', PORT, 'node2.cluster.test', 'A'), (x) => x.answers?.[0]?.ttl === 45, 5000);
    expect(m.answers![0].ttl).toBe(45);
    expect(await soaSerial()).toBeGreaterThan(before);
    await poll(async () => cluster.agents.get('node1')!.stdout, (s) => /config reloaded/.test(s), 2000);
    expect(cluster.agents.get('node1')!.stdout).toMatch(/"event":"reload"/);
  });

  it('keeps the running config when the new one is invalid, and says why', async () => {
    cluster.write(clusterYaml({ dnsPort: PORT, nodes }).replace('ttl: 30', 'ttl: lots'));
    cluster.agents.get('node1')!.kill('SIGHUP');
    const log = await poll(async () => cluster.agents.get('node1')!.stdout, (s) => /reload-failed/.test(s), 5000);
    expect(log).toMatch(/config reload failed, keeping the running config: .*ttl/);
    const m = await udpQuery('127.0.14.1', PORT, 'node2.cluster.test', 'A');
    expect(m.rcode).toBe('NOERROR');
    expect(m.answers![0].ttl).toBe(45);
    expect(cluster.agents.get('node1')!.child.exitCode).toBeNull();
  });

  it('folds a burst of SIGHUPs into a few reloads, and applies the file as it is after the burst', async () => {
    const agent = cluster.agents.get('node1')!;
    const reloads = () => agent.stdout.split('\n').filter((l) => /"event":"(reload|reload-failed)"/.test(l)).length;
    const before = reloads();
    cluster.write(clusterYaml({ dnsPort: PORT, nodes }).replace('ttl: 30', 'ttl: 50'));
    // 200 signals 5 ms apart (each delivered on its own): one config thread each would queue 200
    // reads, 40–100 ms apiece, and the last file would be applied 10–20 s later.
    for (let i = 0; i < 200; i++) {
      agent.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 5));
    }
    cluster.write(clusterYaml({ dnsPort: PORT, nodes }).replace('ttl: 30', 'ttl: 55'));
    agent.kill('SIGHUP');
    const m = await poll(() => udpQuery('127.0.14.1', PORT, 'node2.cluster.test', 'A'), (x) => x.answers?.[0]?.ttl === 55, 3000);
    expect(m.answers?.[0]?.ttl, agent.stdout.slice(-2000)).toBe(55);
    // The reloads stop soon after the burst (one more may follow the last signal): none left queued.
    const quiet = await poll(
      async () => {
        const n = reloads();
        await new Promise((r) => setTimeout(r, 700));
        return n === reloads() ? n : -1;
      },
      (n) => n >= 0,
      4000,
    );
    expect(quiet, `reloads still coming 4 s after the burst: ${reloads() - before} so far`).toBeGreaterThanOrEqual(0);
    expect(quiet - before).toBeLessThan(60);
    expect(agent.child.exitCode).toBeNull();
  });
});
