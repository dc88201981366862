import dgram from 'node:dgram';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/membership/prng';
import { TestCluster } from '../helpers/cluster';
import { encodeQuery } from '../helpers/dns';
import { fullConfigYaml, makeKey } from '../helpers/full-config';
import { frame, garbage, mangled, sendRaw, sleep, withTcp } from '../helpers/fuzz';
import { run, type Started } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * Hostile bytes at every listener of an agent with every feature on at once (private address with
 * internalFrom, RRL, cookies, the HTTP API on the private address, Sentinel discovery, a signed
 * zone): DNS over UDP and TCP on both addresses, the peer port, the API, the discovery port. After
 * each batch the agent must run and answer correctly: A over UDP and TCP on both addresses, the
 * internal name to an inside client, a DO=1 answer with its RRSIG (kdig), Sentinel PING and the
 * master's address. Attackers send from 127.0.123.0/24, outside internalFrom; the checks come from
 * 127.0.124.0/24 (inside, and another RRL prefix). Seeded, so a failure replays. Raw sockets need root.
 */

const A = '127.0.123.1';
const PRIVATE = '127.0.123.11';
const SPOOF = '127.0.123.9';
const OUTSIDE = '127.0.123.50';
const INSIDE = '127.0.124.1';
const DNS = 5441;
const PEER = 5442;
const HTTP = 5443;
const DISCOVERY = 5444;
const NAME = 'solo.cluster.test';

let cluster: TestCluster;
let agent: Started;
let dig: string;
let kdig: string;
let python: string;

beforeAll(async () => {
  dig = requireTool('dig');
  kdig = requireTool('kdig');
  python = requireTool('python3');
  cluster = new TestCluster('');
  const key = await makeKey(cluster.dir);
  cluster.write(
    fullConfigYaml({
      address: A,
      privateAddress: PRIVATE,
      dnsPort: DNS,
      peerPort: PEER,
      httpPort: HTTP,
      discoveryPort: DISCOVERY,
      keys: [key],
      internalFrom: ['127.0.124.0/24'],
      rateLimit: { responsesPerSecond: 100, slip: 2 },
    }),
  );
  agent = await cluster.startAgent('solo');
  await stillServing();
});
afterAll(async () => {
  await cluster?.cleanup();
});

/** One Sentinel request on a fresh connection; the reply text (or "" after 2 s). */
async function sentinel(host: string, request: string): Promise<string> {
  let got = '';
  await withTcp(host, DISCOVERY, async (s) => {
    s.on('data', (d) => (got += d.toString()));
    s.write(request);
    const end = Date.now() + 2000;
    while (!/\r\n$/.test(got) && Date.now() < end) await sleep(20);
    await sleep(20);
  });
  return got;
}

/** The agent runs and answers every kind of client correctly, within 10 s. */
async function stillServing(): Promise<void> {
  const end = Date.now() + 10_000;
  let last = '';
  for (;;) {
    expect(agent.child.exitCode, `agent exited:\n${agent.stderr.slice(-2000)}`).toBeNull();
    expect(agent.child.signalCode).toBeNull();
    const q = async (server: string, name: string, ...more: string[]) =>
      (await run(dig, ['-b', INSIDE, `@${server}`, '-p', String(DNS), name, 'A', '+short', '+time=1', '+tries=1', ...more])).stdout.trim();
    const got = {
      udp: await q(A, NAME),
      tcp: await q(A, NAME, '+tcp'),
      privateUdp: await q(PRIVATE, NAME),
      privateTcp: await q(PRIVATE, NAME, '+tcp'),
      internal: await q(A, 'solo.internal.cluster.test'),
      signed: (await run(kdig, ['-b', INSIDE, `@${A}`, '-p', String(DNS), NAME, 'A', '+dnssec', '+short', '+time=1', '+retry=0'])).stdout.trim(),
      ping: await sentinel(PRIVATE, 'PING\r\n'),
      master: await sentinel(A, 'SENTINEL get-master-addr-by-name redis-12000\r\n'),
    };
    const ok =
      got.udp === A &&
      got.tcp === A &&
      got.privateUdp === A &&
      got.privateTcp === A &&
      got.internal === PRIVATE &&
      // The A record and its RRSIG (kdig +short prints the RRSIG's rdata, type covered first).
      got.signed.split('\n')[0] === A &&
      /^A 13 3 30 \d{14} \d{14} \d+ cluster\.test\. \S+/m.test(got.signed) &&
      got.ping === '+PONG\r\n' &&
      got.master === `*2\r\n$${A.length}\r\n${A}\r\n$5\r\n12000\r\n`;
    if (ok) return;
    last = JSON.stringify(got);
    if (Date.now() > end) throw new Error(`agent does not answer correctly: ${last}\n${agent.stderr.slice(-2000)}`);
    await sleep(200);
  }
}

