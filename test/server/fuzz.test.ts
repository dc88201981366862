import dgram from 'node:dgram';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { seededRandom } from '../../src/membership/prng';
import { Responder } from '../../src/server/responder';
import { compile } from '../../src/zone/compile';
import { allUpInputs } from '../../src/zone/inputs';
import { buildZone } from '../../src/zone/zone';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery, udpQuery } from '../helpers/dns';

/**
 * Random and mutated packets: no throw, no hang, and every reply is a DNS message dns-packet can
 * decode. Seeded, so a failure can be replayed. Block: 127.0.3.0/24.
 */

const SEEDS: Buffer[] = [
  encodeQuery('node1.cluster.test', 'A'),
  encodeQuery('cluster.test', 'NS', { edns: true }),
  encodeQuery('NoDe2.Cluster.Test', 'AAAA', { edns: true }),
  encodeQuery('missing.cluster.test', 'TXT'),
  encodeQuery('_redis._tcp.cluster.test', 'SRV', { edns: true }),
  encodeQuery('hostname.bind', 'TXT', { klass: 'CH' }),
  encodeQuery('example.com', 'A'),
  encodeQuery('cluster.test', 'ANY'),
  encodeQuery('node1.cluster.test', 'A', {
    edns: { type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 3, data: Buffer.alloc(0) }, { code: 10, data: Buffer.alloc(8, 1) }] } as unknown as packet.Answer,
  }),
];

/** Mutations that reach deep into the parser: bit flips, byte sets, truncation, splicing, count edits. */
function mutate(rand: () => number, seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  const n = 1 + Math.floor(rand() * 4);
  let out = b;
  for (let i = 0; i < n; i++) {
    const op = Math.floor(rand() * 6);
    const at = Math.floor(rand() * out.length);
    if (op === 0) out[at] ^= 1 << Math.floor(rand() * 8);
    else if (op === 1) out[at] = Math.floor(rand() * 256);
    else if (op === 2) out = out.subarray(0, at);
    else if (op === 3) out = Buffer.concat([out, Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)))]);
    else if (op === 4 && out.length >= 12) out.writeUInt16BE(Math.floor(rand() * 4), 4 + 2 * Math.floor(rand() * 4));
    else if (op === 5) out[at] = [0, 0x3f, 0x40, 0xc0, 0xff, 63, 41][Math.floor(rand() * 7)];
  }
  return out;
}

function randomPacket(rand: () => number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256)));
}

function* corpus(seed: number, count: number): Generator<Buffer> {
  const rand = seededRandom(seed);
  for (let i = 0; i < count; i++) yield i % 4 === 0 ? randomPacket(rand) : mutate(rand, SEEDS[i % SEEDS.length]);
}

const YAML = clusterYaml({
  dnsPort: 5302,
  nodes: [
    { name: 'node1', address: '127.0.3.1' },
    { name: 'node2', address: '127.0.3.2' },
    { name: 'node3', address: '127.0.3.3' },
  ],
  extra: 'services:\n  - { name: redis, port: 6379 }\n',
});

describe('fuzzing the parser and responder', () => {
  it('200,000 packets: never a throw, every reply decodes, ids kept', () => {
    const config = parseConfig(YAML);
    const r = new Responder(compile(buildZone(config, allUpInputs(config, 1)), { identity: 'node1', unavailable: 'refused' }), { identity: 'node1' });
    let replies = 0;
    for (const q of corpus(0xc1d5, 200_000)) {
      for (const transport of ['udp', 'tcp'] as const) {
        const out = r.respond(q, transport);
        if (!out) continue;
        replies++;
        let decoded: packet.Packet;
        try {
          decoded = packet.decode(out);
        } catch (e) {
          throw new Error(`reply to ${q.toString('hex')} does not decode: ${(e as Error).message}\n${out.toString('hex')}`);
        }
        expect(decoded.id).toBe(q.readUInt16BE(0));
        if (transport === 'udp') expect(out.length).toBeLessThanOrEqual(1232);
      }
    }
    expect(replies).toBeGreaterThan(100_000);
  });
});

describe('fuzzing a live agent', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = new TestCluster(YAML);
    await Promise.all(['node1', 'node2', 'node3'].map((n) => cluster.startAgent(n)));
    const end = Date.now() + 10_000;
    while ((await udpQuery('127.0.3.1', 5302, 'node2.cluster.test', 'A').catch(() => undefined))?.answers?.[0]?.data !== '127.0.3.2' && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(async () => {
    await cluster?.cleanup();
  });

  it('100,000 packets over UDP: the agent keeps running and every reply decodes', async () => {
    const sock = dgram.createSocket('udp4');
    let replies = 0;
    const bad: string[] = [];
    sock.on('message', (m) => {
      replies++;
      try {
        packet.decode(m);
      } catch {
        bad.push(m.toString('hex'));
      }
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.3.100', r));
    let sent = 0;
    const deadline = Date.now() + 60_000;
    const batch: Buffer[] = [];
    for (const q of corpus(0xbeef, 100_000)) {
      batch.push(q);
      if (batch.length === 200) {
        for (const b of batch) sock.send(b, 5302, '127.0.3.1');
        sent += batch.length;
        batch.length = 0;
        // Let replies drain so the socket buffers do not overflow; bounded in time.
        await new Promise((r) => setImmediate(r));
        if (Date.now() > deadline) break;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    sock.close();
    expect(sent).toBe(100_000);
    expect(bad).toEqual([]);
    expect(replies).toBeGreaterThan(10_000);
    const after = await udpQuery('127.0.3.1', 5302, 'node2.cluster.test', 'A');
    expect(after.answers![0]).toMatchObject({ type: 'A', data: '127.0.3.2' });
    expect(cluster.agents.get('node1')!.child.exitCode).toBeNull();
    expect(cluster.agents.get('node1')!.stderr).toBe('');
  });
});

