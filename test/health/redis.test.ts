import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probeRedis } from '../../src/health/redis';
import { check, freePort, listen, requireTool, waitFor } from './helpers';

const HOST = '127.0.6.2';

describe('redis probe against a real redis-server', () => {
  const started: ChildProcess[] = [];

  async function startRedis(extra: string[] = []): Promise<{ proc: ChildProcess; port: number }> {
    const bin = requireTool('redis-server');
    const port = await freePort(HOST);
    const proc = spawn(bin, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra], {
      stdio: 'ignore',
    });
    started.push(proc);
    // Ready once PING answers anything at all (with requirepass it answers -NOAUTH).
    const ready = await waitFor(async () => (await probeRedis(check({ type: 'redis', port, timeoutMs: 200 }), HOST)).reason !== `connect ECONNREFUSED ${HOST}:${port}`, 5000);
    if (!ready) throw new Error(`redis-server did not start on ${HOST}:${port}`);
    return { proc, port };
  }

  afterEach(async () => {
    for (const p of started.splice(0)) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGKILL');
        await once(p, 'exit');
      }
    }
  });

  it('is healthy on +PONG, and unhealthy with the refusal once redis is stopped', async () => {
    const { proc, port } = await startRedis();
    const up = await probeRedis(check({ type: 'redis', port }), HOST);
    expect(up).toMatchObject({ ok: true, reason: 'PONG' });

    proc.kill('SIGKILL');
    await once(proc, 'exit');
    const down = await probeRedis(check({ type: 'redis', port }), HOST);
    expect(down.ok).toBe(false);
    expect(down.reason).toBe(`connect ECONNREFUSED ${HOST}:${port}`);
  });

  it('authenticates when the server requires a password, and says why when it is wrong or missing', async () => {
    const { port } = await startRedis(['--requirepass', 's3cret']);
    expect(await probeRedis(check({ type: 'redis', port, password: 's3cret' }), HOST)).toMatchObject({ ok: true, reason: 'PONG' });

    const wrong = await probeRedis(check({ type: 'redis', port, password: 'nope' }), HOST);
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(new RegExp(`^AUTH refused by ${HOST}:${port}: -(WRONGPASS|ERR)`));
    expect(wrong.reason).not.toContain('nope');

    const missing = await probeRedis(check({ type: 'redis', port }), HOST);
    expect(missing.ok).toBe(false);
    expect(missing.reason).toMatch(/answered -NOAUTH/);
  });

  it('leaves no connection open on the server after probing', async () => {
    const { port } = await startRedis();
    for (let i = 0; i < 5; i++) expect((await probeRedis(check({ type: 'redis', port }), HOST)).ok).toBe(true);
    // CLIENT LIST from a probe-like raw connection: only that connection itself may remain.
    const clientCount = async () => (await rawCommand(port, '*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n')).split('\n').filter((l) => l.includes('addr=')).length;
    expect(await waitFor(async () => (await clientCount()) === 1, 1000)).toBe(true);
  });
});

async function rawCommand(port: number, bytes: string): Promise<string> {
  const { connect } = await import('node:net');
  const s = connect({ host: HOST, port });
  try {
    await once(s, 'connect');
    s.write(bytes);
    const [chunk] = (await once(s, 'data')) as [Buffer];
    return chunk.toString();
  } finally {
    s.destroy();
  }
}

describe('redis probe against servers that answer something other than PONG', () => {
  let server: Server;
  let port: number;
  let reply: (s: Socket) => void = () => {};
  const sockets: Socket[] = [];

  beforeAll(async () => {
    server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
      s.once('data', () => reply(s));
    });
    port = await listen(server, HOST);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const cases: Array<{ name: string; send: string[]; ok: boolean; reason: RegExp }> = [
    { name: 'PONG split across packets', send: ['+PO', 'NG\r\n'], ok: true, reason: /^PONG$/ },
    { name: 'still loading its dataset', send: ['-LOADING Redis is loading the dataset in memory\r\n'], ok: false, reason: /answered -LOADING Redis is loading/ },
    { name: 'a replica whose master is down', send: ['-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no\r\n'], ok: false, reason: /answered -MASTERDOWN Link/ },
    { name: 'a wrong simple reply', send: ['+OK\r\n'], ok: false, reason: /answered \+OK$/ },
    { name: 'a bulk reply', send: ['$4\r\nPONG\r\n'], ok: false, reason: /answered \$4$/ },
    { name: 'a server that hangs up', send: [], ok: false, reason: /^connection closed while waiting for PING reply/ },
    { name: 'an endless line', send: ['+' + 'x'.repeat(5000)], ok: false, reason: /no line end within 4 KiB/ },
  ];

  it.each(cases)('$name → ok=$ok', async ({ send, ok, reason }) => {
    reply = (s) => {
      if (send.length === 0) return s.end();
      s.write(send[0]);
      if (send[1]) setTimeout(() => s.write(send[1]), 20);
    };
    const r = await probeRedis(check({ type: 'redis', port }), HOST);
    expect(r.ok).toBe(ok);
    expect(r.reason).toMatch(reason);
  });

  it('times out within the bound when the server accepts and never answers', async () => {
    reply = () => {};
    const t0 = Date.now();
    const r = await probeRedis(check({ type: 'redis', port, timeoutMs: 150 }), HOST);
    expect(r).toMatchObject({ ok: false, reason: `timeout after 150 ms waiting for PING reply from ${HOST}:${port}` });
    expect(Date.now() - t0).toBeLessThan(300);
    const last = sockets.at(-1)!;
    expect(await waitFor(() => last.destroyed || last.readyState === 'closed' || last.readableEnded, 1000)).toBe(true);
  });
});
