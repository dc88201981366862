import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { ClusterDnsError } from '../errors';
import { formatReport, reportToJson } from '../check/format';
import { gather } from '../check/gather';
import { runCheck } from '../check/run';
import { canonicalName } from '../parent/records';
import { parseServer } from '../parent/rfc2136/transport';

interface CheckOptions {
  config?: string;
  parent?: string;
  resolver?: string;
  json?: boolean;
  maxStale: number;
  timeout: number;
}

function positive(flag: string, unit: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new ClusterDnsError('USAGE', `${flag} ${v}: give a positive number of ${unit}`);
    return n;
  };
}

function endpoint(flag: string, text: string) {
  try {
    return parseServer(text);
  } catch {
    throw new ClusterDnsError('USAGE', `${flag} ${text}: give IP, IP:PORT or [IPv6]:PORT`);
  }
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description("walk the delegation of the cluster zone and check every name server (exit 0 healthy, 1 degraded, 2 broken)")
    .argument('<zone>', 'the cluster zone, e.g. cluster.example.com')
    .option('-c, --config <file>', 'cluster YAML file: also compare with the configured nodes, addresses and timings')
    .option('--parent <ip[:port]>', 'ask this server of the parent zone for the delegation')
    .option('--resolver <ip[:port]>', "find the parent zone's servers through this resolver (default: the system's)")
    .option('--json', 'print the report as JSON')
    .option('--max-stale <seconds>', 'warn when a client may keep a dead address longer than this', positive('--max-stale', 'seconds'), 120)
    .option('--timeout <ms>', 'per-question timeout', positive('--timeout', 'milliseconds'), 1000)
    .action(async (zoneArg: string, opts: CheckOptions) => {
      if (opts.parent && opts.resolver) throw new ClusterDnsError('USAGE', 'give either --parent or --resolver, not both');
      const zone = canonicalName(zoneArg);
      const config = opts.config ? loadConfig(opts.config) : undefined;
      if (config && config.zone !== zone)
        throw new ClusterDnsError('USAGE', `${opts.config} is the config of ${config.zone}, not ${zone}`, { details: [`run clusterdns check ${config.zone} --config ${opts.config}`] });
      const report = await runCheck(() =>
        gather({
          zone,
          ...(config ? { config } : {}),
          ...(opts.parent ? { parent: endpoint('--parent', opts.parent) } : {}),
          ...(opts.resolver ? { resolver: endpoint('--resolver', opts.resolver) } : {}),
          timeoutMs: opts.timeout,
          maxStaleSeconds: opts.maxStale,
        }),
      );
      process.stdout.write(opts.json ? `${JSON.stringify(reportToJson(report), null, 2)}\n` : formatReport(report));
      process.exitCode = report.exitCode;
    });
}
