import { Command, CommanderError } from 'commander';
import { isClusterDnsError } from '../errors';
import { registerAgent } from './agent';
import { registerConfig } from './config';
import { registerDemo } from './demo';
import { registerZone } from './zone';
import { registerDelegate } from './delegate';
import { registerDnssec } from './dnssec';
import { registerCheck } from './check';
import { registerStatus } from './status';

/** Each command lives in its own file and registers itself here. */
const COMMANDS: Array<(program: Command) => void> = [registerAgent, registerConfig, registerDemo, registerDelegate, registerZone, registerStatus, registerCheck, registerDnssec];

export async function main(argv: string[]): Promise<number> {
  const program = new Command('clusterdns')
    .description('DNS-based failover: every node is an authoritative name server for the cluster zone')
    .version(require('../../package.json').version)
    .exitOverride()
    .showHelpAfterError('(run clusterdns --help for usage)');
  for (const register of COMMANDS) register(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isClusterDnsError(e)) {
      process.stderr.write(`clusterdns: ${e.format()}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
