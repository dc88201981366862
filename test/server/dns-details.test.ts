import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { udpQuery } from '../helpers/dns';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * The DNS details of issue 8 item 11, seen by dig and kdig against real agents: NOTIMP for an
 * unknown opcode without a question, BADKEY for a signed query, glue left out rather than TC.
 * Five configured nodes under a long zone name (so the apex NS answer with its ten glue records
 * passes 512 bytes while the NS records alone fit); three run, a majority. Block: 127.0.21.0/24.
 */

const PORT = 5430;
const A1 = '127.0.21.1';
const ZONE = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.test`;
const NODES = [1, 2, 3, 4, 5].map((i) => ({ name: `node${i}`, address: `127.0.21.${i}`, address6: `2001:db8::${i}`, listen: [`127.0.21.${i}`] }));
let cluster: TestCluster;
let dig: string;
let kdig: string;

beforeAll(async () => {
  dig = requireTool('dig');
  kdig = requireTool('kdig');
  cluster = new TestCluster(clusterYaml({ zone: ZONE, dnsPort: PORT, nodes: NODES }));
  await Promise.all(['node1', 'node2', 'node3'].map((n) => cluster.startAgent(n)));
  const end = Date.now() + 15_000;
  for (;;) {
    const m = await udpQuery(A1, PORT, `node1.${ZONE}`, 'A').catch(() => undefined);
    if (m?.rcode === 'NOERROR' && m.answers?.length) break;
    if (Date.now() > end) throw new Error(`${A1} does not serve ${ZONE}: ${m?.rcode ?? 'no reply'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  await cluster?.cleanup();
});

const at = [`@${A1}`, '-p', String(PORT)];
const KEY = 'hmac-sha256:transfer-key:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDA=';

describe('dig and kdig see the answers NSD and Knot give', () => {
  it('dig +opcode=15 +header-only: NOTIMP, RD and CD not echoed, OPT kept (no EDNS warning)', async () => {
    const { stdout } = await run(dig, [...at, '+opcode=15', '+header-only', '+rec', '+cdflag', '+time=2', '+tries=1']);
    expect(stdout).toMatch(/opcode: RESERVED15, status: NOTIMP/);
    expect(stdout).toMatch(/;; flags: qr; QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1/);
    expect(stdout).toMatch(/EDNS: version: 0/);
    expect(stdout).not.toMatch(/WARNING/);
  });

  it('dig -y: a signed query gets NOTAUTH with an unsigned TSIG saying BADKEY', async () => {
    const { stdout } = await run(dig, [...at, `node1.${ZONE}`, 'A', '-y', KEY, '+norec', '+time=2', '+tries=1']);
    expect(stdout).toMatch(/status: NOTAUTH/);
    expect(stdout).toMatch(/ANSWER: 0/);
    expect(stdout).toMatch(/^transfer-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/m);
  });

  it('kdig -y over UDP and TCP: BADKEY, and no answer records', async () => {
    for (const transport of ['+notcp', '+tcp']) {
      const { stdout } = await run(kdig, [...at, `node1.${ZONE}`, 'A', '-y', KEY, '+norec', transport]);
      expect(stdout).toMatch(/status: BADKEY/);
      expect(stdout).toMatch(/ANSWER: 0/);
      expect(stdout).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/);
    }
  });

  it('dig +noedns NS: glue that does not fit is left out, no TC, every NS record; TCP has all glue', async () => {
    const udp = await run(dig, [...at, ZONE, 'NS', '+noedns', '+ignore', '+norec', '+time=2', '+tries=1']);
    expect(udp.stdout).toMatch(/;; flags: qr aa;/);
    expect(udp.stdout.match(/\sIN\s+NS\s+ns\d\./g)).toHaveLength(5);
    const additional = Number(/ADDITIONAL: (\d+)/.exec(udp.stdout)![1]);
    expect(additional).toBeGreaterThan(0);
    expect(additional).toBeLessThan(10);
    expect(Number(/MSG SIZE {2}rcvd: (\d+)/.exec(udp.stdout)![1])).toBeLessThanOrEqual(512);
    const tcp = await run(dig, [...at, ZONE, 'NS', '+noedns', '+tcp', '+norec', '+time=2', '+tries=1']);
    expect(tcp.stdout).toMatch(/ADDITIONAL: 10\b/);
    expect(Number(/MSG SIZE {2}rcvd: (\d+)/.exec(tcp.stdout)![1])).toBeGreaterThan(512);
  });
});
