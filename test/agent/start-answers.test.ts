import * as packet from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery, udpExchange } from '../helpers/dns';

/**
 * Found by the fault lab (issue 10, "start and restart"): an agent served as soon as it heard a
 * majority and answered the names of nodes it had not heard yet with a failover target for
 * 50–150 ms. Real agents on 127.0.40.x, every node name asked from every agent at 20 Hz from the
 * first answer on: a node's name is never answered with another node's address while no majority
 * has found it down (fail open: unknown is not failed).
 * Block: 127.0.40.0/24.
 */
const PORT = 5440;
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.40.${i}` }));

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

/** Polls every agent for every node name until `stop()`; returns each answer that named another node. */
function watch(): { stop: () => Promise<string[]>; answered: () => number } {
  const wrong: string[] = [];
  let answered = 0;
  let running = true;
  const loop = (async () => {
    const started = Date.now();
    while (running) {
      await Promise.all(
        nodes.flatMap((server) =>
          nodes.map(async (n) => {
            const reply = await udpExchange(server.address, PORT, encodeQuery(`${n.name}.cluster.test`, 'A'), 200);
            if (!reply) return;
            const m = packet.decode(reply);
            if (m.rcode !== 'NOERROR') return;
            answered++;
            const addrs = (m.answers ?? []).map((a) => String(a.data));
            if (addrs.join() !== n.address) wrong.push(`+${Date.now() - started} ms ${server.name} answered ${n.name} with ${addrs.join(', ') || 'nothing'}`);
          }),
        ),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return wrong;
    },
    answered: () => answered,
  };
}

describe('real agents starting and restarting answer healthy nodes with their own addresses', () => {
  it('node3 starts after node1 and node2 already serve; then node1 restarts', async () => {
    // downAfter 4 s: a process that takes long to start (a loaded CI machine) is not down yet, so
    // every node is healthy for the cluster the whole time and any other address is wrong.
    cluster = new TestCluster(clusterYaml({ dnsPort: PORT, nodes }).replace(/peer: \{ port: (\d+) \}/, 'peer: { port: $1, downAfter: 4s }'));
    const w = watch();
    await Promise.all([cluster.startAgent('node1'), cluster.startAgent('node2')]);
    await new Promise((r) => setTimeout(r, 700));
    await cluster.startAgent('node3');
    await new Promise((r) => setTimeout(r, 2500));
    const node1 = cluster.agents.get('node1')!;
    node1.kill('SIGKILL');
    await cluster.startAgent('node1');
    await new Promise((r) => setTimeout(r, 2500));
    const wrong = await w.stop();
    expect(w.answered(), 'the agents answered while polled').toBeGreaterThan(100);
    expect(wrong).toEqual([]);
  });
});
