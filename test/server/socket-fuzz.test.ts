import dgram from 'node:dgram';
import type net from 'node:net';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/membership/prng';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery } from '../helpers/dns';
import { frame, garbage, mangled as mangledQuery, sendRaw as sendRawTo, sleep, withTcp as withTcpTo, type RawDatagram } from '../helpers/fuzz';
import { run, type Started } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * Hostile bytes at every listener of a live agent process, from real and raw sockets: after each
 * batch the process must still run and still answer dig over UDP and TCP. The issue that started it:
 * one UDP datagram from source port 0 ended the agent (send() threw ERR_SOCKET_BAD_PORT). Raw
 * sockets need root (CI runs as root). Seeded, so a failure replays. Block: 127.0.20.0/24.
 */

const A = '127.0.20.1';
/** A loopback address nothing listens on: the source of spoofed and bounced packets. */
const SPOOF = '127.0.20.9';
const DNS = 5420;
const PEER = 5421;
const HTTP = 5422;

let cluster: TestCluster;
let agent: Started;
let dig: string;
let python: string;

beforeAll(async () => {
  dig = requireTool('dig');
  python = requireTool('python3');
  cluster = new TestCluster(clusterYaml({ dnsPort: DNS, peerPort: PEER, httpPort: HTTP, nodes: [{ name: 'solo', address: A }] }));
  agent = await cluster.startAgent('solo');
  await stillServing();
});

afterAll(async () => {
  await cluster?.cleanup();
});

/** The agent runs and answers dig correctly over UDP and TCP. */
async function stillServing(): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    expect(agent.child.exitCode, `agent exited:\n${agent.stderr.slice(-2000)}`).toBeNull();
    expect(agent.child.signalCode).toBeNull();
    const udp = await run(dig, [`@${A}`, '-p', String(DNS), 'solo.cluster.test', 'A', '+short', '+time=1', '+tries=1']);
    const tcp = await run(dig, [`@${A}`, '-p', String(DNS), 'solo.cluster.test', 'A', '+short', '+time=1', '+tries=1', '+tcp']);
    if (udp.stdout.trim() === A && tcp.stdout.trim() === A) return;
    if (Date.now() > end) throw new Error(`agent does not answer: udp ${JSON.stringify(udp.stdout)} tcp ${JSON.stringify(tcp.stdout)}\n${agent.stderr.slice(-2000)}`);
    await sleep(100);
  }
}

/**
 * Sends datagrams from one ordinary socket, paced so the kernel queue holds them. To the peer port
 * they come from the node's own address, the one peer address of this one-node cluster, so they
 * reach the protocol's decoder instead of being dropped as a stranger's.
 */
async function sendUdp(port: number, payloads: Buffer[]): Promise<void> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => undefined);
  s.on('message', () => undefined);
  await new Promise<void>((r) => s.bind(0, port === PEER ? A : '127.0.20.2', r));
  for (let i = 0; i < payloads.length; i++) {
    await new Promise<void>((r) => s.send(payloads[i], port, A, () => r()));
    if (i % 64 === 63) await sleep(1);
  }
  await sleep(50);
  s.close();
}

const sendRaw = (datagrams: Omit<RawDatagram, 'dst'>[]) => sendRawTo(python, datagrams.map((d) => ({ ...d, dst: A })));
const mangled = (rand: () => number) => mangledQuery(rand, 'solo.cluster.test');
const withTcp = (port: number, f: (s: net.Socket) => Promise<void> | void) => withTcpTo(A, port, f);

