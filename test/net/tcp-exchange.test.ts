import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpExchange } from '../../src/net/tcp-exchange';

/** A real TCP peer on 127.0.60.1 (block 127.0.60.0/24), ephemeral ports. */
const HOST = '127.0.60.1';

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise((r) => (server?.listening ? server.close(r) : r(undefined)));
  server = undefined;
});

function peer(onData: (socket: Socket, data: Buffer) => void): Promise<number> {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (d) => onData(socket, d));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server!.listen(0, HOST, () => resolve((server!.address() as { port: number }).port)));
}

const framed = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);

describe('tcpExchange', () => {
  it('sends one framed message and returns the reply, however the reply is split', async () => {
    const seen: Buffer[] = [];
    const reply = Buffer.from('a reply of some length');
    const port = await peer((socket, d) => {
      seen.push(d);
      const f = framed(reply);
      // One byte of the length, then the rest in two pieces.
      socket.write(f.subarray(0, 1));
      setTimeout(() => socket.write(f.subarray(1, 6)), 20);
      setTimeout(() => socket.write(f.subarray(6)), 40);
    });
    const r = await tcpExchange({ host: HOST, port }, Buffer.from('query'), 2000);
    expect(r).toEqual({ reply });
    expect(Buffer.concat(seen)).toEqual(framed(Buffer.from('query')));
  });

  it.each([
    ['a peer that closes without answering', 'closed', (s: Socket) => s.end()],
    ['a peer that sends half a reply and closes', 'closed', (s: Socket) => s.end(Buffer.from([0, 10, 1, 2]))],
    ['a peer that never answers', 'timeout', () => undefined],
  ] as const)('%s: %s', async (_what, failure, behave) => {
    const port = await peer((s) => behave(s));
    const started = Date.now();
    expect(await tcpExchange({ host: HOST, port }, Buffer.from('q'), 300)).toEqual({ failure });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('nothing listening: the socket error, with its code', async () => {
    const port = await peer(() => undefined);
    await new Promise((r) => server!.close(r));
    const r = await tcpExchange({ host: HOST, port }, Buffer.from('q'), 2000);
    expect(r).toMatchObject({ failure: 'error', error: { code: 'ECONNREFUSED' } });
  });
});
