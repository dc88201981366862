import * as packet from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery, udpExchange } from '../helpers/dns';
import { libfaketime } from '../helpers/faketime';
import { requireTool } from '../helpers/tools';

/**
 * Found by the fault lab (issue 10, "clock ±300 s"): with one agent's wall clock 5 minutes ahead
 * (libfaketime), every name server's SOA serial followed that clock and stayed there. Real agents
 * on 127.0.41.x; node3 runs 300 s ahead. Block: 127.0.41.0/24.
 */
const PORT = 5441;
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.41.${i}` }));

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

async function serials(servers = nodes): Promise<number[]> {
  return Promise.all(
    servers.map(async (n) => {
      const r = await udpExchange(n.address, PORT, encodeQuery('cluster.test', 'SOA'), 500);
      if (!r) return -1;
      const m = packet.decode(r);
      return m.rcode === 'NOERROR' ? (m.answers![0].data as packet.SoaData).serial : -1;
    }),
  );
}

/** Polls until the servers give one serial (above `over`) or `ms` passed; returns the last serials. */
async function agreed(ms: number, servers = nodes, over = 0): Promise<number[]> {
  const end = Date.now() + ms;
  let s = await serials(servers);
  while ((new Set(s).size !== 1 || s[0] <= over) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    s = await serials(servers);
  }
  return s;
}

describe('SOA serial with one node’s clock 5 minutes ahead', () => {
  it('all name servers agree on a serial that does not follow the fast clock, and it grows on a change', async () => {
    const lib = libfaketime();
    cluster = new TestCluster(clusterYaml({ dnsPort: PORT, nodes }));
    const fast = { LD_PRELOAD: lib, FAKETIME: '+300s', DONT_FAKE_MONOTONIC: '1' };
    await Promise.all([cluster.startAgent('node1'), cluster.startAgent('node2'), cluster.startAgent('node3', [], fast)]);
    const before = await agreed(8000);
    expect(new Set(before).size, `serials ${before.join(', ')}`).toBe(1);
    const now = Math.floor(Date.now() / 1000);
    expect(before[0]).toBeLessThan(now + 60);
    expect(before[0]).toBeGreaterThan(now - 60);

    // node3 restarts, still 5 minutes ahead: it takes the cluster's serial.
    cluster.agents.get('node3')!.kill('SIGKILL');
    await cluster.startAgent('node3', [], fast);
    const after = await agreed(8000);
    expect(new Set(after).size, `serials ${after.join(', ')}`).toBe(1);
    expect(after[0]).toBeGreaterThanOrEqual(before[0]);
    expect(after[0]).toBeLessThan(now + 60);

    // A change of answers (node2 fails over): the serial grows by a change, not to node3's clock.
    cluster.agents.get('node2')!.kill('SIGKILL');
    const survivors = [nodes[0], nodes[2]];
    const changed = await agreed(8000, survivors, after[0]);
    expect(new Set(changed).size, `serials ${changed.join(', ')}`).toBe(1);
    expect(changed[0]).toBeGreaterThan(after[0]);
    expect(changed[0]).toBeLessThan(now + 60);
  });
});
