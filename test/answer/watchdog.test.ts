import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../src/api/status-types';
import { reusePortWorks } from '../../src/server/dns-server';
import { CLI, clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery } from '../helpers/dns';
import { until } from '../helpers/poll';
import type { Started } from '../helpers/proc';

/**
 * The answer-thread watchdog (src/answer/pool.ts): an answer thread that crashes, or whose event
 * loop is stuck, is replaced while the other thread serves, and the node is never failed over.
 * Nothing in the agent is there for the test: node1 runs under `--inspect` and the test reaches its
 * worker threads through the inspector protocol (NodeWorker domain), where it ends one thread
 * (`process.exit` inside it) and wedges another (an endless loop), under a steady query load.
 * Needs several answer threads, so SO_REUSEPORT (Node ≥ 22.12); on Node 20 there is one thread on
 * the main thread and nothing to replace: the test checks that instead. The same inspector holds
 * node1's main thread in a loop for 6 s: answers go on from the answer threads, heartbeats from the
 * detector's, and after four downAfters node1 reports its checks stale (src/detector/health.ts).
 * (That case needs the answer threads and the global WebSocket too: it runs on Node 22.12 and later.)
 * Loopback block 127.0.193.0/24.
 */

const PORT = 6490;
const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.193.${i}` }));
const MULTI = reusePortWorks();
let cluster: TestCluster;
let node1: Started;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(i: number): Promise<StatusDocument> {
  return (await fetch(`http://${nodes[i].address}:${PORT + 2}/v1/status`)).json() as Promise<StatusDocument>;
}

/** Queries from fresh source ports (so both threads get some), `perTick` every 20 ms until stopped; counts answers. */
function load(perTick: number) {
  const sock = createSocket('udp4');
  const counts = { sent: 0, answered: 0 };
  const sockets = Array.from({ length: 64 }, () => createSocket('udp4'));
  for (const s of sockets) s.on('message', () => counts.answered++);
  let i = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      sockets[i++ % sockets.length].send(encodeQuery('node1.cluster.test', 'A', { id: i & 0xffff }), PORT, nodes[0].address);
      counts.sent++;
    }
  }, 20);
  return {
    counts,
    /** No more queries; answers to those sent still count. */
    pause: () => clearInterval(timer),
    stop: () => {
      clearInterval(timer);
      for (const s of [sock, ...sockets]) s.close();
    },
  };
}

/** A DevTools-protocol session on node1's inspector, reaching its worker threads. */
async function inspector(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const workers: { sessionId: string; url: string }[] = [];
  let id = 0;
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as { method?: string; params?: { sessionId: string; workerInfo: { url: string } } };
    if (m.method === 'NodeWorker.attachedToWorker') workers.push({ sessionId: m.params!.sessionId, url: m.params!.workerInfo.url });
  };
  const send = (method: string, params: object) => ws.send(JSON.stringify({ id: ++id, method, params }));
  send('NodeWorker.enable', { waitForDebuggerOnStart: false });
  return {
    workers,
    /** Runs `expression` on the main thread (fire and forget). */
    evaluateMain: (expression: string) => send('Runtime.evaluate', { expression }),
    /** Runs `expression` in the worker (fire and forget: an endless loop never answers). */
    evaluate: (sessionId: string, expression: string) =>
      send('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id: ++id, method: 'Runtime.evaluate', params: { expression } }) }),
    close: () => ws.close(),
  };
}

beforeAll(async () => {
  cluster = new TestCluster(clusterYaml({ dnsPort: PORT, nodes }).replace('tcpIdleTimeout: 2s }', 'tcpIdleTimeout: 2s, workers: 2, rateLimit: { responsesPerSecond: 0 } }'));
  node1 = cluster.procs.start(process.execPath, [`--inspect=${nodes[0].address}:0`, CLI, 'agent', '--config', cluster.configPath, '--node', 'node1'], {
    env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' },
  });
  cluster.agents.set('node1', node1);
  await node1.waitForOutput(/"event":"listening"/);
  await Promise.all(['node2', 'node3'].map((n) => cluster.startAgent(n)));
  await until('every node up on node1', async () => (await status(0)).nodes.every((n) => n.up) && (await status(0)).serving);
}, 60_000);

async function statusOf(i: number, ms = 2000): Promise<StatusDocument | undefined> {
  const c = new AbortController();
  const t = setTimeout(() => c.abort(), ms);
  try {
    return (await (await fetch(`http://${nodes[i].address}:${PORT + 2}/v1/status`, { signal: c.signal })).json()) as StatusDocument;
  } catch {
    return undefined;
  } finally {
    clearTimeout(t);
  }
}

afterAll(async () => {
  await cluster?.cleanup();
});

