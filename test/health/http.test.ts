import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHttp, statusOk } from '../../src/health/http';
import { check, freePort, listen, waitFor } from './helpers';

const HOST = '127.0.6.3';

describe('http probe', () => {
  let server: Server;
  let port: number;
  const seen: IncomingMessage[] = [];
  let open = 0;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(req);
      const status = Number(/^\/status\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
      if (req.url === '/hang') return; // accepts, reads the request, never answers
      if (status) {
        res.writeHead(status, { 'content-type': 'text/plain' });
        return res.end('x'.repeat(100_000)); // a body the probe must not wait for
      }
      res.writeHead(404).end();
    });
    server.on('connection', (s) => {
      open++;
      s.on('close', () => open--);
    });
    port = await listen(server, HOST);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const cases: Array<{ path: string; expectStatus?: number[]; ok: boolean; reason: string }> = [
    { path: '/status/200', ok: true, reason: 'HTTP 200' },
    { path: '/status/302', ok: true, reason: 'HTTP 302' },
    { path: '/status/500', ok: false, reason: `HTTP 500 from http://${HOST}:PORT/status/500, expected 200–399` },
    { path: '/status/404', ok: false, reason: `HTTP 404 from http://${HOST}:PORT/status/404, expected 200–399` },
    { path: '/status/418', expectStatus: [418], ok: true, reason: 'HTTP 418' },
    { path: '/status/200', expectStatus: [204, 418], ok: false, reason: `HTTP 200 from http://${HOST}:PORT/status/200, expected 204 or 418` },
  ];

  it.each(cases)('GET $path expecting $expectStatus → ok=$ok', async ({ path, expectStatus, ok, reason }) => {
    const r = await probeHttp(check({ type: 'http', port, path, expectStatus }), HOST);
    expect(r).toMatchObject({ ok, reason: reason.replace('PORT', String(port)) });
  });

  it('sends a plain GET for the configured path', async () => {
    seen.length = 0;
    await probeHttp(check({ type: 'http', port, path: '/status/204?probe=1' }), HOST);
    expect(seen).toHaveLength(1);
    expect(seen[0].method).toBe('GET');
    expect(seen[0].url).toBe('/status/204?probe=1');
    expect(seen[0].headers['user-agent']).toBe('clusterdns-health');
  });

  it('times out within the bound when the server never answers, and closes the connection', async () => {
    const t0 = Date.now();
    const r = await probeHttp(check({ type: 'http', port, path: '/hang', timeoutMs: 150 }), HOST);
    expect(r).toMatchObject({ ok: false, reason: `timeout after 150 ms waiting for http://${HOST}:${port}/hang` });
    expect(Date.now() - t0).toBeLessThan(300);
    expect(await waitFor(() => open === 0, 1000)).toBe(true);
  });

  it('is unhealthy with the refusal as reason when nothing listens', async () => {
    const closed = await freePort(HOST);
    const r = await probeHttp(check({ type: 'http', port: closed }), HOST);
    expect(r.ok).toBe(false);
    expect(r.reason).toBe(`http://${HOST}:${closed}/: connect ECONNREFUSED ${HOST}:${closed}`);
  });

  it('never leaves connections open after answers', async () => {
    for (let i = 0; i < 5; i++) await probeHttp(check({ type: 'http', port, path: '/status/200' }), HOST);
    expect(await waitFor(() => open === 0, 1000)).toBe(true);
  });
});

describe('statusOk', () => {
  it.each([
    [199, undefined, false],
    [200, undefined, true],
    [399, undefined, true],
    [400, undefined, false],
    [503, [503], true],
    [200, [503], false],
  ] as const)('%i with %j → %s', (status, expect_, ok) => {
    expect(statusOk(status, expect_)).toBe(ok);
  });
});
