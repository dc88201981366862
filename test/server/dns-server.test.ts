import net from 'node:net';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery, tcpExchange, udpQuery } from '../helpers/dns';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/** A real agent process on 127.0.2.x, queried by dig, kdig and raw sockets. Block: 127.0.2.0/24. */

const PORT = 5301;
const A1 = '127.0.2.1';
let cluster: TestCluster;
let dig: string;
let kdig: string;

beforeAll(async () => {
  dig = requireTool('dig');
  kdig = requireTool('kdig');
  cluster = new TestCluster(
    clusterYaml({
      dnsPort: PORT,
      nodes: [
        { name: 'node1', address: A1, address6: '2001:db8::1', listen: [A1, '::1'] },
        { name: 'node2', address: '127.0.2.2' },
        { name: 'node3', address: '127.0.2.3' },
      ],
    }).replace('tcpIdleTimeout: 2s', 'tcpIdleTimeout: 500ms, tcpMaxConnections: 3'),
  );
  // The zone is answered once a majority is heard: run all three.
  await Promise.all(['node1', 'node2', 'node3'].map((n) => cluster.startAgent(n)));
  for (const n of [1, 2, 3]) await waitServing(A1, `node${n}.cluster.test`, `127.0.2.${n}`);
});

afterAll(async () => {
  await cluster?.cleanup();
});

/**
 * Polls until `server` answers `name` with `server` itself: the agents have heard a majority and
 * every node is up (on a loaded machine one agent may start late and sit out a hold-down first).
 */