describe('the answer-thread watchdog', () => {
  const title = MULTI
    ? 'a crashed thread and a wedged one are replaced under load while the other serves; no failover'
    : `Node ${process.versions.node}: one answer thread, on the main thread (nothing to replace)`;
  it(title, async () => {
    if (!MULTI) {
      expect((await status(0)).dns.threads).toEqual([expect.objectContaining({ index: 0, where: 'main', state: 'serving' })]);
      return;
    }
    const url = /ws:\/\/[^\s]+/.exec(node1.stderr)![0];
    const cdp = await inspector(url);
    await until('the inspector sees both answer threads', async () => cdp.workers.filter((w) => w.url.includes('answer/worker')).length === 2, 5000);
    const [a, b] = cdp.workers.filter((w) => w.url.includes('answer/worker'));
    const flood = load(20); // 1,000 queries a second
    try {
      await sleep(500);
      const t0 = performance.now();
      cdp.evaluate(a.sessionId, 'process.exit(7)');
      await until('the crashed thread replaced', async () => (await status(0)).dns.threads.reduce((n, t) => n + t.restarts, 0) === 1 && (await status(0)).dns.threads.every((t) => t.state === 'serving'), 5000);
      const crashReplacedMs = performance.now() - t0;

      const t1 = performance.now();
      cdp.evaluate(b.sessionId, 'for (;;) {}');
      await until('the wedged thread replaced', async () => (await status(0)).dns.threads.reduce((n, t) => n + t.restarts, 0) === 2 && (await status(0)).dns.threads.every((t) => t.state === 'serving'), 8000);
      const wedgeReplacedMs = performance.now() - t1;

      // Serving in full again: every query from every port answered.
      const before = { ...flood.counts };
      await sleep(1500);
      flood.pause();
      const sent = flood.counts.sent - before.sent;
      // The answers still on their way count (a loaded machine delays them tens of ms: 1,322 of
      // 1,360 counted at once failed the bound once beside other test files).
      await sleep(300);
      const answered = flood.counts.answered - before.answered;
      console.log(`crash replaced in ${crashReplacedMs.toFixed(0)} ms, wedge in ${wedgeReplacedMs.toFixed(0)} ms; afterwards ${answered} of ${sent} answered`);
      expect(answered).toBeGreaterThanOrEqual(sent * 0.98);
      expect(wedgeReplacedMs).toBeLessThan(5000);
    } finally {
      flood.stop();
      cdp.close();
    }
    const log = node1.stdout;
    expect(log).toMatch(/"event":"answer-thread"[^\n]*ended \(exit code 7\)/);
    expect(log).toMatch(/"event":"answer-thread"[^\n]*wedged/);
    // No failover anywhere: the detector thread kept beating through it all.
    for (const n of ['node1', 'node2', 'node3']) expect(cluster.agents.get(n)!.stdout, `${n}'s log`).not.toMatch(/"event":"verdict"[^\n]*"up":false/);
    const threads = (await status(0)).dns.threads;
    expect(new Set(threads.map((t) => t.tableVersion)).size).toBe(1);
  }, 60_000);
  it.runIf(MULTI)('a main thread stuck for 6 s: the answer threads keep answering, the detector keeps beating, and after 4 s node1 reports its checks stale (unhealthy)', async () => {
    const url = /ws:\/\/[^\s]+/.exec(node1.stderr)![0];
    const cdp = await inspector(url);
    const flood = load(5);
    try {
      await sleep(300);
      const before = { ...flood.counts };
      const t0 = performance.now();
      cdp.evaluateMain('{ const end = Date.now() + 6000; while (Date.now() < end); }');
      // node2 sees node1 unhealthy once its check results are older than 4 downAfters (4 s).
      let staleAfterMs = -1;
      while (performance.now() - t0 < 5800) {
        const s = await statusOf(1, 500);
        if (s?.nodes.find((n) => n.name === 'node1')?.healthy === false) {
          staleAfterMs = performance.now() - t0;
          break;
        }
        await sleep(100);
      }
      const sent = flood.counts.sent - before.sent;
      const answered = flood.counts.answered - before.answered;
      console.log(`main thread stuck: node2 saw node1 unhealthy after ${staleAfterMs.toFixed(0)} ms; node1 answered ${answered} of ${sent} queries meanwhile`);
      expect(staleAfterMs).toBeGreaterThan(3000);
      expect(staleAfterMs).toBeLessThan(5800);
      expect(answered).toBeGreaterThanOrEqual(sent * 0.98);
      // Control back: fresh results, node1 healthy again in node2's view.
      await until('node1 healthy again', async () => (await statusOf(1))?.nodes.find((n) => n.name === 'node1')?.healthy === true, 10_000);
      expect(node1.stdout).toMatch(/"event":"health-stale","stale":true/);
    } finally {
      flood.stop();
      cdp.close();
    }
  }, 60_000);
  // Found by the fault lab on 2 answer threads (pause-5s): after SIGCONT the watchdog counted the
  // stopped seconds against both threads and replaced them, and a thread restarted while the new
  // verdict's table was posted kept answering from the table it started on (the paused node's own
  // address, for 6 s, while the majority answered the failover target).
  it.runIf(MULTI)('SIGSTOP of the whole agent for 3 s, then SIGCONT: no answer thread is replaced, all answer from the newest table', async () => {
    const restarts = async () => (await status(0)).dns.threads.reduce((n, t) => n + t.restarts, 0);
    await until('node1 settled', async () => (await status(0)).dns.threads.every((t) => t.state === 'serving'));
    const before = await restarts();
    node1.kill('SIGSTOP');
    await sleep(3000);
    node1.kill('SIGCONT');
    await sleep(2500);
    const threads = (await status(0)).dns.threads;
    expect(await restarts()).toBe(before);
    expect(threads.every((t) => t.state === 'serving')).toBe(true);
    expect(new Set(threads.map((t) => t.tableVersion)).size).toBe(1);
  }, 30_000);
});
