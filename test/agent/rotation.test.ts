import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { clusterYaml, SECRET, TestCluster } from '../helpers/cluster';

/**
 * Rotating the shared secret on a live three-node cluster, one node at a time, by the README's
 * procedure: add the new secret as accepted, make it the sending one, drop the old one. Every agent
 * is watched every 100 ms throughout: every node stays up on every agent, no failover, no
 * heartbeat rejected. A node given a secret nobody else has shows the watch can see a partition.
 * Block: 127.0.94.100–103.
 */

const PORT = 5640;
const NEW = 'the-new-secret-the-new-secret-the-new-0123';
const OTHER = 'a-stray-secret-a-stray-secret-a-stray-0123';
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.94.10${i}` }));
let cluster: TestCluster;

const yaml = (secret: string) => clusterYaml({ dnsPort: PORT, nodes }).replace(`secret: "${SECRET}"`, `secret: ${secret}`);

interface Sample {
  node: string;
  up: Record<string, number>;
  failovers: number;
  hmacRejected: number;
}

async function sample(node: string, address: string): Promise<Sample> {
  const text = await (await fetch(`http://${address}:${PORT + 2}/metrics`)).text();
  const value = (prefix: string) => Number(text.split('\n').find((l) => l.startsWith(prefix))?.split(' ').pop() ?? NaN);
  const up: Record<string, number> = {};
  for (const n of nodes) up[n.name] = value(`clusterdns_node_up{node="${n.name}"}`);
  return { node, up, failovers: value('clusterdns_failovers_total'), hmacRejected: value('clusterdns_heartbeats_rejected_total{reason="hmac"}') };
}

/** The config hashes of the agent's reloads so far, in order. */
const reloadHashes = (stdout: string) => logLines(stdout, 'reload').map((l) => String(l.hash));
/** The hash the agent started with (its listening line). */
const initialHash = (stdout: string) => String(logLines(stdout, 'listening')[0]?.hash);
function logLines(stdout: string, event: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const sampleAll = () => Promise.all(nodes.map((n) => sample(n.name, n.address)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  cluster = new TestCluster(yaml(JSON.stringify(SECRET)));
  await Promise.all(nodes.map((n) => cluster.startAgent(n.name)));
  const end = Date.now() + 15_000;
  while (!(await sampleAll().catch(() => [])).every((s) => s.node && Object.values(s.up).every((u) => u === 1)) || Date.now() < 0) {
    if (Date.now() > end) throw new Error('the cluster did not come up');
    await sleep(100);
  }
}, 30_000);

afterAll(async () => {
  await cluster?.cleanup();
});

describe('secret rotation', () => {
  it('one node at a time through add, switch, drop: no verdict changes, nothing rejected', async () => {
    const start = await sampleAll();
    const seen: Sample[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        seen.push(...(await sampleAll()));
        await sleep(100);
      }
    })();
    const steps = [`[${JSON.stringify(SECRET)}, ${JSON.stringify(NEW)}]`, `[${JSON.stringify(NEW)}, ${JSON.stringify(SECRET)}]`, JSON.stringify(NEW)];
    try {
      for (const secret of steps) {
        cluster.write(yaml(secret));
        for (const n of nodes) {
          const agent = cluster.agents.get(n.name)!;
          const before = reloadHashes(agent.stdout);
          agent.kill('SIGHUP');
          const until = Date.now() + 5000;
          while (reloadHashes(agent.stdout).length === before.length && !/"event":"reload-failed"/.test(agent.stdout) && Date.now() < until) await sleep(20);
          // The reload happened, and took this step's config (a new hash): a step that was never
          // applied would leave every node on the old secret and prove nothing.
          expect(agent.stdout, `${n.name}: reload failed`).not.toMatch(/"event":"reload-failed"/);
          const after = reloadHashes(agent.stdout);
          expect(after.length, `${n.name}: no reload logged within 5 s of SIGHUP for step ${secret}`).toBe(before.length + 1);
          // The hash is keyed by the sending secret (the first): it changes at the switch step.
          expect(after.at(-1), `${n.name}: the reload did not take the step's config`).toBe(loadConfig(cluster.configPath, {}).hash);
          if (secret.startsWith(`[${JSON.stringify(NEW)}`)) expect(after.at(-1), `${n.name}: still sends the old secret`).not.toBe(before.at(-1) ?? initialHash(agent.stdout));
          // A few heartbeat intervals (250 ms) with this node on the new step and the others not.
          await sleep(1000);
        }
      }
    } finally {
      watching = false;
      await watch;
    }
    expect(seen.length).toBeGreaterThan(30);
    const bad = seen.filter((s) => Object.values(s.up).some((u) => u !== 1));
    expect(bad, JSON.stringify(bad.slice(0, 3))).toEqual([]);
    const end = await sampleAll();
    for (let i = 0; i < nodes.length; i++) {
      expect(end[i].failovers).toBe(start[i].failovers);
      expect(end[i].hmacRejected).toBe(0);
      expect(cluster.agents.get(nodes[i].name)!.stdout).toMatch(/"event":"reload"/);
    }
    // The last step took effect: the old secret is no longer accepted. node1 alone back on it is
    // rejected by node2 (then put back on the new one).
    cluster.write(yaml(JSON.stringify(SECRET)));
    cluster.agents.get('node1')!.kill('SIGHUP');
    const until = Date.now() + 10_000;
    let s2 = (await sampleAll())[1];
    while (s2.hmacRejected === 0 && Date.now() < until) {
      await sleep(100);
      s2 = (await sampleAll())[1];
    }
    expect(s2.hmacRejected, 'node2 still accepts the old secret after the rotation').toBeGreaterThan(0);
    cluster.write(yaml(JSON.stringify(NEW)));
    cluster.agents.get('node1')!.kill('SIGHUP');
    const back = Date.now() + 15_000;
    while (!(await sampleAll()).every((x) => Object.values(x.up).every((u) => u === 1)) && Date.now() < back) await sleep(100);
  }, 60_000);

  it('the watch sees a partition: a node under a secret no other node accepts is cut off', async () => {
    cluster.write(yaml(JSON.stringify(OTHER)));
    cluster.agents.get('node1')!.kill('SIGHUP');
    const until = Date.now() + 10_000;
    let [s1, s2] = await sampleAll();
    while ((s2.up.node1 === 1 || s1.hmacRejected === 0) && Date.now() < until) {
      await sleep(100);
      [s1, s2] = await sampleAll();
    }
    expect(s1.hmacRejected).toBeGreaterThan(0);
    expect(s2.up.node1).toBe(0);
  }, 20_000);
});
