import { afterEach, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster, type NodeSpec } from '../helpers/cluster';
import { run } from '../helpers/proc';
import { libfaketime } from '../helpers/faketime';
import { requireTool } from '../helpers/tools';

/**
 * A node restarted with its clock an hour behind its previous boot (an NTP step back, a drifted RTC)
 * rejoins: real agents on 127.0.30.x, node2 restarted under libfaketime, asked with dig.
 * Block: 127.0.30.0/24.
 */

const PORT = 5330;
const UP_AFTER = 1000;
const INTERVAL = 250;
const nodes: NodeSpec[] = [1, 2, 3].map((i) => ({ name: `node${i}`, address: `127.0.30.${i}` }));
const addresses = nodes.map((n) => n.address);
/**
 * Without this, libfaketime 0.9.10 fakes CLOCK_MONOTONIC too: under `-f -1h` it reads as the faked
 * wall clock (about 1.8e18 ns) instead of the time since boot. Node's timers still tick, but this
 * test is about the wall clock only, so the monotonic clock stays real (checked below).
 */
const FAKETIME_ENV = { FAKETIME_DONT_FAKE_MONOTONIC: '1' };
/**
 * libfaketime preloaded with the offset in FAKETIME, not the `faketime` wrapper: the wrapper keeps a
 * semaphore and a shared-memory file named by its PID in /dev/shm, a killed wrapper leaves them
 * behind, and a later wrapper given the same PID exits with "sem_open: File exists".
 */
const behindAnHour = (): NodeJS.ProcessEnv => ({ ...FAKETIME_ENV, LD_PRELOAD: libfaketime(), FAKETIME: '-1h' });
const HOUR = 3_600_000;

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

async function dig(dig: string, server: string, name: string): Promise<string> {
  const r = await run(dig, [`@${server}`, '-p', String(PORT), name, 'A', '+short', '+time=1', '+tries=1'], { timeoutMs: 3000 });
  return r.stdout.trim();
}

describe('a node whose clock went back across a restart', () => {
  it('Node under faketime -1h: Date.now() an hour behind, the monotonic clock real', async () => {
    const script = 'process.stdout.write(JSON.stringify([Date.now(), String(process.hrtime.bigint())]))';
    const before = { wall: Date.now(), mono: process.hrtime.bigint() };
    const r = await run(process.execPath, ['-e', script], { env: { ...process.env, ...behindAnHour() } });
    const [wall, mono] = JSON.parse(r.stdout) as [number, string];
    expect(Math.abs(before.wall - HOUR - wall)).toBeLessThan(60_000);
    expect(Number(BigInt(mono) - before.mono) / 1e6).toBeGreaterThanOrEqual(0);
    expect(Number(BigInt(mono) - before.mono) / 1e6).toBeLessThan(10_000);
  });

  it(`rejoins within upAfter plus a few intervals: every agent answers its name with its own address again`, async () => {
    const digPath = requireTool('dig');
    const yaml = clusterYaml({ dnsPort: PORT, nodes }).replace(/peer: \{ port: (\d+) \}/, `peer: { port: $1, interval: ${INTERVAL}ms, upAfter: ${UP_AFTER}ms }`);
    const c = new TestCluster(yaml);
    cluster = c;
    await Promise.all(nodes.map((n) => c.startAgent(n.name)));
    const answers = () => Promise.all(addresses.map((a) => dig(digPath, a, 'node2.cluster.test')));
    const until = async (what: string, ok: (a: string[]) => boolean, ms: number): Promise<number> => {
      const start = Date.now();
      let last: string[] = [];
      while (Date.now() - start < ms) {
        last = await answers();
        if (ok(last)) return Date.now() - start;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${what}: not after ${ms} ms; node2.cluster.test from ${addresses.join(', ')}: ${JSON.stringify(last)}`);
    };
    await until('formed', (a) => a.every((x) => x === '127.0.30.2'), 10_000);

    c.agents.get('node2')!.kill('SIGKILL');
    await until('node2 failed over', (a) => [a[0], a[2]].every((x) => x !== '' && x !== '127.0.30.2'), 5000);

    const node2 = await c.startAgent('node2', [], behindAnHour());
    // The restarted agent does run an hour behind: its log lines carry its wall-clock time.
    const logged = JSON.parse(node2.stdout.split('\n').find((l) => l.includes('"event":"listening"'))!) as { time: number };
    expect(Date.now() - logged.time).toBeGreaterThan(HOUR - 60_000);

    const rejoined = await until('node2 answers for itself again on every agent', (a) => a.every((x) => x === '127.0.30.2'), UP_AFTER + 8000);
    // upAfter plus a few intervals, with room for dig and a busy 2-core machine.
    expect(rejoined).toBeLessThan(UP_AFTER + 6 * INTERVAL + 1000);
  });
});
