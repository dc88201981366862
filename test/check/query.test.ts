import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, askLikeAResolver, isReply } from '../../src/check/query';

/**
 * The query layer against tiny real servers on 127.0.8.40+ (this file's share of 127.0.8.0/24):
 * what a dead, silent, truncating or confused server looks like to `check`.
 */
const HOST = '127.0.8.40';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

type Answerer = (q: packet.Packet) => packet.Packet | undefined;

/** dns-packet takes the rcode from the low bits of `flags`. */
function response(q: packet.Packet, extra: Partial<packet.Packet> & { flags?: number } = {}): packet.Packet {
  return { type: 'response', id: q.id, questions: q.questions, ...extra, flags: packet.AUTHORITATIVE_ANSWER | (extra.flags ?? 0) } as packet.Packet;
}

async function udpServer(answer: Answerer): Promise<{ port: number; asked: () => number }> {
  const s = dgram.createSocket('udp4');
  let asked = 0;
  s.on('message', (m, from) => {
    asked++;
    const r = answer(packet.decode(m));
    if (r) s.send(packet.encode(r), from.port, from.address);
  });
  await new Promise<void>((r) => s.bind(0, HOST, r));
  closers.push(() => new Promise((r) => s.close(() => r())));
  return { port: s.address().port, asked: () => asked };
}

async function tcpServer(port: number, answer: Answerer): Promise<void> {
  const server = net.createServer((c) => {
    c.on('data', (d) => {
      const r = answer(packet.decode(d.subarray(2)));
      if (r) c.end(packet.streamEncode(r));
    });
  });
  await new Promise<void>((r) => server.listen(port, HOST, r));
  closers.push(() => new Promise((r) => server.close(() => r())));
}

const SOA = () => [{ name: 'cluster.test', type: 'SOA', ttl: 2, data: { mname: 'ns1.cluster.test', rname: 'h.cluster.test', serial: 7, refresh: 1, retry: 1, expire: 1, minimum: 1 } }] as packet.Answer[];

describe('asking one name server', () => {
  it('a port nobody listens on is "refused" at once, not after the timeout', async () => {
    const { port } = await udpServer(() => undefined);
    await new Promise<void>((r) => closers.shift()!().then(r)); // free the port again
    const start = Date.now();
    const o = await ask({ host: HOST, port }, { name: 'cluster.test', type: 'SOA' }, { transport: 'udp', timeoutMs: 3000 });
    expect(o).toMatchObject({ failure: 'refused' });
    expect(Date.now() - start).toBeLessThan(1000);
    expect(await ask({ host: HOST, port }, { name: 'cluster.test', type: 'SOA' }, { transport: 'tcp', timeoutMs: 3000 })).toMatchObject({ failure: 'refused' });
  });

  it('a silent server is a timeout, asked twice over UDP by askLikeAResolver', async () => {
    const srv = await udpServer(() => undefined);
    const o = await askLikeAResolver({ host: HOST, port: srv.port }, { name: 'cluster.test', type: 'SOA' }, 200);
    expect(o).toMatchObject({ failure: 'timeout' });
    expect(srv.asked()).toBe(2);
  });

  it('a truncated UDP answer is asked again over TCP, as resolvers do', async () => {
    const srv = await udpServer((q) => response(q, { flags: packet.TRUNCATED_RESPONSE }));
    await tcpServer(srv.port, (q) => response(q, { answers: SOA() }));
    const o = await askLikeAResolver({ host: HOST, port: srv.port }, { name: 'cluster.test', type: 'SOA' }, 1000);
    expect(isReply(o) && o.reply.answer).toEqual([{ name: 'cluster.test', type: 'SOA', ttl: 2, data: 'ns1.cluster.test 7', serial: 7 }]);
  });

  it('a reply with the wrong id is ignored; the right one that follows is taken', async () => {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, from) => {
      const q = packet.decode(m);
      s.send(packet.encode({ ...response(q, {}), id: (q.id! + 1) & 0xffff }), from.port, from.address);
      setTimeout(() => s.send(packet.encode(response(q, { answers: SOA() })), from.port, from.address), 20);
    });
    await new Promise<void>((r) => s.bind(0, HOST, r));
    closers.push(() => new Promise((r) => s.close(() => r())));
    const o = await ask({ host: HOST, port: s.address().port }, { name: 'cluster.test', type: 'SOA' }, { transport: 'udp', timeoutMs: 1000 });
    expect(isReply(o) && o.reply.answer[0].serial).toBe(7);
  });

  it('reads AA, rcode, EDNS and NSID from the reply; RD is clear unless asked for', async () => {
    const rd: boolean[] = [];
    const srv = await udpServer((q) => {
      rd.push(((q.flags ?? 0) & packet.RECURSION_DESIRED) !== 0);
      const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { options?: { code: number }[] } | undefined;
      const nsid = opt?.options?.some((o) => o.code === 3);
      return response(q, {
        flags: 5, // REFUSED
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: nsid ? [{ code: 3, data: Buffer.from('node7') }] : [] } as unknown as packet.Answer],
      } as Partial<packet.Packet>);
    });
    const plain = await ask({ host: HOST, port: srv.port }, { name: 'cluster.test', type: 'SOA' }, { transport: 'udp', timeoutMs: 1000 });
    const withNsid = await ask({ host: HOST, port: srv.port }, { name: 'cluster.test', type: 'SOA' }, { transport: 'udp', timeoutMs: 1000, nsid: true, recurse: true });
    expect(isReply(plain) && plain.reply).toMatchObject({ rcode: 'REFUSED', aa: true, edns: true });
    expect(isReply(plain) && plain.reply.nsid).toBeUndefined();
    expect(isReply(withNsid) && withNsid.reply.nsid).toBe('node7');
    expect(rd).toEqual([false, true]);
  });
});
