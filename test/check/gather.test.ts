import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gather } from '../../src/check/gather';
import { evaluate } from '../../src/check/report';

/**
 * The gatherer's walk against scripted servers on port 53 of 127.0.8.41–44: a resolver, a parent
 * that refers `cluster.b.test` to one name server, and that name server. Scripted rather than real
 * programs so that each answer a real resolver might give (NODATA on the way up, SERVFAIL) is exact.
 */
const RESOLVER = '127.0.8.41';
const PARENT = '127.0.8.42';
const CHILD = '127.0.8.43';
const BROKEN_RESOLVER = '127.0.8.44';

type Table = Record<string, Partial<packet.Packet> & { rcode?: number }>;
const closers: (() => Promise<void>)[] = [];

function answerFrom(table: Table, raw: Buffer): Buffer {
  const q = packet.decode(raw);
  const question = q.questions![0];
  const key = `${question.name.toLowerCase()} ${question.type}`;
  const entry = table[key] ?? table['*'] ?? { rcode: 3 };
  const { rcode = 0, ...rest } = entry;
  const opt = { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as packet.Answer;
  return packet.encode({ type: 'response', id: q.id, flags: rcode | (rest.flags ?? 0), questions: q.questions, ...rest, additionals: [...(rest.additionals ?? []), opt] } as packet.Packet);
}

async function serve(host: string, table: Table): Promise<void> {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, from) => udp.send(answerFrom(table, m), from.port, from.address));
  await new Promise<void>((r) => udp.bind(53, host, r));
  const tcp = net.createServer((c) =>
    c.on('data', (d) => {
      const reply = answerFrom(table, d.subarray(2));
      c.end(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
    }),
  );
  await new Promise<void>((r) => tcp.listen(53, host, r));
  closers.push(
    () => new Promise((r) => udp.close(() => r())),
    () => new Promise((r) => tcp.close(() => r())),
  );
}

const AA = packet.AUTHORITATIVE_ANSWER;
const ZONE = 'cluster.b.test';

beforeAll(async () => {
  await serve(RESOLVER, {
    // b.test is not a zone: NODATA, so the walk goes on up to test.
    'b.test NS': { flags: packet.RECURSION_AVAILABLE, authorities: [{ name: 'test', type: 'SOA', ttl: 5, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } }] },
    'test NS': { flags: packet.RECURSION_AVAILABLE, answers: [{ name: 'test', type: 'NS', ttl: 60, data: 'ns.test' }] },
    'ns.test A': { flags: packet.RECURSION_AVAILABLE, answers: [{ name: 'ns.test', type: 'A', ttl: 60, data: PARENT }] },
  });
  await serve(PARENT, {
    [`${ZONE} NS`]: {
      authorities: [{ name: ZONE, type: 'NS', ttl: 30, data: `ns1.${ZONE}` }],
      additionals: [{ name: `ns1.${ZONE}`, type: 'A', ttl: 30, data: CHILD }],
    },
  });
  await serve(CHILD, {
    [`${ZONE} SOA`]: { flags: AA, answers: [{ name: ZONE, type: 'SOA', ttl: 5, data: { mname: `ns1.${ZONE}`, rname: `h.${ZONE}`, serial: 9, refresh: 1, retry: 1, expire: 1, minimum: 1 } }] },
    [`${ZONE} NS`]: { flags: AA, answers: [{ name: ZONE, type: 'NS', ttl: 30, data: `ns1.${ZONE}` }] },
    [`ns1.${ZONE} A`]: { flags: AA, answers: [{ name: `ns1.${ZONE}`, type: 'A', ttl: 5, data: CHILD }] },
  });
  await serve(BROKEN_RESOLVER, { '*': { rcode: 2 } });
});

afterAll(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

describe('gathering through a resolver', () => {
  it('walks up past a name that is not a zone, asks the parent non-recursively, then the name server it refers to', async () => {
    const obs = await gather({ zone: ZONE, resolver: { host: RESOLVER, port: 53 }, timeoutMs: 1000, maxStaleSeconds: 120 });
    expect(obs.parents).toHaveLength(1);
    expect(obs.parents[0]).toMatchObject({ zone: 'test', serverName: 'ns.test', server: { host: PARENT, port: 53 } });
    expect(obs.servers.map((s) => s.endpoint.host)).toEqual([CHILD]);
    const r = evaluate(obs);
    expect(r.model.parent).toMatchObject({ ns: [`ns1.${ZONE}`], nsTtl: 30, glueTtl: 30 });
    expect(r.model.servers[0]).toMatchObject({ serving: true, serial: 9, udp: 'ok', tcp: 'ok', edns: true, ns: [`ns1.${ZONE}`] });
    expect(r.exitCode).toBe(0);
  });

  it('a resolver that answers SERVFAIL stops the walk with a message, rather than asking a grandparent', async () => {
    const obs = await gather({ zone: ZONE, resolver: { host: BROKEN_RESOLVER, port: 53 }, timeoutMs: 1000, maxStaleSeconds: 120 });
    expect(obs.parents).toEqual([]);
    expect(obs.parentError).toBe(`resolver ${BROKEN_RESOLVER}:53 answered SERVFAIL for b.test NS`);
    const r = evaluate(obs);
    expect(r.exitCode).toBe(2);
    expect(r.findings[0]).toMatchObject({ code: 'parent-not-found', fix: expect.stringContaining('--parent') });
  });
});