/** A query whose OPT RR carries `rdata` as its options (any bytes), with DO=1. */
function optQuery(id: number, rdata: Buffer, o: { version?: number; udp?: number; owner?: Buffer; rdlength?: number; twice?: boolean; name?: string } = {}): Buffer {
  const q = encodeQuery(o.name ?? NAME, 'A', { id });
  q.writeUInt16BE(o.twice ? 2 : 1, 10);
  const opt = Buffer.alloc(10);
  opt.writeUInt16BE(41, 0);
  opt.writeUInt16BE(o.udp ?? 1232, 2);
  opt[5] = o.version ?? 0;
  opt.writeUInt16BE(0x8000, 6);
  opt.writeUInt16BE(o.rdlength ?? rdata.length, 8);
  const rr = Buffer.concat([o.owner ?? Buffer.from([0]), opt, rdata]);
  return Buffer.concat([q, rr, ...(o.twice ? [rr] : [])]);
}

const option = (code: number, data: Buffer, len = data.length) => Buffer.concat([Buffer.from([code >> 8, code & 0xff, len >> 8, len & 0xff]), data]);
const COOKIE = 10;

/** EDNS options a client may get wrong: RFC 7873 cookie lengths, overruns, duplicates, versions. */
function badOptQueries(rand: () => number): Buffer[] {
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  let id = 1;
  return [
    ...[0, 1, 7, 9, 15, 16, 24, 40, 41, 200].map((n) => optQuery(id++, option(COOKIE, bytes(n)))),
    // A well-formed server cookie that is not ours: version 1, a timestamp, a wrong hash.
    optQuery(id++, option(COOKIE, Buffer.concat([bytes(8), Buffer.from([1, 0, 0, 0]), bytes(4), bytes(8)]))),
    optQuery(id++, Buffer.concat([option(COOKIE, bytes(8)), option(COOKIE, bytes(8))])),
    optQuery(id++, option(COOKIE, bytes(8), 200)),
    optQuery(id++, option(COOKIE, bytes(8), 0xffff)),
    optQuery(id++, Buffer.from([0, 10, 0])),
    optQuery(id++, option(65001, Buffer.alloc(0))),
    optQuery(id++, Buffer.concat([option(8, bytes(3)), option(COOKIE, bytes(8)), option(12, Buffer.alloc(400))])),
    optQuery(id++, option(COOKIE, bytes(8)), { rdlength: 60 }),
    optQuery(id++, option(COOKIE, bytes(8)), { rdlength: 0 }),
    optQuery(id++, option(COOKIE, bytes(8)), { version: 1 }),
    optQuery(id++, option(COOKIE, bytes(8)), { version: 255, udp: 0 }),
    optQuery(id++, Buffer.alloc(0), { udp: 1 }),
    optQuery(id++, Buffer.alloc(0), { udp: 65535 }),
    optQuery(id++, option(COOKIE, bytes(8)), { owner: Buffer.from([3, 0x63, 0x6f, 0x6d, 0]) }),
    optQuery(id++, option(COOKIE, bytes(8)), { owner: Buffer.from([0xc0, 0x0c]) }),
    optQuery(id++, option(COOKIE, bytes(8)), { twice: true }),
    // The internal name asked from outside internalFrom, signed and with a cookie.
    optQuery(id++, option(COOKIE, bytes(8)), { name: 'solo.internal.cluster.test' }),
  ];
}

/** Each query from an ordinary socket at OUTSIDE; the replies, in order (undefined: silence). */
async function udpEach(host: string, queries: Buffer[]): Promise<(Buffer | undefined)[]> {
  const s = dgram.createSocket('udp4');
  const replies = new Map<number, Buffer>();
  s.on('message', (m) => m.length >= 2 && replies.set(m.readUInt16BE(0), m));
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.bind(0, OUTSIDE, r));
  for (const q of queries) {
    s.send(q, DNS, host);
    await sleep(2);
  }
  await sleep(500);
  s.close();
  return queries.map((q) => replies.get(q.readUInt16BE(0)));
}

