import { join } from 'node:path';
import { exec } from './exec';

const BIN = join(__dirname, '..', '..', 'bin', 'clusterdns.js');

/** The built CLI as a user runs it (needs `npx tsc -p .` first, as `npm test` does). */
export function clusterdns(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  return exec(process.execPath, [BIN, ...args], { env, timeoutMs: 30_000 });
}
