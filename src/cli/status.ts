import { request } from 'node:http';
import type { Command } from 'commander';
import { clusterHealth, EXIT_UNAVAILABLE, renderStatus } from '../api/status-text';
import type { StatusDocument } from '../api/status-types';
import { loadConfig } from '../config/load';
import type { ClusterConfig, NodeConfig } from '../config/types';
import { ClusterDnsError } from '../errors';
import { hostPort } from '../net/host-port';

interface StatusOptions {
  config?: string;
  node?: string;
  url?: string;
  json?: boolean;
  timeout: string;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("the cluster as one agent sees it, from its HTTP API; exit 0 all up, 1 degraded, 2 unreachable or not serving")
    .option('-c, --config <file>', 'cluster YAML file: ask its nodes (the first that answers and serves)')
    .option('-n, --node <name>', 'ask this node only (with --config)')
    .option('-u, --url <url>', 'ask this agent, e.g. http://203.0.113.11:8053 (no --config needed)')
    .option('--json', 'print the /v1/status document as it came')
    .option('--timeout <ms>', 'per-request time limit in milliseconds', '2000')
    .action(async (opts: StatusOptions) => {
      const timeoutMs = Number(opts.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new ClusterDnsError('USAGE', `--timeout must be a positive number of milliseconds, not "${opts.timeout}"`);
      const { doc, source } = await fetchStatus(opts, timeoutMs);
      const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : renderStatus(doc, { color, source }));
      process.exitCode = clusterHealth(doc).exitCode;
    });
}

async function fetchStatus(opts: StatusOptions, timeoutMs: number): Promise<{ doc: StatusDocument; source: string }> {
  if (opts.url) {
    if (opts.config || opts.node) throw new ClusterDnsError('USAGE', '--url asks one agent directly: leave out --config and --node');
    const url = statusUrl(opts.url);
    const r = await getStatus(url, timeoutMs);
    if (!r.ok) throw unreachable([`${url}: ${r.error}`]);
    return { doc: r.doc, source: url };
  }
  if (!opts.config) throw new ClusterDnsError('USAGE', 'say which cluster: --config <file> (its nodes are asked) or --url <agent URL>');
  const config = loadConfig(opts.config);
  if (!config.http.enabled) throw new ClusterDnsError('USAGE', 'the HTTP API is disabled in this config (http.enabled: false): enable it on the agents, or pass --url');
  const nodes = candidates(config, opts.node);
  // All at once: a dead node's request must not delay asking the live ones.
  const urls = nodes.map((n) => `http://${hostPort(apiAddress(n), config.http.port)}/v1/status`);
  const results = await Promise.all(urls.map((u) => getStatus(u, timeoutMs)));
  const answered = results.flatMap((r, i) => (r.ok ? [{ doc: r.doc, source: urls[i] }] : []));
  // Prefer an agent that does its job: a node cut off in the minority sees everyone else as gone.
  const best = answered.find((a) => clusterHealth(a.doc).exitCode !== EXIT_UNAVAILABLE) ?? answered[0];
  if (best) return best;
  throw unreachable(results.map((r, i) => `${urls[i]}: ${r.ok ? 'ok' : r.error}`));
}

/**
 * Where to ask a node: where its API listens (`apiListen`: http.listen, else its peerAddress, else
 * its DNS addresses), unless that is a wildcard, which only says "any address": then its peerAddress.
 */
function apiAddress(n: NodeConfig): string {
  const a = n.apiListen[0];
  return a === '0.0.0.0' || a === '::' ? n.peerAddress : a;
}

function candidates(config: ClusterConfig, node: string | undefined) {
  if (node === undefined) return config.nodes;
  const n = config.nodes.find((x) => x.name === node.toLowerCase());
  if (!n) throw new ClusterDnsError('NODE_UNKNOWN', `no node named "${node}" in the config — use one of: ${config.nodes.map((x) => x.name).join(', ')}`);
  return [n];
}

function unreachable(details: string[]): ClusterDnsError {
  return new ClusterDnsError('STATUS_UNREACHABLE', 'no agent answered on its HTTP API — check that the agents run, that http.port is reachable from here, or pass --url', {
    details,
    exitCode: EXIT_UNAVAILABLE,
  });
}

/** `http://host:port`, `host:port/` and the full `/v1/status` URL all mean the same agent. */
function statusUrl(input: string): string {
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(input) ? input : `http://${input}`);
  } catch {
    throw new ClusterDnsError('USAGE', `--url "${input}" is not a URL — use e.g. http://203.0.113.11:8053`);
  }
  if (u.protocol !== 'http:') throw new ClusterDnsError('USAGE', `--url must be http:// (the agent serves plain HTTP), not ${u.protocol}`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/status';
  return u.toString();
}

type Fetched = { ok: true; doc: StatusDocument } | { ok: false; error: string };

/** node:http with no keep-alive: a one-shot command must exit as soon as it has its answer. */
function getStatus(url: string, timeoutMs: number): Promise<Fetched> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false, headers: { Accept: 'application/json', Connection: 'close' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => resolve({ ok: false, error: e.message }));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve({ ok: false, error: `HTTP ${res.statusCode}` });
        try {
          const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StatusDocument;
          if (doc?.apiVersion !== 1 || !Array.isArray(doc.nodes)) return resolve({ ok: false, error: 'not a clusterdns /v1/status document' });
          resolve({ ok: true, doc });
        } catch {
          resolve({ ok: false, error: 'the reply is not JSON' });
        }
      });
    });
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code === 'ECONNREFUSED' ? 'connection refused (agent not running, or http.port differs)' : e.message }));
    req.on('close', () => clearTimeout(deadline));
    req.end();
  });
}
