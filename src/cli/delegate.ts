import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { ClusterDnsError } from '../errors';
import { formatPlan, planToJson } from '../parent/format';
import { delegate, type ParentZoneProvider } from '../parent/provider';
import { canonicalName, desiredDelegation } from '../parent/records';
import { rfc2136Provider } from '../parent/rfc2136/provider';
import { parseServer } from '../parent/rfc2136/transport';
import { zoneFileSnippet } from '../parent/zonefile';
import { readTsigKeyFile } from '../config/tsig-key';

interface CommonOptions {
  config: string;
  apply?: boolean;
  json?: boolean;
}

async function run(provider: ParentZoneProvider, config: ReturnType<typeof loadConfig>, opts: CommonOptions): Promise<void> {
  const desired = desiredDelegation(config);
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const outcome = await delegate(provider, desired, {
    apply: !!opts.apply,
    progress,
    onPlan: (plan) => {
      if (!opts.json) process.stdout.write(formatPlan(plan, provider.where));
    },
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...(planToJson(outcome.plan, provider.where, outcome.applied) as object), result: outcome.result ?? null }, null, 2)}\n`);
    return;
  }
  if (outcome.applied) process.stdout.write(`Applied: ${outcome.result}\n`);
  else if (outcome.plan.changes.length > 0) process.stdout.write('Nothing was changed: run again with --apply to make these changes.\n');
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new ClusterDnsError('USAGE', `${flag} ${v}: give a whole number of milliseconds`);
    return n;
  };
}

export function registerDelegate(program: Command): void {
  const cmd = program.command('delegate').description("write the parent zone's delegation of the cluster zone (plan first; --apply to change)");

  cmd
    .command('zonefile')
    .description('print the delegation (NS set and glue) to paste into a parent zone file')
    .requiredOption('-c, --config <file>', 'cluster YAML file')
    .action((opts: { config: string }) => {
      process.stdout.write(zoneFileSnippet(desiredDelegation(loadConfig(opts.config))));
    });

  cmd
    .command('rfc2136')
    .description('read and update the delegation on a primary that takes DNS UPDATE signed with TSIG (BIND, Knot, PowerDNS, Windows)')
    .requiredOption('-c, --config <file>', 'cluster YAML file')
    .requiredOption('--server <host[:port]>', "the parent zone's primary name server")
    .requiredOption('--zone <parent>', 'the parent zone, e.g. example.com')
    .requiredOption('--tsig-key-file <file>', 'key file as tsig-keygen writes it (the one nsupdate -k reads)')
    .option('--apply', 'make the changes (default: only print the plan)')
    .option('--json', 'print the plan as JSON')
    .option('--timeout <ms>', 'per-request timeout', positiveInt('--timeout'), 5000)
    .action(async (opts: CommonOptions & { server: string; zone: string; tsigKeyFile: string; timeout: number }) => {
      const config = loadConfig(opts.config);
      const parentZone = canonicalName(opts.zone);
      if (!config.zone.endsWith(`.${parentZone}`))
        throw new ClusterDnsError('USAGE', `--zone ${opts.zone} is not a parent of the cluster zone ${config.zone}`, {
          details: [`give the zone that contains ${config.zone}, e.g. --zone ${config.zone.split('.').slice(1).join('.')}`],
        });
      const key = readTsigKeyFile(opts.tsigKeyFile);
      await run(rfc2136Provider({ server: parseServer(opts.server), parentZone, key, timeoutMs: opts.timeout }), config, opts);
    });

  cmd
    .command('route53')
    .description('read and change the delegation in an AWS Route53 hosted zone (standard AWS credentials and region)')
    .requiredOption('-c, --config <file>', 'cluster YAML file')
    .requiredOption('--hosted-zone-id <id>', 'the hosted zone of the parent zone, e.g. Z0123456789ABC')
    .option('--apply', 'make the changes (default: only print the plan)')
    .option('--json', 'print the plan as JSON')
    .option('--endpoint-url <url>', 'Route53 API endpoint (default: AWS; also AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL)')
    .option('--wait-timeout <ms>', 'how long to wait for the change to be INSYNC', positiveInt('--wait-timeout'), 300_000)
    .action(async (opts: CommonOptions & { hostedZoneId: string; endpointUrl?: string; waitTimeout: number }) => {
      // clusterdns supports Node 20 (package.json engines); the SDK's notice that its future releases
      // will not is for the SDK's own users and would otherwise precede every plan. Setting the
      // variable to anything else still shows it.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const config = loadConfig(opts.config);
      // The AWS SDK is loaded only here: every other command (the agent above all) would pay
      // ~16 MB of memory and startup time for it.
      const { route53Provider } = await import('../parent/route53/provider');
      await run(
        route53Provider({ hostedZoneId: opts.hostedZoneId, endpointUrl: opts.endpointUrl, waitTimeoutMs: opts.waitTimeout }),
        config,
        opts,
      );
    });
}
