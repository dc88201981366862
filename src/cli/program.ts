import { Command, CommanderError } from 'commander';
import { isClusterDnsError } from '../errors';

/** Registers one command on the program; each command lives in its own file. */
export type Register = (program: Command) => void;

/** Runs the CLI with the given commands: the exit code, or throws a bug (bin/clusterdns.js prints it). */
export async function runCommands(argv: string[], commands: readonly Register[]): Promise<number> {
  const program = new Command('clusterdns')
    .description('DNS-based failover: every node is an authoritative name server for the cluster zone')
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    .version(require('../../package.json').version)
    .exitOverride()
    .showHelpAfterError('(run clusterdns --help for usage)');
  for (const register of commands) register(program);
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
