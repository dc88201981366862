import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/membership/prng';
import type { TestCluster } from '../helpers/cluster';
import { udpQuery } from '../helpers/dns';
import { run } from '../helpers/proc';
import { CLI } from '../helpers/cluster';
import { command, discoveryCluster, exchange, until } from './helpers';

/**
 * Hostile and broken clients against a real agent's discovery service, from raw sockets: each gets
 * an error and a closed connection, memory stays bounded, and DNS and other clients are served all
 * along. Block: 127.0.83.0/24.
 */

const HOST = '127.0.83.1';
const DNS_PORT = 5831;
const HTTP_PORT = DNS_PORT + 2;
const PORT = 5834;

let cluster: TestCluster;
beforeAll(async () => {
  cluster = discoveryCluster({ nodes: [{ name: 'node1', address: HOST }], dnsPort: DNS_PORT, discoveryPort: PORT, services: ['{ name: cache, port: 6379 }'] });
  await cluster.startAgent('node1');
  await until('serving', () => exchange(HOST, PORT, [command('SENTINEL', 'get-master-addr-by-name', 'cache')]), (r) => r.text.startsWith('*2'), 10_000);
});
afterAll(async () => {
  await cluster?.cleanup();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://${HOST}:${HTTP_PORT}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

/** Resident memory of the agent, from /proc. */
function agentRssMb(): number {
  const status = readFileSync(`/proc/${cluster.agents.get('node1')!.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function stillServes(): Promise<void> {
  const t0 = Date.now();
  const dns = await udpQuery(HOST, DNS_PORT, 'cache.cluster.test', 'A');
  expect(dns.answers?.map((a) => ('data' in a ? a.data : undefined))).toEqual([HOST]);
  expect(Date.now() - t0).toBeLessThan(500);
  expect((await exchange(HOST, PORT, [command('PING')], { waitMs: 100 })).text).toBe('+PONG\r\n');
}

describe('oversized requests: an error, then the connection is closed', () => {
  it.each([
    ['a bulk argument over 64 KiB', `*2\r\n$4\r\nPING\r\n$${64 * 1024 + 1}\r\n`, '-ERR Protocol error: invalid bulk length\r\n'],
    ['more than 1024 arguments', '*1025\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['a header line without an end', Buffer.alloc(70 * 1024, '9').fill('*', 0, 1), '-ERR Protocol error: too big mbulk count string\r\n'],
    ['an inline line without an end', Buffer.alloc(70 * 1024, 'a'), '-ERR Protocol error: too big inline request\r\n'],
    [
      'arguments adding up to more than 1 MiB',
      `*20\r\n$4\r\nPING\r\n${`$60000\r\n${'x'.repeat(60000)}\r\n`.repeat(19)}`,
      '-ERR Protocol error: request too large\r\n',
    ],
  ] as Array<[string, string | Buffer, string]>)('%s', async (_label, request, reply) => {
    const r = await exchange(HOST, PORT, [request], { waitMs: 2000 });
    expect(r.text).toBe(reply);
    expect(r.ended).not.toBe('open');
  });
});

describe('unfinished and broken requests', () => {
  it('a request left unfinished is an error after 5 s and the connection closes', async () => {
    const t0 = Date.now();
    const r = await exchange(HOST, PORT, [command('PING') + '*2\r\n$4\r\nPING\r\n$3\r\nab'], { waitMs: 8000 });
    expect(r.text).toBe('+PONG\r\n-ERR Protocol error: request not completed in time\r\n');
    expect(r.ended).not.toBe('open');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4900);
    expect(Date.now() - t0).toBeLessThan(7000);
  });

  it('a request trickling in a byte at a time is served (no rescanning, no timeout while it finishes in time)', async () => {
    const req = command('SENTINEL', 'get-master-addr-by-name', 'cache');
    const r = await exchange(HOST, PORT, [...req].map((c) => c), { gapMs: 2, waitMs: 300 });
    expect(r.text).toBe(`*2\r\n$10\r\n${HOST}\r\n$4\r\n6379\r\n`);
  });

  it('connections reset in the middle of a request leave nothing behind', async () => {
    const before = await metric('clusterdns_discovery_connections');
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host: HOST, port: PORT }, () => {
            s.write(i % 2 ? '*3\r\n$8\r\nSENTINEL\r\n$2' : 'SENTINEL get-mas');
            setTimeout(() => {
              s.resetAndDestroy();
              resolve();
            }, 50);
          });
          s.on('error', () => resolve());
        }),
      ),
    );
    await until('every reset connection is gone', () => metric('clusterdns_discovery_connections'), (n) => n === before, 3000);
    await stillServes();
  });

  it('random bytes: only complete, well-formed replies; the agent lives', async () => {
    const random = seededRandom(11);
    const runs = Array.from({ length: 30 }, () => {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 400) }, () => {
        // Mostly protocol characters, so the parser goes deep, not just "unknown command".
        const r = random();
        return r < 0.3 ? '*$\r\n0123456789-'.charCodeAt(Math.floor(random() * 16)) : Math.floor(random() * 256);
      }));
      return exchange(HOST, PORT, [bytes], { waitMs: 6500 });
    });
    for (const r of await Promise.all(runs)) {
      expect(wellFormed(r.bytes), JSON.stringify(r.text)).toBe(true);
    }
    await stillServes();
  });
});

describe('clients that do not read', () => {
  it('a pipelined flood from a client that never reads is cut off at the output limit; memory stays bounded, DNS is answered throughout', async () => {
    const errorsBefore = await metric('clusterdns_discovery_errors_total{kind="output-limit"}');
    const rssBefore = agentRssMb();
    let flooding = true;
    const dnsLatencies = (async () => {
      const out: number[] = [];
      while (flooding) {
        const t0 = Date.now();
        await udpQuery(HOST, DNS_PORT, 'cache.cluster.test', 'A');
        out.push(Date.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    })();
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: HOST, port: PORT });
      s.pause(); // never read a byte of the replies
      const chunk = Buffer.from(command('SENTINEL', 'masters').repeat(1000));
      let sent = 0;
      const end = setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 15_000);
      const finish = (v: boolean) => {
        clearTimeout(end);
        s.destroy();
        resolve(v);
      };
      s.on('error', () => finish(true));
      s.on('close', () => finish(true));
      const pump = () => {
        while (sent < 200 * 1024 * 1024) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        finish(false);
      };
      s.on('connect', pump);
    });
    flooding = false;
    const latencies = await dnsLatencies;
    expect(closed, 'the server closed the flooding connection').toBe(true);
    expect(latencies.length).toBeGreaterThan(0);
    expect(Math.max(...latencies), 'DNS answer time during the flood (ms)').toBeLessThan(500);
    expect(await metric('clusterdns_discovery_errors_total{kind="output-limit"}')).toBeGreaterThan(errorsBefore);
    const grew = agentRssMb() - rssBefore;
    console.log(`flood: agent RSS grew ${grew.toFixed(1)} MB; DNS answered ${latencies.length} times during it, worst ${Math.max(...latencies)} ms`);
    expect(grew).toBeLessThan(100);
    await stillServes();
  });
});

describe('the port is taken', () => {
  it('the agent refuses to start with an error that names the port and the fix, no stack trace', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(5844, '127.0.83.5', r));
    const c = discoveryCluster({ nodes: [{ name: 'node1', address: '127.0.83.5' }], dnsPort: 5841, discoveryPort: 5844, services: ['{ name: cache, port: 6379 }'] });
    try {
      const r = await run(process.execPath, [CLI, 'agent', '--config', c.configPath, '--node', 'node1'], { timeoutMs: 10_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot listen for discovery (Sentinel protocol) on 127.0.83.5 port 5844: EADDRINUSE — another process already listens there: stop it, change discovery.port, or set discovery.enabled: false');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      squatter.close();
      await c.cleanup();
    }
  });
});

/** Whether bytes are a sequence of complete RESP2 replies (the server never sends half of one). */
function wellFormed(bytes: Buffer): boolean {
  const text = bytes.toString('latin1');
  let i = 0;
  const line = (): string | undefined => {
    const end = text.indexOf('\r\n', i);
    if (end < 0) return undefined;
    const l = text.slice(i, end);
    i = end + 2;
    return l;
  };
  const reply = (): boolean => {
    const l = line();
    if (l === undefined || l.length === 0) return false;
    const n = Number(l.slice(1));
    switch (l[0]) {
      case '+':
      case '-':
      case ':':
        return true;
      case '$':
        if (n === -1) return true;
        if (!Number.isInteger(n) || text.slice(i + n, i + n + 2) !== '\r\n') return false;
        i += n + 2;
        return true;
      case '*':
        if (n === -1) return true;
        for (let k = 0; k < n; k++) if (!reply()) return false;
        return Number.isInteger(n);
    }
    return false;
  };
  while (i < text.length) if (!reply()) return false;
  return true;
}
