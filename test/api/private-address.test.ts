import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, SECRET, TestCluster } from '../helpers/cluster';
import { udpQuery } from '../helpers/dns';
import { run } from '../helpers/proc';

/**
 * Nothing private on a public address (issue 9): the HTTP API listens on the node's peerAddress
 * when the config gives one, on http.listen when set, and `clusterdns status` asks it there. Check
 * arguments and passwords appear nowhere the API or the log shows. Block: 127.0.92.100–120.
 */

const PUBLIC = '127.0.92.101';
const PRIVATE = '127.0.92.102';
const PUBLIC2 = '127.0.92.111';
const CHOSEN = '127.0.92.113';
const PORT = 5650;
const HTTP = PORT + 2;
let peer: TestCluster;
let chosen: TestCluster;

const yaml = (node: string, http: string) =>
  [
    'zone: cluster.test',
    `secret: "${SECRET}"`,
    `dns: { port: ${PORT} }`,
    `peer: { port: ${PORT + 1} }`,
    `http: { port: ${HTTP}${http} }`,
    'checks:',
    '  - { type: exec, command: [sh, -c, "exit 0", "token=hunter2-exec-secret"] }',
    'nodes:',
    `  - ${node}`,
    'services:',
    '  - { name: cache, port: 1, check: { type: redis, password: "hunter3-redis-password", timeout: 100ms, interval: 200ms } }',
  ].join('\n');

async function reachable(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  peer = new TestCluster(yaml(`{ name: node1, address: ${PUBLIC}, peerAddress: ${PRIVATE} }`, ''));
  chosen = new TestCluster(yaml(`{ name: node1, address: ${PUBLIC2} }`, `, listen: [${CHOSEN}]`));
  await Promise.all([peer.startAgent('node1'), chosen.startAgent('node1')]);
  const end = Date.now() + 10_000;
  while ((await udpQuery(PUBLIC, PORT, 'node1.cluster.test', 'A').catch(() => undefined))?.answers?.[0]?.type !== 'A') {
    if (Date.now() > end) throw new Error('the agent does not answer');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 20_000);

afterAll(async () => {
  await peer?.cleanup();
  await chosen?.cleanup();
});

describe('the HTTP API address', () => {
  it('is the peerAddress, not the public address DNS answers on', async () => {
    expect(await reachable(`http://${PRIVATE}:${HTTP}/v1/status`)).toBe(true);
    expect(await reachable(`http://${PUBLIC}:${HTTP}/v1/status`)).toBe(false);
  });

  it('is http.listen when the config sets it', async () => {
    expect(await reachable(`http://${CHOSEN}:${HTTP}/v1/status`)).toBe(true);
    expect(await reachable(`http://${PUBLIC2}:${HTTP}/v1/status`)).toBe(false);
  });

  it('clusterdns status finds each agent where its API listens', async () => {
    for (const c of [peer, chosen]) {
      const r = await run(process.execPath, [CLI, 'status', '--config', c.configPath, '--json'], { timeoutMs: 10_000 });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).node).toBe('node1');
    }
  });

  it('check arguments and passwords are in neither the status, the metrics nor the log', async () => {
    await new Promise((r) => setTimeout(r, 1000)); // a few check rounds
    const status = await (await fetch(`http://${PRIVATE}:${HTTP}/v1/status`)).text();
    const metrics = await (await fetch(`http://${PRIVATE}:${HTTP}/metrics`)).text();
    const log = peer.agents.get('node1')!.stdout + peer.agents.get('node1')!.stderr;
    expect(status).toMatch(/exec sh/);
    for (const text of [status, metrics, log]) {
      expect(text).not.toMatch(/hunter2/);
      expect(text).not.toMatch(/hunter3/);
    }
  });
});
