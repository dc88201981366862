import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET, TestCluster } from '../helpers/cluster';
import { encodeQuery, udpQuery } from '../helpers/dns';
import { fullConfigYaml, makeKey, type FullConfig } from '../helpers/full-config';
import type { Started } from '../helpers/proc';
import { poll } from '../helpers/poll';

/**
 * SIGHUP on an agent with every feature on, changing the keys added since 0.1: what can be applied
 * is (rateLimit, internalFrom, DNSSEC keys, secrets), and what the bound listeners cannot take
 * (discovery and HTTP ports, TCP limits) is named in the reload log line while the old listeners
 * keep serving. Block 127.0.121.0/24.
 */

const A = '127.0.121.1';
const PRIVATE = '127.0.121.11';
let cluster: TestCluster;
let agent: Started;
let base: FullConfig;

const DO = { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: packet.DNSSEC_OK, options: [] } as unknown as packet.Answer;

/** Sends SIGHUP with `c` written and returns the reload log line. */
async function reload(c: FullConfig): Promise<string> {
  const before = agent.stdout.split('\n').filter((l) => l.includes('"event":"reload')).length;
  cluster.write(fullConfigYaml(c));
  agent.kill('SIGHUP');
  const out = await poll(async () => agent.stdout, (s) => s.split('\n').filter((l) => l.includes('"event":"reload')).length > before, 5000);
  return out.split('\n').filter((l) => l.includes('"event":"reload'))[before] ?? '';
}

function sentinelPing(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: A, port });
    let got = '';
    const t = setTimeout(() => (s.destroy(), resolve(got)), 2000);
    s.on('error', () => (clearTimeout(t), resolve(`error`)));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        clearTimeout(t);
        s.destroy();
        resolve(got);
      }
    });
    s.write('PING\r\n');
  });
}

/** `n` identical queries from one socket; how many got an answer with records within 1 s. */
async function burst(n: number): Promise<number> {
  const s = dgram.createSocket('udp4');
  let answered = 0;
  s.on('message', (m) => {
    if ((packet.decode(m).answers ?? []).length > 0) answered++;
  });
  await new Promise<void>((r) => s.bind(0, '127.0.121.50', r));
  for (let i = 0; i < n; i++) s.send(encodeQuery('solo.cluster.test', 'A', { id: i }), 5421, A);
  await new Promise((r) => setTimeout(r, 1000));
  s.close();
  return answered;
}

beforeAll(async () => {
  cluster = new TestCluster('');
  const key = await makeKey(cluster.dir);
  base = { address: A, privateAddress: PRIVATE, dnsPort: 5421, peerPort: 5422, httpPort: 5423, discoveryPort: 5424, keys: [key] };
  cluster.write(fullConfigYaml(base));
  agent = await cluster.startAgent('solo');
  await poll(() => udpQuery(A, 5421, 'solo.cluster.test', 'A'), (m) => m.rcode === 'NOERROR', 10_000);
});
afterAll(async () => {
  await cluster?.cleanup();
});

describe('SIGHUP with the new keys changed', () => {
  it('internalFrom and DNSSEC keys apply at once; nothing to restart for them', async () => {
    expect((await udpQuery(A, 5421, 'solo.internal.cluster.test', 'A')).answers?.[0]).toMatchObject({ data: PRIVATE });
    const dnskeys = async () => (await udpQuery(A, 5421, 'cluster.test', 'DNSKEY', { edns: DO })).answers?.filter((r) => r.type === 'DNSKEY').length ?? 0;
    expect(await dnskeys()).toBe(1);
    const second = await makeKey(cluster.dir);
    const next = { ...base, keys: [...base.keys, second], internalFrom: ['10.9.9.0/24'], secrets: [`${SECRET}-new`, SECRET] };
    const line = await reload(next);
    expect(line).toMatch(/config reloaded/);
    expect(line).not.toMatch(/restart/);
    // Asked from 127.0.0.1, outside the new internalFrom.
    expect((await udpQuery(A, 5421, 'solo.internal.cluster.test', 'A')).rcode).toBe('REFUSED');
    expect(await dnskeys()).toBe(2);
    const signed = await udpQuery(A, 5421, 'solo.cluster.test', 'A', { edns: DO });
    expect(signed.answers?.map((r) => r.type)).toEqual(expect.arrayContaining(['A', 'RRSIG']));
    base = next;
  });

  it('discovery, HTTP and TCP-limit changes are named as needing a restart, and the old listeners keep serving', async () => {
    expect(await sentinelPing(5424)).toBe('+PONG\r\n');
    const line = await reload({ ...base, discoveryPort: 5425, httpPort: 5426, tcpIdleTimeout: '3s' });
    expect(line).toMatch(/discovery\.port \(5424 → 5425\)/);
    expect(line).toMatch(/http\.port \(5423 → 5426\)/);
    expect(line).toMatch(/dns\.tcpIdleTimeout \(2000 → 3000\)/);
    expect(line).toMatch(/takes effect after a restart/);
    expect(await sentinelPing(5424)).toBe('+PONG\r\n');
    expect((await fetch(`http://${PRIVATE}:5423/healthz`)).status).toBe(200);
    expect(agent.child.exitCode).toBeNull();
    // Back to the running ports for the next case.
    await reload(base);
  });

  it('turning discovery off is named too', async () => {
    cluster.write(fullConfigYaml(base).replace(/discovery: \{ enabled: true/, 'discovery: { enabled: false'));
    agent.kill('SIGHUP');
    const out = await poll(async () => agent.stdout, (s) => /discovery\.enabled \(true → false\)/.test(s), 5000);
    expect(out).toMatch(/discovery\.enabled \(true → false\)/);
    await reload(base);
  });

  it('rateLimit applies at once: a flood of one answer is limited after the reload', async () => {
    expect(await burst(60)).toBe(60);
    const line = await reload({ ...base, rateLimit: { responsesPerSecond: 2, slip: 0 } });
    expect(line).not.toMatch(/restart/);
    expect(await burst(60)).toBeLessThan(20);
  });
});