async function waitServing(server: string, name: string, want = server, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const m = await udpQuery(server, PORT, name, 'A').catch(() => undefined);
    if (m?.rcode === 'NOERROR' && m.answers?.[0]?.data === want) return;
    if (Date.now() > end) throw new Error(`${server} does not answer ${name} after ${ms} ms: ${m?.rcode ?? 'no reply'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const digArgs = (name: string, type: string, ...more: string[]) => [`@${A1}`, '-p', String(PORT), name, type, '+norec', '+time=2', '+tries=1', ...more];

describe('dig and kdig as clients', () => {
  it('dig gets an authoritative answer, no recursion offered, and no warnings (cookies on by default)', async () => {
    const { stdout, code } = await run(dig, digArgs('node1.cluster.test', 'A'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/status: NOERROR/);
    expect(stdout).toMatch(/flags: qr aa;/);
    expect(stdout).toMatch(/^node1\.cluster\.test\.\s+30\s+IN\s+A\s+127\.0\.2\.1$/m);
    expect(stdout).not.toMatch(/WARNING|malformed|FORMERR/i);
  });

  it('dig over TCP, with NSID', async () => {
    const { stdout } = await run(dig, digArgs('cluster.test', 'NS', '+tcp', '+nsid'));
    expect(stdout).toMatch(/NSID: .*\("node1"\)/);
    expect(stdout.match(/IN\s+NS\s+ns\d\.cluster\.test\./g)).toHaveLength(3);
    expect(stdout).toMatch(/\(TCP\)/);
  });

  it('dig sees NXDOMAIN with the SOA, and REFUSED outside the zone', async () => {
    const nx = await run(dig, digArgs('nope.cluster.test', 'A'));
    expect(nx.stdout).toMatch(/status: NXDOMAIN/);
    expect(nx.stdout).toMatch(/AUTHORITY SECTION:\ncluster\.test\.\s+5\s+IN\s+SOA\s+ns1\.cluster\.test\. hostmaster\.cluster\.test\./);
    const out = await run(dig, digArgs('example.com', 'A', '+rec'));
    expect(out.stdout).toMatch(/status: REFUSED/);
  });

  it('kdig over UDP and TCP, JSON output (RFC 8427)', async () => {
    for (const transport of ['+notcp', '+tcp']) {
      const { stdout, code } = await run(kdig, [`@${A1}`, '-p', String(PORT), 'node1.cluster.test', 'AAAA', '+norec', '+json', transport]);
      expect(code).toBe(0);
      const j = JSON.parse(stdout);
      expect(j.AA).toBe(1);
      expect(j.RCODE).toBe(0);
      expect(j.answerRRs[0].rdataAAAA).toBe('2001:db8::1');
    }
  });

  it('answers over IPv6 too (UDP and TCP on ::1)', async () => {
    for (const transport of ['+notcp', '+tcp']) {
      const { stdout } = await run(dig, ['@::1', '-p', String(PORT), 'node1.cluster.test', 'AAAA', '+norec', transport]);
      expect(stdout).toMatch(/flags: qr aa;/);
      expect(stdout).toMatch(/IN\s+AAAA\s+2001:db8::1/);
      expect(stdout).toMatch(/SERVER: ::1#5301/);
    }
  });

  it('CHAOS hostname.bind answers the node name', async () => {
    const { stdout } = await run(dig, [`@${A1}`, '-p', String(PORT), 'hostname.bind', 'TXT', 'CH', '+short']);
    expect(stdout.trim()).toBe('"node1"');
  });
});

describe('TCP (RFC 7766)', () => {
  it('answers several pipelined queries on one connection, in order', async () => {
    const names = ['node1.cluster.test', 'node2.cluster.test', 'ns3.cluster.test', 'missing.cluster.test'];
    const replies = await tcpExchange(A1, PORT, names.map((n, i) => encodeQuery(n, 'A', { id: 100 + i })));
    const msgs = replies.map((r) => packet.decode(r));
    expect(msgs.map((m) => m.id)).toEqual([100, 101, 102, 103]);
    expect(msgs.map((m) => m.rcode)).toEqual(['NOERROR', 'NOERROR', 'NOERROR', 'NXDOMAIN']);
  });

  it('closes idle connections after the idle timeout', async () => {
    const sock = net.connect({ host: A1, port: PORT });
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connection still open after 3 s')), 3000);
      sock.on('close', () => {
        clearTimeout(t);
        resolve();
      });
      sock.on('error', () => undefined);
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('caps concurrent connections and keeps serving the ones it accepted', async () => {
    const socks = await Promise.all(
      Array.from({ length: 5 }, () => new Promise<net.Socket>((resolve) => {
        const s = net.connect({ host: A1, port: PORT }, () => resolve(s));
        s.on('error', () => undefined);
      })),
    );
    const closed = await Promise.all(
      socks.map((s) => new Promise<boolean>((resolve) => {
        if (s.destroyed) return resolve(true);
        const t = setTimeout(() => resolve(false), 300);
        s.once('close', () => {
          clearTimeout(t);
          resolve(true);
        });
      })),
    );
    expect(closed.filter(Boolean).length).toBe(2);
    socks.forEach((s) => s.destroy());
    await new Promise((r) => setTimeout(r, 200)); // let the server see the closes
    const replies = await tcpExchange(A1, PORT, [encodeQuery('node1.cluster.test', 'A')]);
    expect(packet.decode(replies[0]).rcode).toBe('NOERROR');
  });

  it('a client sending a garbage length prefix does not disturb others', async () => {
    const bad = net.connect({ host: A1, port: PORT });
    bad.on('error', () => undefined);
    await new Promise((r) => bad.once('connect', r));
    bad.write(Buffer.from([0x00, 0x05, 1, 2, 3, 4, 5, 0xff, 0xff, 9, 9]));
    const m = await udpQuery(A1, PORT, 'node2.cluster.test', 'A');
    expect(m.rcode).toBe('NOERROR');
    bad.destroy();
  });
});

describe('truncation over UDP, then TCP', () => {
  let big: TestCluster;
  const A = '127.0.2.20';
  // SRV targets are never compressed: three of them under a long zone name pass 512 bytes.
  const zone = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(40)}.test`;
  beforeAll(async () => {
    const nodes = [0, 1, 2].map((i) => ({ name: `n${i + 1}`, address: `127.0.2.${20 + i}` }));
    big = new TestCluster(clusterYaml({ zone, dnsPort: PORT, nodes, extra: 'services:\n  - { name: web, port: 443 }\n' }));
    await Promise.all(nodes.map((n) => big.startAgent(n.name)));
    for (const n of [1, 2, 3]) await waitServing(A, `n${n}.${zone}`, `127.0.2.${19 + n}`);
  });
  afterAll(async () => {
    await big?.cleanup();
  });

  it('dig without EDNS gets TC and retries over TCP to get every SRV record', async () => {
    const truncated = await run(dig, [`@${A}`, '-p', String(PORT), `_web._tcp.${zone}`, 'SRV', '+noedns', '+ignore', '+norec']);
    expect(truncated.stdout).toMatch(/flags: qr aa tc;/);
    const full = await run(dig, [`@${A}`, '-p', String(PORT), `_web._tcp.${zone}`, 'SRV', '+noedns', '+norec']);
    expect(full.stdout).toMatch(/Truncated, retrying in TCP mode/);
    expect(full.stdout.match(/IN\s+SRV\s+10 10 443 /g)).toHaveLength(3);
    expect(full.stdout).toMatch(/MSG SIZE {2}rcvd: (5[1-9]\d|[6-9]\d\d|\d{4})/);
  });
});

describe('the agent command', () => {
  it('stops on SIGTERM with exit code 0', async () => {
    const c = new TestCluster(clusterYaml({ dnsPort: PORT, nodes: [{ name: 'solo', address: '127.0.2.30' }] }));
    try {
      const a = await c.startAgent('solo');
      a.kill('SIGTERM');
      const { code } = await a.exited;
      expect(code).toBe(0);
    } finally {
      await c.cleanup();
    }
  });

  it.each([
    ['an unknown node', ['--node', 'node9'], /no node named "node9".*node1, node2, node3/],
    ['a port already taken', ['--node', 'node1'], /127\.0\.2\.1.*EADDRINUSE/],
  ])('refuses %s with a clear message, exit 2, no stack trace', async (_, args, message) => {
    const { code, stderr } = await run(process.execPath, [CLI, 'agent', '--config', cluster.configPath, ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
