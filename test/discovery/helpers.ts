import net from 'node:net';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { Processes, run, type Started } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/** What a raw socket saw: every byte, and how the server ended it (if it did) within the wait. */
export interface Exchange {
  readonly bytes: Buffer;
  readonly text: string;
  readonly ended: 'eof' | 'reset' | 'open';
}

/**
 * Sends each chunk (pausing `gapMs` between them), then reads until the server closes or `waitMs`
 * passes quietly (or `stopWhen` says the reply is complete). Bounded: the socket is destroyed at the end whatever happened.
 */
export function exchange(host: string, port: number, chunks: ReadonlyArray<string | Buffer>, opts: { waitMs?: number; gapMs?: number; stopWhen?: (text: string) => boolean } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const got: Buffer[] = [];
    let ended: Exchange['ended'] = 'open';
    let quiet: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(quiet);
      sock.destroy();
      const bytes = Buffer.concat(got);
      resolve({ bytes, text: bytes.toString('latin1'), ended });
    };
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, opts.waitMs ?? 300);
    };
    sock.on('data', (d) => {
      got.push(d);
      if (opts.stopWhen?.(Buffer.concat(got).toString('latin1'))) finish();
      else arm();
    });
    sock.on('end', () => {
      ended = 'eof';
      finish();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
        ended = 'reset';
        finish();
      } else reject(e);
    });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (sock.destroyed) return;
        sock.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      arm();
    });
  });
}

/** A RESP multibulk request, as clients send. */
export function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`;
}

/** redis-cli, bounded in time; its stdout lines. */
export async function redisCli(host: string, port: number, args: string[], extra: string[] = []): Promise<string[]> {
  const r = await run(requireTool('redis-cli'), ['-h', host, '-p', String(port), ...extra, ...args], { timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`redis-cli ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Polls `f` until it returns true; throws with the last value after `ms`. Bounded. */
export async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<number> {
  const start = Date.now();
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() - start < ms) {
    try {
      last = await f();
      if (ok(last)) return Date.now() - start;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`after ${ms} ms, ${what}: ${JSON.stringify(last)}${lastError ? ` (${String(lastError)})` : ''}`);
}

/** A real redis-server on address:port, in the test's process set. */
export async function startRedis(procs: Processes, address: string, port: number): Promise<Started> {
  const r = procs.start(requireTool('redis-server'), ['--port', String(port), '--bind', address, '--save', '', '--appendonly', 'no']);
  await r.waitForOutput(/Ready to accept connections/);
  return r;
}

export interface DiscoveryNode {
  name: string;
  address: string;
  peerAddress?: string;
}

/** A cluster config with the discovery service on, and services appended as YAML lines. */
export function discoveryCluster(opts: { nodes: DiscoveryNode[]; dnsPort: number; discoveryPort: number; services: string[]; discovery?: string; peer?: string }): TestCluster {
  let yaml = clusterYaml({ dnsPort: opts.dnsPort, nodes: opts.nodes.map((n) => ({ name: n.name, address: n.address })) });
  if (opts.peer) yaml = yaml.replace(/peer: \{ port: (\d+) \}/, `peer: { port: $1, ${opts.peer} }`);
  // clusterYaml knows no peerAddress: add it to the node lines (and listen on both).
  for (const n of opts.nodes) {
    if (n.peerAddress) yaml = yaml.replace(`{ name: ${n.name}, address: ${n.address} }`, `{ name: ${n.name}, address: ${n.address}, peerAddress: ${n.peerAddress} }`);
  }
  const extra = [`discovery: { port: ${opts.discoveryPort}, enabled: true${opts.discovery ? `, ${opts.discovery}` : ''} }`, 'services:', ...opts.services.map((s) => `  - ${s}`)];
  return new TestCluster(`${yaml}\n${extra.join('\n')}\n`);
}
