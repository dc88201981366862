import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { udpExchange, encodeQuery } from '../helpers/dns';
import { makeKey } from '../helpers/full-config';

/**
 * The failure detector runs in its own thread (src/detector/): a control thread blocked by a real
 * load does not delay a heartbeat. The load: SIGHUP of a config with 200 services signed with ten keys (the longest hold per reload: four keys 0.28–0.74 s, ten 0.49–0.74 s on Node 20 and 0.54–0.58 s on Node 26), its TTL
 * changed each time so every RRset is signed again — compile and signing on the main thread (the
 * DNS answers it gives meanwhile show how long; reading the config is in a thread of its own). node1 and node2 are agents; node3 is this
 * test: a plain UDP socket on node3's peer address records when node1's heartbeats arrive.
 * Loopback block 127.0.190.0/24.
 */

const PORT = 6190;
const PEER_PORT = PORT + 1;
const INTERVAL_MS = 250;
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.190.${i}`, address6: `2001:db8::${i}`, listen: [`127.0.190.${i}`] }));
const RELOADS = 6;

let cluster: TestCluster;
let capture: Socket;
const arrivals: number[] = [];
let keys: string[] = [];

function yaml(ttl: number): string {
  const services = Array.from({ length: 200 }, (_, i) => `  - { name: svc${i}, port: ${10000 + i} }`);
  return clusterYaml({ dnsPort: PORT, peerPort: PEER_PORT, nodes, extra: [`dnssec: { keys: ${JSON.stringify(keys)} }`, 'services:', ...services].join('\n') }).replace('ttl: 30', `ttl: ${ttl}`);
}

async function status(address: string): Promise<{ nodes: { name: string; up: boolean }[] }> {
  return (await fetch(`http://${address}:${PORT + 2}/v1/status`)).json() as Promise<{ nodes: { name: string; up: boolean }[] }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  cluster = new TestCluster('zone: cluster.test');
  // Ten keys: every RRset is signed ten times, so a reload holds the main thread for 1.5 intervals
  // or more on every Node version (Node 26 compiles one key's worth in about 0.1 s).
  for (let i = 0; i < 10; i++) keys.push(await makeKey(cluster.dir));
  cluster.write(yaml(30));
  capture = createSocket('udp4');
  capture.on('message', (_m, rinfo) => {
    if (rinfo.address === nodes[0].address) arrivals.push(performance.now());
  });
  await new Promise<void>((resolve) => capture.bind(PEER_PORT, nodes[2].address, resolve));
  await Promise.all([cluster.startAgent('node1', [], {}, []), cluster.startAgent('node2')]);
  const end = Date.now() + 20_000;
  for (;;) {
    const s = await status(nodes[1].address).catch(() => undefined);
    if (s?.nodes.find((n) => n.name === 'node1')?.up) break;
    if (Date.now() > end) throw new Error('node2 never saw node1 up');
    await sleep(100);
  }
}, 60_000);

afterAll(async () => {
  capture?.close();
  await cluster?.cleanup();
});

describe('the failure detector in its own thread', () => {
  it('heartbeats leave on time while SIGHUPs of a 200-service config signed with ten keys block the main thread; no failover', async () => {
    const agent = cluster.agents.get('node1')!;
    await sleep(1000);
    const from = performance.now();
    const dnsDelays: number[] = [];
    const held: number[] = [];
    for (let i = 1; i <= RELOADS; i++) {
      cluster.write(yaml(30 + i));
      const reloads = (agent.stdout.match(/"event":"reload"/g) ?? []).length;
      process.kill(agent.pid, 'SIGHUP');
      // The config is read in a thread (config/thread.ts); then the main thread compiles and signs,
      // and answers no DNS meanwhile (one answer thread: the main one). Queries one after another
      // until the reload is logged: the longest wait is how long the main thread was held.
      const waits: number[] = [];
      const end = Date.now() + 15_000;
      while ((agent.stdout.match(/"event":"reload"/g) ?? []).length === reloads && Date.now() < end) {
        const t0 = performance.now();
        const answer = await udpExchange(nodes[0].address, PORT, encodeQuery('node1.cluster.test', 'A'), 8000);
        waits.push(performance.now() - t0);
        expect(answer, 'node1 answers DNS during and after the reload').toBeDefined();
        await sleep(10);
      }
      expect(agent.stdout.split('\n').filter((l) => l.includes('"event":"reload"')).length, 'the reload was applied').toBe(reloads + 1);
      held.push(Math.round(Math.max(...waits)));
      dnsDelays.push(waits.length);
      await sleep(300);
    }
    const to = performance.now();
    const during = arrivals.filter((t) => t >= from && t <= to);
    const gaps = during.slice(1).map((t, i) => t - during[i]);
    const maxGap = Math.max(...gaps);
    const report = `main thread held by each reload ${held.join(', ')} ms (the longest of ${dnsDelays.join(', ')} DNS answers asked one after another); heartbeats node1 → node3: ${during.length} in ${((to - from) / 1000).toFixed(1)} s, largest gap ${maxGap.toFixed(0)} ms`;
    console.log(report);
    // No heartbeat waited for the main thread: a heartbeat sent from a held main thread leaves a gap
    // at least as long as the hold (the longest DNS wait), so every gap must be shorter than that,
    // and within half of downAfter whatever a shared 2-core machine adds...
    const longestHold = Math.max(...held);
    expect(maxGap, report).toBeLessThan(longestHold);
    expect(maxGap, report).toBeLessThan(INTERVAL_MS + 250);
    expect(during.length, report).toBeGreaterThan(((to - from) / INTERVAL_MS) * 0.8);
    // ...and the load was real: a DNS answer waited 1.5 intervals or more for the main thread.
    expect(longestHold, report).toBeGreaterThan(1.5 * INTERVAL_MS);
    // No false failover: node2 never found node1 down, nor node1 node2.
    for (const n of ['node1', 'node2']) expect(cluster.agents.get(n)!.stdout, `${n}'s log`).not.toMatch(/"event":"verdict","subject":"node[12]","up":false/);
    expect((await status(nodes[1].address)).nodes.find((n) => n.name === 'node1')?.up).toBe(true);
  }, 90_000);
});
