import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../src/api/status-types';
import { CLI, clusterYaml, TestCluster } from '../helpers/cluster';
import { run } from '../helpers/proc';
import { converged, eventually, http, parseExposition } from './helpers';

/**
 * Two nodes and a witness on 127.0.11.61–63 (block 127.0.11.0/24). The witness answers no DNS but
 * has the HTTP API on its address: fit while it hears a majority (its vote counts), not after.
 */

const DNS = 5341;
const HTTP = 5343;
const W = '127.0.11.63';
let cluster: TestCluster;

const doc = async (address: string): Promise<StatusDocument> => JSON.parse((await http(`http://${address}:${HTTP}/v1/status`)).body) as StatusDocument;
const statusCli = (...args: string[]) => run(process.execPath, [CLI, 'status', '--config', cluster.configPath, ...args], { env: { ...process.env, NO_COLOR: '1' } });

beforeAll(async () => {
  cluster = new TestCluster(
    clusterYaml({
      dnsPort: DNS,
      nodes: [
        { name: 'node1', address: '127.0.11.61' },
        { name: 'node2', address: '127.0.11.62' },
        { name: 'tie', address: W, role: 'witness' },
      ],
    }),
  );
  await Promise.all(['node1', 'node2', 'tie'].map((n) => cluster.startAgent(n)));
  await converged(['127.0.11.61', '127.0.11.62', W].map((a) => `http://${a}:${HTTP}`));
});

afterAll(async () => {
  await cluster?.cleanup();
});

describe('a witness', () => {
  it('serves the API on its own address: not serving DNS, healthy because it hears a majority', async () => {
    const s = await doc(W);
    expect(s).toMatchObject({ node: 'tie', role: 'witness', serving: false, quorum: true, minority: false });
    expect(s.nodes.map((n) => [n.name, n.role])).toEqual([
      ['node1', 'node'],
      ['node2', 'node'],
      ['tie', 'witness'],
    ]);
    // It computes the same answers as the name servers, though it serves none; never its own address.
    const n1 = await doc('127.0.11.61');
    expect(s.answers.map((a) => [a.name, a.a])).toEqual(n1.answers.map((a) => [a.name, a.a]));
    expect(s.answers.flatMap((a) => a.a)).not.toContain(W);
    expect(await http(`http://${W}:${HTTP}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    const m = parseExposition((await http(`http://${W}:${HTTP}/metrics`)).body);
    expect(m.value('clusterdns_serving')).toBe(0);
    expect(m.value('clusterdns_minority')).toBe(0);
    expect(m.value('clusterdns_node_up', { node: 'tie' })).toBe(1);
  });

  it('clusterdns status: asked by default, a serving node answers; asked directly, the witness exits 0', async () => {
    const any = await statusCli();
    expect(any.code, any.stdout + any.stderr).toBe(0);
    expect(any.stdout).toMatch(/asked node1 at /);
    const direct = await statusCli('--node', 'tie');
    expect(direct.code, direct.stdout).toBe(0);
    expect(direct.stdout).toMatch(/^witness · hears 3 of 3 \(majority 2\)/m);
    expect(direct.stdout).toMatch(/^tie \(witness\)\s+up\s+127\.0\.11\.63\s+self\s+tie up/m);
  });

  it('alone, it is in the minority: /healthz 503 and status exit 2', async () => {
    cluster.agents.get('node1')!.kill('SIGKILL');
    cluster.agents.get('node2')!.kill('SIGKILL');
    const r = await eventually('the witness to lose its majority', async () => {
      const x = await http(`http://${W}:${HTTP}/healthz`);
      return x.status === 503 ? x : undefined;
    });
    expect(r.body).toBe('minority: hears 1 of 3 nodes (tie), needs 2\n');
    const out = await statusCli();
    expect(out.code).toBe(2);
    expect(out.stdout).toMatch(/tie is not voting: in the minority: hears tie \(1 of 3, needs 2\)\n$/);
  });
});