async function metric(name: string, labels?: string): Promise<number> {
  const text = await (await fetch(`http://${A}:${HTTP}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** The sum of a counter over all its labels. */
async function metricSum(name: string): Promise<number> {
  const text = await (await fetch(`http://${A}:${HTTP}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('a live agent under hostile packets', () => {
  it('UDP queries from source port 0 get silence, are counted, and the agent keeps answering', async () => {
    const before = await metric('clusterdns_dns_socket_drops_total', 'reason="source-port"');
    const q = encodeQuery('solo.cluster.test', 'A');
    await sendRaw(Array.from({ length: 10 }, () => ({ src: SPOOF, sport: 0, dport: DNS, payload: q })));
    await sleep(200);
    await stillServing();
    expect((await metric('clusterdns_dns_socket_drops_total', 'reason="source-port"')) - before).toBe(10);
  });

  it('answers that bounce (ICMP port unreachable) and port-0 junk to the peer port change nothing', async () => {
    const rand = seededRandom(0x50c0);
    const bounced = Array.from({ length: 300 }, (_, i) => ({
      src: SPOOF,
      // Nothing listens on SPOOF: each answer comes back as ICMP port unreachable.
      sport: 20_000 + i,
      dport: DNS,
      payload: i % 2 ? encodeQuery('solo.cluster.test', 'A', { id: i }) : mangled(rand),
    }));
    const peerJunk = Array.from({ length: 100 }, (_, i) => ({ src: SPOOF, sport: i % 3 ? 0 : 7946, dport: PEER, payload: garbage(rand, 600) }));
    await sendRaw([...bounced, ...peerJunk]);
    await sleep(200);
    await stillServing();
  });

  it('the peer port drops datagrams from addresses that are no peer\'s, and counts them', async () => {
    const before = await metric('clusterdns_peer_strangers_dropped_total');
    const rand = seededRandom(0x5742);
    await sendRaw(Array.from({ length: 20 }, (_, i) => ({ src: SPOOF, sport: i % 2 ? 0 : 7946, dport: PEER, payload: garbage(rand, 300) })));
    await sleep(200);
    expect((await metric('clusterdns_peer_strangers_dropped_total')) - before).toBe(20);
    await stillServing();
  });

  it('zero-length, 65,507-byte and random UDP datagrams to the DNS and peer ports', async () => {
    const rand = seededRandom(0xd06);
    const edges = [Buffer.alloc(0), Buffer.alloc(65_507, 0), Buffer.alloc(65_507, 0xff), Buffer.alloc(11), Buffer.alloc(12)];
    const rejectedBefore = await metricSum('clusterdns_heartbeats_rejected_total');
    const oversizedQuery = Buffer.concat([encodeQuery('solo.cluster.test', 'A'), Buffer.alloc(65_507 - encodeQuery('solo.cluster.test', 'A').length, 0xc0)]);
    for (const port of [DNS, PEER]) {
      await sendUdp(port, [...edges, oversizedQuery]);
      await sendUdp(port, Array.from({ length: 1500 }, (_, i) => (i % 3 ? mangled(rand) : garbage(rand, 1500))));
      await stillServing();
    }
    // The junk to the peer port came from a peer address: the protocol read and rejected it.
    expect((await metricSum('clusterdns_heartbeats_rejected_total')) - rejectedBefore).toBeGreaterThan(1000);
    // The same from source port 0, through the raw socket; to the peer port from the peer address.
    await sendRaw([...edges.slice(0, 1), oversizedQuery.subarray(0, 60_000)].flatMap((payload) => [DNS, PEER].map((dport) => ({ src: dport === PEER ? A : SPOOF, sport: 0, dport, payload }))));
    await stillServing();
  });

  it('TCP: truncated, garbage, zero-length and reset-mid-frame connections', async () => {
    const rand = seededRandom(0x7c9);
    const q = encodeQuery('solo.cluster.test', 'A');
    const cases: ((s: net.Socket) => Promise<void> | void)[] = [
      // A length prefix promising more than ever comes, then a close.
      (s) => void s.end(Buffer.concat([Buffer.from([0x01, 0x00]), q])),
      // Half a length prefix.
      (s) => void s.end(Buffer.from([0x00])),
      // Zero-length messages, then a real one (must still be answered).
      async (s) => {
        const got = new Promise<Buffer>((r) => s.once('data', r));
        s.write(Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0]), frame(q)]));
        const reply = await got;
        expect(packet.decode(reply.subarray(2)).answers?.[0]).toMatchObject({ type: 'A', data: A });
      },
      // Random bytes, framed and unframed.
      (s) => void s.write(garbage(rand, 4000)),
      (s) => void s.write(Buffer.concat(Array.from({ length: 50 }, () => frame(rand() < 0.5 ? mangled(rand) : garbage(rand, 300))))),
      // Reset in the middle of a frame.
      async (s) => {
        s.write(frame(q).subarray(0, 9));
        await sleep(20);
        s.resetAndDestroy();
      },
      // Many pipelined queries, reset before reading a single answer: the agent writes into a
      // connection that is gone.
      async (s) => {
        s.write(Buffer.concat(Array.from({ length: 2000 }, (_, i) => frame(encodeQuery('solo.cluster.test', 'NS', { id: i, edns: true })))));
        await sleep(5);
        s.resetAndDestroy();
      },
      // Half-close after a query: RFC 7766 lets the client wait for the answer.
      async (s) => {
        const got = new Promise<Buffer>((r) => s.once('data', r));
        s.end(frame(q));
        expect(packet.decode((await got).subarray(2)).rcode).toBe('NOERROR');
      },
    ];
    for (const c of cases) await withTcp(DNS, c);
    // Connections reset before sending anything, a burst at once.
    await Promise.all(Array.from({ length: 30 }, () => withTcp(DNS, (s) => void s.resetAndDestroy())));
    await sleep(100);
    await stillServing();
  });

  it('HTTP: bad methods, malformed requests, huge headers and bodies, resets', async () => {
    const rand = seededRandom(0x4774);
    const requests = [
      'BREW / HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc',
      'GET %%%/\x00\x01 HTTP/1.1\r\n\r\n',
      'GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(100_000)}\r\n\r\n`,
      `GET / HTTP/1.1\r\n${Array.from({ length: 500 }, (_, i) => `X-${i}: y`).join('\r\n')}\r\n\r\n`,
      'GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nzzzzzzzz\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      '\r\n\r\n\r\n',
    ];
    for (const r of requests) await withTcp(HTTP, (s) => void s.write(r));
    for (let i = 0; i < 30; i++) await withTcp(HTTP, (s) => void s.write(garbage(rand, 2000)));
    await withTcp(HTTP, async (s) => {
      s.write('GET /v1/status HTTP/1.1\r\nHost: x\r\n');
      await sleep(10);
      s.resetAndDestroy();
    });
    await sleep(100);
    const res = await fetch(`http://${A}:${HTTP}/healthz`);
    expect(res.status).toBe(200);
    await stillServing();
  });

  it('HTTP: a slowloris client trickling header bytes is cut off within seconds', async () => {
    await withTcp(HTTP, async (s) => {
      const started = Date.now();
      s.write('GET /v1/status HTTP/1.1\r\nHost: x\r\n');
      let closed = false;
      s.once('close', () => (closed = true));
      // One header byte every 200 ms, for at most 12 s: Node's default sweep (every 30 s) keeps it.
      while (!closed && !s.destroyed && Date.now() - started < 12_000) {
        s.write('X');
        await sleep(200);
      }
      // headersTimeout (5 s) plus one sweep (1 s), with slack for a loaded machine.
      expect(Date.now() - started).toBeLessThan(9_000);
    });
    await stillServing();
  });
});
