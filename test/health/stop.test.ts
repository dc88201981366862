import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthChange } from '../../src/health/monitor';
import { cluster } from './cluster';
import { alive, check, listen, waitFor } from './helpers';

const SELF = '127.0.6.4';
const HANG = '127.0.6.8';

describe('HealthMonitor on the real clock', () => {
  let dir: string;
  let http: HttpServer;
  let silent: Server;
  const sockets: Socket[] = [];
  let open = 0;
  let child: ChildProcess | undefined;
  let monitor: HealthMonitor | undefined;
  let sleeper = 0;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clusterdns-stop-'));
    http = createHttpServer(() => {}); // takes requests, never answers
    http.on('connection', (s) => {
      open++;
      s.on('close', () => open--);
    });
    silent = createServer((s) => {
      sockets.push(s);
      s.resume(); // read (and drop) the request, so the client's close is seen
      open++;
      s.on('close', () => open--);
    }); // a "redis" that never answers PING
  });
  afterEach(async () => {
    monitor?.stop();
    monitor = undefined;
    child?.kill('SIGKILL');
    child = undefined;
    if (sleeper && alive(sleeper)) process.kill(sleeper, 'SIGKILL');
    sleeper = 0;
    for (const s of sockets.splice(0)) s.destroy();
    http.closeAllConnections();
    for (const s of [http, silent]) if (s.listening) await new Promise((r) => s.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports flips at its interval', async () => {
    const flag = join(dir, 'up');
    monitor = new HealthMonitor({
      config: cluster({ services: [{ name: 'web', check: check({ type: 'exec', command: ['test', '-e', flag], intervalMs: 40, timeoutMs: 30, rise: 2, fall: 2 }) }] }),
      self: 'node1',
    });
    const changes: HealthChange[] = [];
    monitor.on('change', (c) => changes.push(c));
    monitor.start();
    expect(await waitFor(() => changes.length === 1, 2000)).toBe(true);
    writeFileSync(flag, '');
    expect(await waitFor(() => changes.length === 2, 2000)).toBe(true);
    rmSync(flag);
    expect(await waitFor(() => changes.length === 3, 2000)).toBe(true);
    expect(changes.map((c) => c.healthy)).toEqual([false, true, false]);
    expect(monitor.current().services.web).toBe(false);
  });

  it('stop() with every kind of probe in flight leaves nothing behind: the process exits by itself', async () => {
    const httpPort = await listen(http, HANG);
    const redisPort = await listen(silent, HANG);
    const pidFile = join(dir, 'pid');
    const slow = { intervalMs: 10_000, timeoutMs: 10_000, rise: 1, fall: 1 };
    const config = cluster({
      checks: [
        check({ type: 'exec', command: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], ...slow }),
        check({ type: 'http', host: HANG, port: httpPort, path: '/hang', ...slow }),
        check({ type: 'redis', host: HANG, port: redisPort, ...slow }),
        check({ type: 'exec', command: ['true'], intervalMs: 50, timeoutMs: 50, rise: 1, fall: 1 }),
      ],
    });
    child = spawn(process.execPath, [join(__dirname, 'stop-child.cjs'), JSON.stringify(config), '400'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    expect(await waitFor(() => open === 2, 3000)).toBe(true); // http and redis probes hold connections
    const readPid = () => {
      try {
        return Number(readFileSync(pidFile, 'utf8')) || 0;
      } catch {
        return 0;
      }
    };
    expect(await waitFor(() => readPid() > 0, 3000)).toBe(true);
    sleeper = readPid();
    expect(alive(sleeper)).toBe(true);

    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toContain('stopped');
    expect(out.match(/^result .*"reason":"exit 0"/gm)?.length ?? 0).toBeGreaterThanOrEqual(3); // the fast check kept running until stop
    expect(out.slice(out.indexOf('stopped'))).not.toContain('result'); // nothing reported after stop
    expect(await waitFor(() => !alive(sleeper), 1000)).toBe(true);
    expect(await waitFor(() => open === 0, 1000)).toBe(true);
  });
});
