import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probeTcp } from '../../src/health/tcp';
import { check, freePort, listen, waitFor } from './helpers';

const HOST = '127.0.6.1';

describe('tcp probe', () => {
  let server: Server;
  let port: number;
  const accepted: Socket[] = [];

  beforeAll(async () => {
    server = createServer((s) => accepted.push(s));
    port = await listen(server, HOST);
  });
  afterAll(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('is healthy when the port accepts, and closes its socket', async () => {
    const r = await probeTcp(check({ type: 'tcp', port }), HOST);
    expect(r).toMatchObject({ ok: true, reason: `connected to ${HOST}:${port}` });
    expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(await waitFor(() => accepted.length === 1, 1000)).toBe(true);
    const theirs = accepted[0];
    const closed = theirs.destroyed || (await new Promise<boolean>((res) => {
      theirs.once('close', () => res(true));
      setTimeout(() => res(false), 1000);
    }));
    expect(closed).toBe(true);
  });

  it('is unhealthy with the refusal as reason when nothing listens', async () => {
    const closedPort = await freePort(HOST);
    const r = await probeTcp(check({ type: 'tcp', port: closedPort }), HOST);
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('ECONNREFUSED');
  });

  it('is unhealthy without a port instead of guessing one', async () => {
    expect(await probeTcp(check({ type: 'tcp' }), HOST)).toMatchObject({ ok: false, reason: 'tcp check has no port' });
  });

  it('reports "stopped" at once when its signal aborts', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await probeTcp(check({ type: 'tcp', port }), HOST, ac.signal)).toMatchObject({ ok: false, reason: 'stopped before starting' });
  });
});

describe('tcp probe against a listener whose accept queue is full', () => {
  // A child that listens with backlog 1 and then blocks forever, so it never accepts: once the
  // queue is full the kernel drops new SYNs and connect() hangs, as against an overloaded server.
  const script = `const s=require('net').createServer();s.listen({port:0,host:'${HOST}',backlog:1},()=>{require('fs').writeSync(1,s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})`;
  let child: ChildProcess | undefined;
  const fillers: Socket[] = [];

  afterEach(() => {
    for (const s of fillers.splice(0)) s.destroy();
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('times out within the bound with the stage as reason', async () => {
    child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((res, rej) => {
      child!.stdout!.once('data', (d: Buffer) => res(Number(d.toString())));
      child!.once('exit', () => rej(new Error('listener child exited')));
    });
    let full = false;
    for (let i = 0; i < 10 && !full; i++) {
      const s = connect({ host: HOST, port });
      s.on('error', () => {});
      fillers.push(s);
      full = await new Promise<boolean>((res) => {
        s.once('connect', () => res(false));
        setTimeout(() => res(true), 100);
      });
    }
    expect(full).toBe(true);

    const t0 = Date.now();
    const r = await probeTcp(check({ type: 'tcp', port, timeoutMs: 150 }), HOST);
    const elapsed = Date.now() - t0;
    expect(r).toMatchObject({ ok: false, reason: `timeout after 150 ms connecting to ${HOST}:${port}` });
    expect(r.ms).toBeGreaterThanOrEqual(149);
    expect(elapsed).toBeLessThan(150 + 150);
  });
});
