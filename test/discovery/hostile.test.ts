import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../helpers/cluster';
import { udpQuery } from '../helpers/dns';
import { command, discoveryCluster, exchange, until } from './helpers';

/**
 * Attacks on the discovery service that took agents down or locked clients out (issue 18), from
 * raw sockets against real agents: patterns a RegExp cannot take, subscriptions by the hundred
 * thousand, a thousand idle connections, command names that a plain object knows.
 * Block: 127.0.170.0/24 (agents on .1–.3, attackers on .50–.60).
 */

const DNS_PORT = 6171;
const HTTP_PORT = DNS_PORT + 2;
const PORT = 6174;
const ADDRS = ['127.0.170.1', '127.0.170.2', '127.0.170.3'];

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

const masterOf = (at: string) => exchange(at, PORT, [command('SENTINEL', 'get-master-addr-by-name', 'cache')], { waitMs: 150 });
const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
const addrReply = (ip: string) => `*2\r\n$${ip.length}\r\n${ip}\r\n$4\r\n6379\r\n`;

async function start(nodes: number, discovery?: string): Promise<TestCluster> {
  const c = discoveryCluster({
    nodes: ADDRS.slice(0, nodes).map((address, i) => ({ name: `node${i + 1}`, address })),
    dnsPort: DNS_PORT,
    discoveryPort: PORT,
    discovery,
    services: ['{ name: cache, port: 6379, policy: first-healthy }'],
    peer: 'upAfter: 1s',
  });
  cluster = c;
  await Promise.all(ADDRS.slice(0, nodes).map((_, i) => c.startAgent(`node${i + 1}`)));
  const auth = /password: (\S+)/.exec(discovery ?? '')?.[1];
  const ask = (a: string) => (auth ? exchange(a, PORT, [command('AUTH', auth) + command('SENTINEL', 'get-master-addr-by-name', 'cache')], { waitMs: 150 }) : masterOf(a));
  for (const a of ADDRS.slice(0, nodes)) await until(`${a} tells cache`, () => ask(a), (r) => r.text.endsWith(addrReply(ADDRS[0])), 15_000);
  return c;
}

/** A connection that keeps what it is sent; closed by the test. */
function subscriber(host: string, req: string): { sock: net.Socket; text: () => string; ended: () => boolean } {
  const sock = net.connect({ host, port: PORT });
  let got = '';
  let ended = false;
  sock.on('data', (d) => (got += d.toString('latin1')));
  sock.on('error', () => (ended = true));
  sock.on('close', () => (ended = true));
  sock.write(req);
  return { sock, text: () => got, ended: () => ended };
}

async function dnsAnswers(host: string): Promise<number> {
  const t0 = Date.now();
  await udpQuery(host, DNS_PORT, 'cache.cluster.test', 'A');
  return Date.now() - t0;
}

