import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { literalLookup } from '../../src/net/literal-lookup';

const family = (address: string): number => {
  let got = 0;
  literalLookup(address, {}, (_e, a, f) => {
    expect(a).toBe(address);
    got = f;
  });
  return got; // synchronous: no dns.lookup, no nextTick
};

describe('literalLookup', () => {
  it.each([
    ['127.0.0.1', 4],
    ['10.1.2.3', 4],
    ['255.255.255.255', 4],
    ['::1', 6],
    ['2001:db8::11', 6],
    ['::ffff:127.0.0.1', 6],
    ['fe80::1%lo', 6],
    ['FD00:0:0:0:0:0:0:1', 6],
  ])('%s is IPv%i, answered at once', (address, want) => {
    expect(family(address)).toBe(want);
  });

  it('lets udp4 and udp6 sockets send to literals (a round trip on each)', async () => {
    for (const [type, address] of [['udp4', '127.0.230.1'], ['udp6', '::1']] as const) {
      const server = dgram.createSocket(type);
      const client = dgram.createSocket({ type, lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
      try {
        await new Promise<void>((resolve) => server.bind(0, address, resolve));
        const got = new Promise<string>((resolve) => server.once('message', (m) => resolve(m.toString())));
        await new Promise<void>((resolve, reject) => client.send('ping', server.address().port, address, (e) => (e ? reject(e) : resolve())));
        expect(await got).toBe('ping');
      } finally {
        server.close();
        client.close();
      }
    }
  });
});
