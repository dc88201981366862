import { connect, type Socket } from 'node:net';
import * as packet from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery, udpQuery } from '../helpers/dns';
import { poll } from '../helpers/poll';

/**
 * SIGTERM drains TCP (issue 16 §2): a query in flight on a TCP connection when the agent is told to
 * stop still gets its answer, and the agent then closes the connection and exits cleanly. "In
 * flight": the client has sent part of the message (the length and a few bytes) when SIGTERM
 * arrives, and the rest after the agent began stopping. (An idle connection is closed at once, as
 * RFC 7766 §6.2.3 lets a server do; its client retries elsewhere.) Real agents on 127.0.150.1–3.
 * Block: 127.0.150.0/24, ports 5150–5152.
 */

const PORT = 5150;
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.150.${i}` }));
let cluster: TestCluster | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await cluster?.cleanup();
  cluster = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP connection that collects every framed message it receives, and whether the server closed it. */
async function open(host: string): Promise<{ sock: Socket; messages: Buffer[]; closed: Promise<void> }> {
  const sock = connect({ host, port: PORT });
  sockets.push(sock);
  sock.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const messages: Buffer[] = [];
  let pending = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      messages.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
      pending = pending.subarray(2 + pending.readUInt16BE(0));
    }
  });
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return { sock, messages, closed };
}

const framed = (q: Buffer) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);

describe('SIGTERM', () => {
  it('a query in flight on TCP gets its answer, then the agent exits 0', async () => {
    const c = (cluster = new TestCluster(clusterYaml({ dnsPort: PORT, nodes })));
    await Promise.all(nodes.map((n) => c.startAgent(n.name)));
    await poll(
      () => udpQuery('127.0.150.1', PORT, 'node2.cluster.test', 'A').catch(() => undefined),
      (r) => r?.rcode === 'NOERROR' && r.answers?.[0]?.data === '127.0.150.2',
      10_000,
    );

    const split = await open('127.0.150.1');
    const idle = await open('127.0.150.1');
    const q1 = framed(encodeQuery('node2.cluster.test', 'A', { id: 4242 }));
    split.sock.write(q1.subarray(0, 7));
    await sleep(100);
    const agent = c.agents.get('node1')!;
    agent.kill('SIGTERM');
    await agent.waitForOutput(/"event":"stopping"/, 5000);
    await sleep(100);
    split.sock.write(q1.subarray(7));
    const exited = await Promise.race([agent.exited, sleep(5000).then(() => undefined)]);

    expect(split.messages.length, 'the split query got no answer').toBe(1);
    const a1 = packet.decode(split.messages[0]);
    expect(a1.id).toBe(4242);
    expect(a1.rcode).toBe('NOERROR');
    expect(a1.answers?.map((x) => x.data)).toEqual(['127.0.150.2']);
    // Then the agent closes the connections (the idle one at once) and exits.
    await Promise.race([Promise.all([split.closed, idle.closed]), sleep(3000)]);
    expect(split.sock.readableEnded, 'the drained connection was not closed').toBe(true);
    expect(idle.sock.readableEnded, 'the idle connection was not closed').toBe(true);
    expect(exited, 'the agent did not exit within 5 s of SIGTERM').toEqual({ code: 0, signal: null });
  }, 30_000);
});
