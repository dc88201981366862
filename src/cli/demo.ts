import { isIPv4 } from 'node:net';
import type { Command } from 'commander';
import { ClusterDnsError } from '../errors';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a three-node cluster on this machine, kill a node, watch its name fail over, then recover')
    .option('--base <address>', 'first of three consecutive loopback addresses', '127.0.0.11')
    .option('--port <port>', 'DNS port (peer and HTTP use the next two)', '5300')
    .option('--zone <zone>', 'zone the demo cluster serves', 'cluster.test')
    .option('--keep', 'leave the cluster running afterwards and print what to try')
    .action(async (opts: { base: string; port: string; zone: string; keep?: boolean }) => {
      const port = Number(opts.port);
      if (!isIPv4(opts.base) || Number(opts.base.split('.')[3]) > 253)
        throw new ClusterDnsError('USAGE', `--base ${opts.base}: give an IPv4 address whose last part is at most 253, such as 127.0.0.11`);
      if (!Number.isInteger(port) || port < 1 || port > 65533) throw new ClusterDnsError('USAGE', `--port ${opts.port}: give a port between 1 and 65533`);
      // Loaded here so that other commands do not pay for it.
      const { runDemo } = await import('../demo/story');
      process.exitCode = await runDemo({ base: opts.base, dnsPort: port, zone: opts.zone.toLowerCase(), keep: !!opts.keep, out: process.stdout });
    });
}
