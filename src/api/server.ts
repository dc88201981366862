import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv6, type AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../agent/log';
import { ClusterDnsError } from '../errors';
import { loadPageAssets, sendAsset, type Asset } from './assets';
import { readiness } from './healthz';
import type { MetricsSource } from './metrics';
import { statusDocument, type StatusSource } from './status';
import { httpDate } from './time';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../../package.json').version;

/** Status readers and scrapers need a handful; more is a flood, refused at accept. */
const MAX_HTTP_CONNECTIONS = 64;

export type ApiSource = StatusSource & MetricsSource;

export interface HttpApi {
  /** `http://address:port` of each listener; empty when `http.enabled` is false. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/**
 * The agent's read-only HTTP API: `/v1/status`, `/metrics`, `/healthz` and the status page at `/`.
 * It listens at `http.port` on the node's `apiListen`: `http.listen` when given, else the node's
 * peerAddress (the private network: the cluster's layout and health are not for the internet), else
 * the addresses its DNS listens on. Nothing it serves changes the agent, so anything but GET and
 * HEAD is refused.
 */
export async function startHttpApi(agent: ApiSource, log: Logger): Promise<HttpApi> {
  const { http } = agent.currentConfig;
  if (!http.enabled) return { urls: [], close: async () => undefined };
  const metrics = shared(lazyMetrics(agent), agent);
  const { assets, problem } = loadPageAssets();
  if (problem) log.error({ event: 'status-page-missing' }, problem);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    // Node's own Date header (Date#toUTCString, and getMilliseconds for its cache) makes V8 look up
    // the local time zone: ICU data paged in for good (time.ts).
    res.sendDate = false;
    res.setHeader('Date', httpDate(Date.now()));
    route(metrics, assets, req, res).catch((e: unknown) => {
      log.error({ event: 'http-error', path: req.url, error: String(e) }, `HTTP ${req.url}: ${String(e)}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  };
  const servers: Server[] = [];
  const closeAll = () =>
    Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    ).then(() => undefined);
  try {
    for (const address of agent.node.apiListen) {
      // A slow or idle client must not hold a socket for long on a node whose job is DNS. The
      // request and header timeouts are enforced by a sweep every connectionsCheckingInterval
      // (30 s by default): at 1 s a slowloris client is cut off about 5 s after it connected.
      const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, connectionsCheckingInterval: 1_000 }, handler);
      server.keepAliveTimeout = 5_000;
      server.maxHeadersCount = 50;
      server.maxConnections = MAX_HTTP_CONNECTIONS;
      // Idle sockets with a request half sent (no timeout covers them otherwise).
      server.timeout = 10_000;
      servers.push(server);
      await listen(server, address, http.port);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  const urls = servers.map((server) => {
    const { address, port } = server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  });
  log.info({ event: 'http-listening', urls }, `status page ${urls[0]}/, API ${urls[0]}/v1/status, metrics ${urls[0]}/metrics${urls.length > 1 ? ` (also on ${urls.slice(1).join(', ')})` : ''}`);
  return { urls, close: closeAll };
}

/**
 * The metrics registry, made at the first scrape: prom-client and the registry's collectors cost
 * about 2 MB of RSS that an agent nobody scrapes need not hold (README, "Threads"). Counters are read
 * from the agent at scrape time, so nothing is missed by starting late, except what prom-client's
 * default metrics sample themselves (GC durations, event-loop delay): from the first scrape on.
 */
function lazyMetrics(agent: ApiSource): () => Promise<Registry> {
  let registry: Promise<Registry> | undefined;
  // A dynamic import: tsc makes it a require() on first call in the built code, and tests that run
  // src/ directly load the TypeScript module.
  return () => (registry ??= import('./metrics').then((m) => m.createMetrics(agent, { node: agent.node.name, version: VERSION })));
}

/**
 * What the routes read, shared by the requests that come together: one refresh from the detector
 * and answer threads, and one `/metrics` rendering (1–2 ms of the main thread, where DNS is answered
 * with one answer thread), for every request that arrives while it is under way. 48 scrapers back
 * to back made one each and held DNS answers 100–300 ms; shared, a turn renders once. The rendering
 * reads no file asynchronously, so it starts and ends within the turn of the requests that share
 * it; a shared refresh may have been asked one round trip to the threads before a request came.
 */
function shared(registry: () => Promise<Registry>, agent: ApiSource) {
  let refreshing: Promise<void> | undefined;
  let rendering: Promise<{ contentType: string; body: string }> | undefined;
  return {
    agent,
    // Row ages and counters as of now, not of the detector thread's last change.
    refresh: (): Promise<void> => (refreshing ??= Promise.resolve(agent.refresh?.()).finally(() => (refreshing = undefined))),
    render: (): Promise<{ contentType: string; body: string }> =>
      (rendering ??= registry()
        .then(async (r) => ({ contentType: r.contentType, body: await r.metrics() }))
        .finally(() => (rendering = undefined))),
  };
}

async function route(api: ReturnType<typeof shared>, assets: ReadonlyMap<string, Asset>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', `${req.method} is not allowed: this API is read-only (GET, HEAD)\n`);
  }
  const { agent } = api;
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/v1/status' || path === '/metrics' || path === '/healthz') await api.refresh();
  switch (path) {
    case '/v1/status':
      return send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(statusDocument(agent, Date.now(), VERSION), null, 2)}\n`);
    case '/metrics': {
      const m = await api.render();
      return send(res, 200, m.contentType, m.body);
    }
    case '/healthz': {
      const r = readiness(statusDocument(agent, Date.now(), VERSION));
      return send(res, r.ok ? 200 : 503, 'text/plain; charset=utf-8', r.ok ? 'ok\n' : `${r.reason}\n`);
    }
    default: {
      const asset = assets.get(path);
      if (asset) return sendAsset(req, res, asset);
      return send(res, 404, 'text/plain; charset=utf-8', `no such page: ${path} (try /, /v1/status, /metrics, /healthz)\n`);
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(body);
}

function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(
        new ClusterDnsError(
          'LISTEN_FAILED',
          e.code === 'EADDRINUSE'
            ? `the HTTP API cannot listen on ${address}:${port}: the port is in use — stop what holds it, set http.port to a free port, or set http.enabled: false`
            : `the HTTP API cannot listen on ${address}:${port}: ${e.code ?? e.message} — check that this machine has the node's address, or set http.port / http.enabled`,
        ),
      );
    };
    const onListening = () => {
      server.off('error', onError);
      // After listening, 'error' is a failed accept (out of descriptors): without a listener it
      // would end the process; the server accepts again once descriptors free up.
      server.on('error', () => undefined);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // As the DNS listeners do: `::` must not also take the IPv4 port that `0.0.0.0` binds.
    server.listen({ port, host: address, ipv6Only: isIPv6(address) });
  });
}
