import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimLoopback } from '../parent/named';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { namedConf } from '../helpers/lab-servers';
import { encodeQuery, udpExchange, udpQuery } from '../helpers/dns';
import { Processes, run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * DNS cookies (RFC 7873) with RFC 9018 server cookies on a live two-node cluster, asked by dig,
 * kdig, raw packets and BIND 9 forwarding to the agents with cookies on. A cookie one node made
 * must be valid on the other: the cookie secret comes from the cluster secret.
 * Block: 127.0.93.0/24.
 */

const N1 = '127.0.93.1';
const N2 = '127.0.93.2';
const NAMED = '127.0.93.10';
const PORT = 5620;
const NAMED_PORT = 5630;
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
        { name: 'node1', address: N1 },
        { name: 'node2', address: N2 },
      ],
    }),
  );
  await Promise.all([cluster.startAgent('node1'), cluster.startAgent('node2')]);
  for (const host of [N1, N2]) {
    const end = Date.now() + 15_000;
    while ((await udpQuery(host, PORT, 'node1.cluster.test', 'A').catch(() => undefined))?.answers?.[0]?.type !== 'A') {
      if (Date.now() > end) throw new Error(`${host} does not answer`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}, 30_000);

afterAll(async () => {
  await cluster?.cleanup();
});

async function cookies(host: string, result: 'valid' | 'client-only'): Promise<number> {
  const text = await (await fetch(`http://${host}:${PORT + 2}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`clusterdns_dns_cookies_total{result="${result}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function withCookie(data: Buffer): Buffer {
  return encodeQuery('node1.cluster.test', 'A', { edns: { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [{ code: 10, data }] } as unknown as packet.Answer });
}

function replyCookie(reply: Buffer): Buffer | undefined {
  const opt = packet.decode(reply).additionals?.find((a) => a.type === 'OPT') as packet.OptAnswer | undefined;
  return (opt?.options.find((o) => o.code === 10) as { data: Buffer } | undefined)?.data;
}

describe('DNS cookies', () => {
  it('dig +cookie gets a server cookie; sent back to either node it is valid there', async () => {
    const first = await run(dig, ['-b', '127.0.93.20', '-p', String(PORT), `@${N1}`, '+cookie', 'node1.cluster.test', 'A']);
    const m = /; COOKIE: ([0-9a-f]{48}) \(good\)/.exec(first.stdout);
    expect(m, first.stdout).not.toBeNull();
    for (const host of [N1, N2]) {
      const before = await cookies(host, 'valid');
      const again = await run(dig, ['-b', '127.0.93.20', '-p', String(PORT), `@${host}`, `+cookie=${m![1]}`, 'node1.cluster.test', 'A']);
      expect(again.stdout).toMatch(/status: NOERROR/);
      expect(again.stdout).toMatch(/; COOKIE: [0-9a-f]{48} \(good\)/);
      expect(await cookies(host, 'valid')).toBe(before + 1);
    }
  });

  it('kdig +cookie gets one too, and kdig sending it back is counted valid', async () => {
    const first = await run(kdig, ['-b', '127.0.93.21', '-p', String(PORT), `@${N2}`, '+cookie', 'node2.cluster.test', 'A']);
    const m = /;; COOKIE: ([0-9A-Fa-f]{48})/.exec(first.stdout);
    expect(m, first.stdout).not.toBeNull();
    const before = await cookies(N1, 'valid');
    const again = await run(kdig, ['-b', '127.0.93.21', '-p', String(PORT), `@${N1}`, `+cookie=${m![1]}`, 'node2.cluster.test', 'A']);
    expect(again.stdout).toMatch(/status: NOERROR/);
    expect(await cookies(N1, 'valid')).toBe(before + 1);
  });

  it.each([0, 1, 5, 7, 9, 15, 41])('a COOKIE option of %i bytes is malformed: FORMERR', async (n) => {
    const reply = await udpExchange(N1, PORT, withCookie(Buffer.alloc(n, 7)));
    expect(reply).toBeDefined();
    expect(reply![3] & 0xf).toBe(1);
  });

  it('a server cookie that is not ours gets a fresh one and a normal answer, not BADCOOKIE', async () => {
    const forged = Buffer.concat([Buffer.from('0102030405060708', 'hex'), Buffer.from('01000000', 'hex'), Buffer.alloc(4), Buffer.alloc(8, 0x55)]);
    forged.writeUInt32BE(Math.floor(Date.now() / 1000), 12);
    const reply = (await udpExchange(N1, PORT, withCookie(forged)))!;
    const r = packet.decode(reply);
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers?.[0]?.data).toBe(N1);
    const cookie = replyCookie(reply)!;
    expect(cookie).toHaveLength(24);
    expect(cookie.subarray(0, 8)).toEqual(forged.subarray(0, 8));
    expect(cookie.subarray(16)).not.toEqual(forged.subarray(16));
    // Server cookies of other lengths (8 to 32 bytes) are not ours either: answered, never FORMERR.
    const other = (await udpExchange(N1, PORT, withCookie(Buffer.alloc(8 + 32, 3))))!;
    expect(packet.decode(other).rcode).toBe('NOERROR');
  });

  it('BIND 9 forwarding to the agents learns the server cookie and presents it', async () => {
    const named = requireTool('named');
    const release = await claimLoopback(NAMED);
    const dir = mkdtempSync(join(tmpdir(), 'clusterdns-named-cookie-'));
    const procs = new Processes();
    try {
      writeFileSync(
        join(dir, 'named.conf'),
        namedConf(dir, NAMED, NAMED_PORT, [`query-source address ${NAMED};`, 'recursion yes;', 'allow-query { any; };', 'dnssec-validation no;', 'send-cookie yes;', 'require-server-cookie no;', 'max-cache-ttl 0;', 'max-ncache-ttl 0;'], `zone "cluster.test" { type forward; forward only; forwarders { ${N1} port ${PORT}; ${N2} port ${PORT}; }; };
`),
      );
      const p = procs.start(named, ['-g', '-4', '-c', join(dir, 'named.conf')]);
      await p.waitForOutput(/running$/m, 15_000);
      const before = (await cookies(N1, 'valid')) + (await cookies(N2, 'valid'));
      for (let i = 0; i < 6; i++) {
        const r = await run(dig, ['-p', String(NAMED_PORT), `@${NAMED}`, '+tries=1', '+timeout=3', i % 2 ? 'node2.cluster.test' : 'node1.cluster.test', 'A']);
        expect(r.stdout).toMatch(i % 2 ? /node2\.cluster\.test\.\s+\d+\s+IN\s+A\s+127\.0\.93\.2/ : /node1\.cluster\.test\.\s+\d+\s+IN\s+A\s+127\.0\.93\.1/);
      }
      const after = (await cookies(N1, 'valid')) + (await cookies(N2, 'valid'));
      expect(after).toBeGreaterThan(before);
    } finally {
      await procs.stopAll();
      await release();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
