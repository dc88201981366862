import { registerAgent } from './agent';
import { registerConfig } from './config';
import { registerDemo } from './demo';
import { registerZone } from './zone';
import { registerDelegate } from './delegate';
import { registerDnssec } from './dnssec';
import { registerCheck } from './check';
import { registerStatus } from './status';
import { runCommands, type Register } from './program';

/** Each command lives in its own file and registers itself here. */
const COMMANDS: Register[] = [registerAgent, registerConfig, registerDemo, registerDelegate, registerZone, registerStatus, registerCheck, registerDnssec];

export function main(argv: string[]): Promise<number> {
  return runCommands(argv, COMMANDS);
}
