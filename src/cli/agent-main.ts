import { registerAgent } from './agent';
import { runCommands } from './program';

/**
 * `clusterdns agent` alone (bin/clusterdns.js picks this entry when the first argument is `agent`):
 * the agent runs for months, so it loads only its own command's code, not the other commands'
 * (the AWS SDK, the delegation and check tools, the demo). In the package each entry is its own
 * bundle (scripts/package.mjs): V8 keeps a script's whole source for as long as any of its functions
 * lives, about 2.6 MB for the full CLI (README, "Threads").
 */
export function main(argv: string[]): Promise<number> {
  return runCommands(argv, [registerAgent]);
}
