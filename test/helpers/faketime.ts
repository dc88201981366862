import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './tools';

/** The path of libfaketime.so.1 (Debian: /usr/lib/<triplet>/faketime/), for LD_PRELOAD with a clock file. */
export function libfaketime(): string {
  requireTool('faketime');
  for (const dir of readdirSync('/usr/lib')) {
    const lib = join('/usr/lib', dir, 'faketime', 'libfaketime.so.1');
    if (existsSync(lib)) return lib;
  }
  throw new Error('libfaketime.so.1 not found under /usr/lib/*/faketime: apt-get install -y faketime');
}
