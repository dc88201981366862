import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ClusterDnsError } from '../errors';
import { Prober, type Observation } from './probe';
import { BUNDLED } from '../bundle';

export interface DemoOptions {
  /** First of three consecutive loopback addresses, e.g. 127.0.0.11. */
  readonly base: string;
  readonly dnsPort: number;
  readonly zone: string;
  readonly keep: boolean;
  readonly out: NodeJS.WriteStream;
}

export interface DemoNode {
  readonly name: string;
  readonly address: string;
}

// The agents are this program run again: in a checkout, bin/clusterdns.js; in the package, the
// bundle's clusterdns.js beside this file (it runs the CLI when loaded), wherever it was installed.
const CLI = BUNDLED ? join(__dirname, 'clusterdns.js') : resolve(__dirname, '../../bin/clusterdns.js');

/** The cluster the demo runs: three agents from one config in a temp dir, each its own process. */
export class DemoCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'clusterdns-demo-'));
  readonly config = join(this.dir, 'cluster.yaml');
  readonly nodes: DemoNode[];
  private readonly procs = new Map<string, ChildProcess>();
  readonly prober: Prober;

  constructor(readonly opts: Omit<DemoOptions, 'out' | 'keep'>) {
    const [a, b, c, d] = opts.base.split('.').map(Number);
    this.nodes = [0, 1, 2].map((i) => ({ name: `node${i + 1}`, address: `${a}.${b}.${c}.${d + i}` }));
    writeFileSync(
      this.config,
      [
        '# Written by `clusterdns demo`: three nodes on loopback addresses, ports that need no root.',
        `zone: ${opts.zone}`,
        'ttl: 5',
        `secret: "${randomBytes(24).toString('base64')}"`,
        `dns: { port: ${opts.dnsPort} }`,
        `peer: { port: ${opts.dnsPort + 1} }`,
        `http: { port: ${opts.dnsPort + 2} }`,
        'nodes:',
        ...this.nodes.map((n) => `  - { name: ${n.name}, address: ${n.address} }`),
        '',
      ].join('\n'),
    );
    this.prober = new Prober(opts.dnsPort);
  }

  start(name: string, detached = false): ChildProcess {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const child = spawn(process.execPath, [CLI, 'agent', '--config', this.config, '--node', name], {
      stdio: ['ignore', log, log],
      detached,
      env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' },
    });
    this.procs.set(name, child);
    return child;
  }

  pid(name: string): number | undefined {
    return this.procs.get(name)?.pid;
  }

  kill(name: string): void {
    this.procs.get(name)?.kill('SIGKILL');
  }

  exited(name: string): boolean {
    const p = this.procs.get(name);
    return !p || p.exitCode !== null || p.signalCode !== null;
  }

  logOf(name: string): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** What every node answers for every node name (and the apex), and the cluster's own verdicts. */
  async snapshot(): Promise<Snapshot> {
    const names = [...this.nodes.map((n) => `${n.name}.${this.opts.zone}`), this.opts.zone];
    const [rows, view] = await Promise.all([
      Promise.all(names.map(async (name) => ({ name, answers: await Promise.all(this.nodes.map((n) => this.prober.ask(n.address, name))) }))),
      this.clusterView(),
    ]);
    return { at: Date.now(), rows, view };
  }

  /** The membership verdicts as the first running agent reports them on its status API. */
  private async clusterView(): Promise<ClusterVerdicts | undefined> {
    for (const n of this.nodes) {
      if (this.exited(n.name)) continue;
      const doc = await getJson(`http://${n.address}:${this.opts.dnsPort + 2}/v1/status`, 300);
      const nodes = (doc as { nodes?: { name: string; state: string; reason: string }[] } | undefined)?.nodes;
      if (nodes) return { from: n.name, nodes: nodes.map(({ name, state, reason }) => ({ name, state, reason })) };
    }
    return undefined;
  }

  stopAll(): void {
    for (const [, p] of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    this.prober.close();
  }

  removeFiles(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Leaves the agents running on their own (for --keep). */
  detach(): void {
    for (const [, p] of this.procs) p.unref();
    this.prober.close();
  }
}

export interface ClusterVerdicts {
  /** The agent asked. */
  readonly from: string;
  readonly nodes: readonly { readonly name: string; readonly state: string; readonly reason: string }[];
}

export interface Snapshot {
  readonly at: number;
  readonly rows: readonly { readonly name: string; readonly answers: readonly Observation[] }[];
  readonly view: ClusterVerdicts | undefined;
}

function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

export const addressesOf = (o: Observation): readonly string[] => (o === 'no answer' || o.rcode !== 'NOERROR' ? [] : o.addresses);

export function newDemoError(message: string, details: string[] = []): ClusterDnsError {
  return new ClusterDnsError('USAGE', message, { details });
}