function rssMb(c: TestCluster, node: string): number {
  const status = readFileSync(`/proc/${c.agents.get(node)!.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

describe('patterns are decided once, by a matcher that never throws or backtracks', () => {
  it('PSUBSCRIBE [z-a] and 40 stars and an x, then the serving node dies: the others fail over, answer DNS throughout and push to the good subscribers', async () => {
    const c = await start(3);
    const stars = `${'*'.repeat(40)}x`;
    const t0 = Date.now();
    const bad2 = subscriber(ADDRS[1], command('PSUBSCRIBE', '[z-a]', stars, '[', '\\', '[^'));
    const bad3 = subscriber(ADDRS[2], command('PSUBSCRIBE', stars, '[z-a]'));
    const good = subscriber(ADDRS[1], command('PSUBSCRIBE', '*switch*', '[-+]sdown', '[-+]odown'));
    await until('the subscriptions are confirmed', async () => [bad2.text(), bad3.text(), good.text()], ([a, b, g]) => a.includes('[^') && b.includes('[z-a]') && g.includes('odown\r\n:3'), 2000);
    expect(Date.now() - t0).toBeLessThan(1000);

    c.agents.get('node1')!.kill('SIGKILL');
    const worst = { ms: 0 };
    // DNS keeps answering on both survivors while they fail over and push.
    await until(
      'node2 and node3 tell node2',
      async () => {
        for (const a of ADDRS.slice(1)) worst.ms = Math.max(worst.ms, await dnsAnswers(a));
        return Promise.all(ADDRS.slice(1).map(masterOf));
      },
      (rs) => rs.every((r) => r.text === addrReply(ADDRS[1])),
      10_000,
    );
    await until('the good subscriber hears +switch-master', async () => good.text(), (t) => t.includes('+switch-master\r\n'), 2000);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.agents.get('node2')!.child.exitCode).toBeNull();
    expect(c.agents.get('node3')!.child.exitCode).toBeNull();
    console.log(`hostile patterns and a failover: worst DNS answer on node2/node3 ${worst.ms} ms`);
    expect(worst.ms).toBeLessThan(500);
    expect(good.text()).toContain(`$14\r\n+switch-master\r\n${bulk(`cache ${ADDRS[0]} 6379 ${ADDRS[1]} 6379`)}`);
    expect(good.text()).toContain(`$6\r\n+sdown\r\n${bulk(`master cache ${ADDRS[0]} 6379`)}`);
    // The patterns that match nothing stay subscribed and receive nothing.
    expect(bad2.ended() || bad3.ended()).toBe(false);
    expect(bad2.text()).not.toContain('pmessage');
    for (const s of [bad2, bad3, good]) s.sock.destroy();
  }, 40_000);
});

describe('bounded subscriptions', () => {
  it('2 × 300 SUBSCRIBEs of 1,000 distinct 1 KB channels: refused past the limit, RSS stays, the agent answers', async () => {
    const c = await start(1);
    const before = rssMb(c, 'node1');
    // DNS is asked every 20 ms all along: the attack must not hold its answers.
    let worstDns = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        worstDns = Math.max(worstDns, await dnsAnswers(ADDRS[0]));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // Each command built from one template, its 1,000 names numbered in place: building 600 MB of
    // strings here took this process's time, which the DNS sampler above shares.
    const head = Buffer.from(`*1001\r\n${bulk('SUBSCRIBE')}`);
    const one = Buffer.from(`$1024\r\n00000000${'c'.repeat(1016)}\r\n`);
    const template = Buffer.concat([head, ...Array.from({ length: 1000 }, () => one)]);
    const subscribeCommand = (base: number) => {
      const b = Buffer.from(template);
      for (let i = 0; i < 1000; i++) b.write(String(base + i).padStart(8, '0'), head.length + i * one.length + 7, 'latin1');
      return b;
    };
    let refused = 0;
    let mid = 0;
    // Two rounds of 300: the first may grow the heap to what V8 keeps in hand (Node 26 keeps far
    // more than 20: 97 → 267 → 311 MB against 79 → 115 → 115), the second must not (kept channels
    // grew 368 MB a round before the caps).
    for (let conn = 0; conn < 20; conn++) {
      if (conn === 10) mid = rssMb(c, 'node1');
      const replies = await new Promise<string>((resolve, reject) => {
        const sock = net.connect({ host: ADDRS[0], port: PORT });
        let got = '';
        let sent = 0;
        const t = setTimeout(() => {
          sock.destroy();
          resolve(got);
        }, 20_000);
        sock.on('error', reject);
        sock.on('data', (d) => {
          got += d.toString('latin1');
          // One reply line per refused command, or 1,000 confirmations per accepted one.
          if ((got.match(/\r\n/g)?.length ?? 0) >= 30 && got.endsWith('\r\n') && sent === 30) {
            clearTimeout(t);
            sock.destroy();
            resolve(got);
          }
        });
        sock.on('connect', async () => {
          for (let k = 0; k < 30; k++) {
            const base = (conn * 30 + k) * 1000;
            const ok = sock.write(subscribeCommand(base));
            sent++;
            if (!ok) await new Promise((r) => sock.once('drain', r));
          }
        });
      });
      refused += replies.split('\r\n').filter((l) => l.startsWith('-ERR SUBSCRIBE refused')).length;
    }
    sampling = false;
    await sampler;
    const after = rssMb(c, 'node1');
    console.log(`2 × 300 SUBSCRIBEs of 1,000 1 KB channels: RSS ${before.toFixed(0)} → ${mid.toFixed(0)} → ${after.toFixed(0)} MB, worst DNS answer ${worstDns} ms`);
    // Alone on the test machine: 24–75 ms (2026-12-07, other work on it; 44–125 ms before the turn
    // budget and the early refusal); with six discovery test files in parallel, once 820 ms. The
    // sampler shares this process with the flood's writer. The bound catches a stall (the agent
    // parsing a flood without yielding), not load; bench:discovery-attacks measures the latency.
    expect(worstDns).toBeLessThan(1000);
    expect(refused).toBe(600);
    expect(after - mid, `RSS ${before.toFixed(0)} → ${mid.toFixed(0)} → ${after.toFixed(0)} MB`).toBeLessThan(100);
    expect(after - before, `RSS ${before.toFixed(0)} → ${after.toFixed(0)} MB`).toBeLessThan(300);
    expect((await exchange(ADDRS[0], PORT, [command('PING')], { waitMs: 100 })).text).toBe('+PONG\r\n');
  }, 120_000);

  it('a connection may hold 256 subscriptions; Redis counts channels nobody publishes, and so does this', async () => {
    await start(1);
    const r = await exchange(ADDRS[0], PORT, [command('SUBSCRIBE', 'a', 'b', 'a'), command('PSUBSCRIBE', 'nothing*'), command('UNSUBSCRIBE', 'b', 'z')], { waitMs: 300 });
    expect(r.text).toBe(
      '*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n' +
        '*3\r\n$10\r\npsubscribe\r\n$8\r\nnothing*\r\n:3\r\n' +
        '*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nz\r\n:2\r\n',
    );
    const many = await exchange(ADDRS[0], PORT, [command('SUBSCRIBE', ...Array.from({ length: 256 }, (_, i) => `ch${i}`)), command('SUBSCRIBE', 'one-more')], { waitMs: 300 });
    expect(many.text).toContain('$5\r\nch255\r\n:256\r\n');
    expect(many.text.endsWith('\r\n')).toBe(true);
    expect(many.text.split('\r\n').at(-2)).toMatch(/^-ERR SUBSCRIBE refused: clusterdns discovery allows 256 channels and patterns per connection/);
  }, 30_000);
});

describe('connections: per source, and idle ones', () => {
  it('1,024 idle connections from one address do not lock out another address', async () => {
    await start(1);
    const attacker = '127.0.170.50';
    const socks: net.Socket[] = [];
    let told = 0;
    try {
      // Refused: closed by the agent, with Redis's error while its turn's time lasts, without a
      // word past it (a flood of connections comes by the hundred in one turn).
      const outcomes = await Promise.all(
        Array.from(
          { length: 1024 },
          () =>
            new Promise<'open' | 'refused'>((resolve) => {
              const s = net.connect({ host: ADDRS[0], port: PORT, localAddress: attacker });
              socks.push(s);
              let got = '';
              s.on('data', (d) => (got += d.toString()));
              s.on('error', () => resolve('refused'));
              s.on('close', () => {
                if (got.startsWith('-ERR max number of clients reached (128 from one address)')) told++;
                resolve('refused');
              });
              s.on('connect', () => setTimeout(() => resolve(s.destroyed ? 'refused' : 'open'), 1500));
            }),
        ),
      );
      const open = outcomes.filter((o) => o === 'open').length;
      expect(open).toBe(128);
      expect(told).toBeGreaterThan(0);
      // Another address is served at once, and so is redis-cli's usual question.
      const other = await new Promise<string>((resolve, reject) => {
        const s = net.connect({ host: ADDRS[0], port: PORT, localAddress: '127.0.170.51' });
        let got = '';
        s.on('data', (d) => {
          got += d.toString();
          if (got.endsWith('6379\r\n')) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        s.write(command('SENTINEL', 'get-master-addr-by-name', 'cache'));
        setTimeout(() => {
          s.destroy();
          resolve(got);
        }, 2000);
      });
      expect(other).toBe(addrReply(ADDRS[0]));
    } finally {
      for (const s of socks) s.destroy();
    }
  }, 60_000);

  it('with a password, a connection that neither authenticates nor subscribes is closed after 10 s idle; one that subscribed stays', async () => {
    await start(1, 'password: pw-0123456789');
    const idle = subscriber(ADDRS[0], command('PING'));
    const sub = subscriber(ADDRS[0], command('AUTH', 'pw-0123456789') + command('SUBSCRIBE', '+switch-master'));
    await new Promise((r) => setTimeout(r, 8000));
    expect(idle.ended()).toBe(false);
    await until('the idle connection is closed', async () => idle.ended(), (e) => e, 5000);
    expect(idle.text()).toBe('-NOAUTH Authentication required.\r\n');
    expect(sub.ended()).toBe(false);
    sub.sock.destroy();
  }, 40_000);
});

describe('command names are looked up in a Map', () => {
  it('CONSTRUCTOR, __proto__ and other names an object knows are unknown commands and subcommands; the agent answers on', async () => {
    await start(1);
    for (const name of ['CONSTRUCTOR', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const r = await exchange(ADDRS[0], PORT, [command(name), command('SENTINEL', name), command('CLIENT', name), command('PING')], { waitMs: 200 });
      expect(r.text, name).toBe(
        `-ERR unknown command '${name}', with args beginning with: \r\n-ERR unknown subcommand '${name}'. Try SENTINEL HELP.\r\n-ERR unknown subcommand '${name}'. Try CLIENT HELP.\r\n+PONG\r\n`,
      );
    }
    expect(cluster!.agents.get('node1')!.child.exitCode).toBeNull();
  }, 30_000);
});

afterAll(async () => {
  await cluster?.cleanup();
});
void HTTP_PORT;
