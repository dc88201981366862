import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Processes, type Started } from './proc';

export const CLI = resolve(__dirname, '../../bin/clusterdns.js');
export const SECRET = 'test-secret-0123456789abcdef-0123456789';

export interface NodeSpec {
  name: string;
  address: string;
  address6?: string;
  rack?: string;
  role?: 'node' | 'witness';
  listen?: string[];
}

/** Config YAML for a test cluster; `extra` is appended verbatim (services, checks, …). */
export function clusterYaml(opts: { zone?: string; nodes: NodeSpec[]; dnsPort: number; peerPort?: number; httpPort?: number; extra?: string }): string {
  const node = (n: NodeSpec) =>
    `  - { name: ${n.name}, address: ${n.address}${n.address6 ? `, address6: "${n.address6}"` : ''}${n.rack ? `, rack: ${n.rack}` : ''}${n.role ? `, role: ${n.role}` : ''}${n.listen ? `, listen: [${n.listen.map((a) => JSON.stringify(a)).join(', ')}]` : ''} }`;
  return [
    `zone: ${opts.zone ?? 'cluster.test'}`,
    'ttl: 30',
    `secret: "${SECRET}"`,
    `dns: { port: ${opts.dnsPort}, tcpIdleTimeout: 2s }`,
    `peer: { port: ${opts.peerPort ?? opts.dnsPort + 1} }`,
    `http: { port: ${opts.httpPort ?? opts.dnsPort + 2} }`,
    'nodes:',
    ...opts.nodes.map(node),
    opts.extra ?? '',
  ].join('\n');
}

/** A temp dir holding the config, plus the agents started from it; `cleanup()` in afterAll. */
export class TestCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'clusterdns-test-'));
  readonly configPath = join(this.dir, 'cluster.yaml');
  readonly procs = new Processes();
  readonly agents = new Map<string, Started>();

  constructor(yaml: string) {
    this.write(yaml);
  }

  write(yaml: string): void {
    writeFileSync(this.configPath, yaml);
  }

  /** `wrapper`: a command the agent runs under (taskset, unshare, …). */
  async startAgent(node: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, wrapper: string[] = []): Promise<Started> {
    const argv = [process.execPath, CLI, 'agent', '--config', this.configPath, '--node', node, ...extraArgs];
    const [cmd, ...args] = [...wrapper, ...argv];
    const a = this.procs.start(cmd, args, {
      env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json', ...env },
    });
    this.agents.set(node, a);
    await a.waitForOutput(/"event":"listening"/);
    return a;
  }

  async cleanup(): Promise<void> {
    await this.procs.stopAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
