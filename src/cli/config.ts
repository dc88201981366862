import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { hasInternalNames, INTERNAL_LABEL, nameServerNodes } from '../config/types';
import { configWarnings } from '../config/warnings';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('work with the cluster config file');
  config
    .command('check')
    .description('validate the config file (the same validation the agent runs at start)')
    .requiredOption('-c, --config <file>', 'cluster YAML file')
    .action((opts: { config: string }) => {
      const c = loadConfig(opts.config);
      const ns = nameServerNodes(c).length;
      process.stdout.write(
        `${opts.config}: ok — zone ${c.zone}, ${c.nodes.length} node${c.nodes.length > 1 ? 's' : ''} ` +
          `(${ns} name server${ns > 1 ? 's' : ''}), ${c.services.length} service${c.services.length === 1 ? '' : 's'}, ` +
          (hasInternalNames(c) ? `private addresses under ${INTERNAL_LABEL}.${c.zone}${c.dns.internalFrom ? ` (to ${c.dns.internalFrom.join(', ')})` : ''}, ` : '') +
          `hash ${c.hash}\n`,
      );
      // Still exit 0: the agent runs this config; the warning says why it should not be deployed.
      for (const w of configWarnings(c)) process.stderr.write(`clusterdns: warning: ${w}\n`);
    });
}