/** A reply is a DNS response to the query: same ID and question count, QR set, no stray bytes in the header. */
function expectWellFormed(query: Buffer, reply: Buffer): void {
  expect(reply.length).toBeGreaterThanOrEqual(12);
  expect(reply.readUInt16BE(0)).toBe(query.readUInt16BE(0));
  expect(reply[2] & 0x80).toBe(0x80);
}

describe('every listener of an agent with every feature on, under hostile input', () => {
  it('DNS over UDP, both addresses: source port 0, zero-length, oversized, garbage and mangled datagrams', async () => {
    const rand = seededRandom(0xf011);
    const q = encodeQuery(NAME, 'A', { edns: { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: packet.DNSSEC_OK, options: [] } as unknown as packet.Answer });
    const datagrams = [A, PRIVATE].flatMap((dst) => [
      ...Array.from({ length: 10 }, () => ({ src: SPOOF, dst, sport: 0, dport: DNS, payload: q })),
      { src: SPOOF, dst, sport: 0, dport: DNS, payload: Buffer.alloc(0) },
      { src: SPOOF, dst, sport: 40000, dport: DNS, payload: Buffer.alloc(0) },
      { src: SPOOF, dst, sport: 40001, dport: DNS, payload: Buffer.concat([q, Buffer.alloc(60_000, 0xc0)]) },
      ...Array.from({ length: 300 }, (_, i) => ({ src: SPOOF, dst, sport: 20_000 + i, dport: DNS, payload: i % 2 ? mangled(rand, NAME) : garbage(rand, 1500) })),
    ]);
    await sendRaw(python, datagrams);
    await sleep(200);
    await stillServing();
  });

  it('DO=1 queries with malformed OPT and COOKIE options, and internal names from outside: a well-formed error or answer each, over UDP and TCP', async () => {
    const queries = badOptQueries(seededRandom(0xc00c));
    for (const host of [A, PRIVATE]) {
      const replies = await udpEach(host, queries);
      const silent = replies.map((r, i) => (r ? -1 : i)).filter((i) => i >= 0);
      // No limit is reached at this rate: every query gets a reply.
      expect(silent, `no UDP reply to cases ${silent.join(', ')} at ${host}`).toEqual([]);
      replies.forEach((r, i) => expectWellFormed(queries[i], r!));
      // The last case asks the internal name from outside internalFrom: REFUSED, no private address.
      const internal = replies[replies.length - 1]!;
      expect(internal[3] & 0xf).toBe(5);
      expect(internal.includes(Buffer.from([127, 0, 123, 11]))).toBe(false);
      for (const q of queries) {
        await withTcp(host, DNS, async (s) => {
          let got = Buffer.alloc(0);
          s.on('data', (d) => (got = Buffer.concat([got, d])));
          s.write(frame(q));
          const end = Date.now() + 2000;
          while (got.length < 2 || got.length < 2 + got.readUInt16BE(0)) {
            if (s.destroyed || s.readableEnded || Date.now() > end) break;
            await sleep(5);
          }
          // Over TCP a reply, or the connection closed: never a hang.
          if (got.length >= 2) expectWellFormed(q, got.subarray(2));
          else expect(s.destroyed || s.readableEnded, `TCP hangs on case ${queries.indexOf(q)}`).toBe(true);
        });
      }
    }
    await stillServing();
  });

  it('DNS over TCP on both addresses: truncated, garbage, zero-length frames and resets', async () => {
    const rand = seededRandom(0x7c8);
    for (const host of [A, PRIVATE]) {
      await withTcp(host, DNS, (s) => void s.end(Buffer.concat([Buffer.from([0x01, 0x00]), encodeQuery(NAME, 'A')])));
      await withTcp(host, DNS, (s) => void s.end(Buffer.from([0x00])));
      await withTcp(host, DNS, (s) => void s.write(garbage(rand, 4000)));
      await withTcp(host, DNS, (s) => void s.write(Buffer.concat(Array.from({ length: 50 }, () => frame(rand() < 0.5 ? mangled(rand, NAME) : garbage(rand, 300))))));
      await withTcp(host, DNS, async (s) => {
        s.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => frame(encodeQuery('cluster.test', 'DNSKEY', { id: i, edns: { type: 'OPT', name: '.', udpPayloadSize: 4096, flags: packet.DNSSEC_OK, options: [] } as unknown as packet.Answer })))));
        await sleep(5);
        s.resetAndDestroy();
      });
      await Promise.all(Array.from({ length: 10 }, () => withTcp(host, DNS, (s) => void s.resetAndDestroy())));
    }
    await sleep(100);
    await stillServing();
  });

  it('the peer port: junk from the peer address and from strangers, source port 0', async () => {
    const rand = seededRandom(0x9e3);
    const s = dgram.createSocket('udp4');
    s.on('error', () => undefined);
    // Heartbeats go from the private address, the peer address of this one-node cluster.
    await new Promise<void>((r) => s.bind(0, PRIVATE, r));
    for (let i = 0; i < 500; i++) {
      await new Promise<void>((r) => s.send(i % 2 ? garbage(rand, 1400) : Buffer.alloc(i % 7), PEER, PRIVATE, () => r()));
      if (i % 64 === 63) await sleep(1);
    }
    s.close();
    await sendRaw(
      python,
      Array.from({ length: 100 }, (_, i) => ({ src: i % 2 ? SPOOF : PRIVATE, dst: PRIVATE, sport: i % 3 ? 0 : 7946, dport: PEER, payload: garbage(rand, 600) })),
    );
    await sleep(200);
    await stillServing();
  });

  it('the HTTP API answers on the private address only, and survives malformed requests there', async () => {
    await expect(fetch(`http://${A}:${HTTP}/healthz`)).rejects.toThrow();
    const rand = seededRandom(0x4775);
    const requests = [
      'BREW / HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc',
      'GET %%%/\x00\x01 HTTP/1.1\r\n\r\n',
      `GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(100_000)}\r\n\r\n`,
      'GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nzzzzzzzz\r\n',
      'GET /v1/answers?name=%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const r of requests) await withTcp(PRIVATE, HTTP, (s) => void s.write(r));
    for (let i = 0; i < 20; i++) await withTcp(PRIVATE, HTTP, (s) => void s.write(garbage(rand, 2000)));
    expect((await fetch(`http://${PRIVATE}:${HTTP}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${PRIVATE}:${HTTP}/v1/status`)).status).toBe(200);
    await stillServing();
  });

  it('the discovery port on both addresses: garbage, truncated RESP, huge lengths, floods and resets', async () => {
    const rand = seededRandom(0x5e17);
    const inputs = [
      '*3\r\n$8\r\nSENTINEL\r\n',
      '*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$11\r\nredis-1',
      '$99999999999999999999\r\n',
      '*99999999999\r\n',
      '*-5\r\n',
      '$-7\r\n',
      '*1\r\n$-1\r\n',
      `${'*1\r\n'.repeat(10_000)}$4\r\nPING\r\n`,
      `PING ${'x'.repeat(200_000)}`,
      'HELLO 3\r\nHELLO 99\r\nHELLO\r\nAUTH wrong\r\nAUTH a b c d\r\n',
      'SENTINEL\r\nSENTINEL masters extra args\r\nSENTINEL get-master-addr-by-name\r\nSENTINEL master nope\r\nROLE x\r\nCLIENT SETNAME\r\nCLIENT SETNAME "a b"\r\n',
      '"unterminated quote\r\n',
      '\r\n\r\n\r\n\x00\x00\x00',
      'SUBSCRIBE +switch-master\r\n*2\r\n$4\r\nPING\r\n$',
      'PSUBSCRIBE *\r\nUNSUBSCRIBE\r\nPUNSUBSCRIBE x y\r\n',
    ];
    for (const host of [A, PRIVATE]) {
      for (const text of inputs) await withTcp(host, DISCOVERY, (s) => void s.write(text));
      for (let i = 0; i < 20; i++) await withTcp(host, DISCOVERY, (s) => void s.write(garbage(rand, 3000)));
      // A pipelined flood never read, then a reset.
      await withTcp(host, DISCOVERY, async (s) => {
        s.write('SENTINEL masters\r\n'.repeat(20_000));
        await sleep(20);
        s.resetAndDestroy();
      });
      await withTcp(host, DISCOVERY, async (s) => {
        s.write('*2\r\n$8\r\nSENTINEL\r\n$7\r\nmast');
        await sleep(10);
        s.resetAndDestroy();
      });
      await Promise.all(Array.from({ length: 10 }, () => withTcp(host, DISCOVERY, (s) => void s.resetAndDestroy())));
      // An error for a bad request, and the connection still usable or closed: never a hang.
      expect(await sentinel(host, 'NOSUCHCOMMAND\r\n')).toMatch(/^-ERR/);
    }
    await sleep(100);
    await stillServing();
  });
});
