import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load';
import { Algorithm, baseName, formatKeyFiles, generateKey, parseKeyTime, type AlgorithmNumber } from '../dnssec/keys';
import { ClusterDnsError } from '../errors';
import { DnskeyFlag } from '../wire/constants';

const ALGORITHMS: Record<string, AlgorithmNumber> = {
  '13': Algorithm.ECDSAP256SHA256,
  ecdsap256sha256: Algorithm.ECDSAP256SHA256,
  '15': Algorithm.ED25519,
  ed25519: Algorithm.ED25519,
};

export function registerDnssec(program: Command): void {
  const cmd = program.command('dnssec').description('DNSSEC keys for the cluster zone');
  cmd
    .command('keygen')
    .description("make a key pair in BIND's format (K<zone>.+<alg>+<tag>.key/.private); a CSK unless --zsk")
    .requiredOption('-c, --config <file>', 'cluster YAML file (for the zone name)')
    .option('-a, --algorithm <alg>', '13 (ECDSAP256SHA256) or 15 (ED25519)', '13')
    .option('--zsk', 'a zone-signing key without the SEP flag (256), to pair with a KSK', false)
    .option('-K, --directory <dir>', 'where to write the two files', '.')
    .option('--activate <time>', 'publish now but sign only from this time on (YYYYMMDDHHMMSS UTC, or +<n>d / +<n>h): the pre-publication of a rollover')
    .action((opts: { config: string; algorithm: string; zsk: boolean; directory: string; activate?: string }) => {
      // Only the zone name is needed, and the keys the config lists may be the ones being replaced.
      const config = loadConfig(opts.config, process.env, { withoutDnssec: true });
      const algorithm = ALGORITHMS[opts.algorithm.toLowerCase()];
      if (algorithm === undefined) throw new ClusterDnsError('USAGE', `--algorithm ${opts.algorithm}: give 13 (ECDSAP256SHA256) or 15 (ED25519)`);
      const now = Math.floor(Date.now() / 1000);
      const activate = opts.activate === undefined ? now : parseWhen(opts.activate, now);
      const key = generateKey(config.zone, algorithm, DnskeyFlag.ZONE | (opts.zsk ? 0 : DnskeyFlag.SEP), { created: now, publish: now, activate });
      const base = join(resolve(opts.directory), baseName(key));
      const text = formatKeyFiles(key);
      try {
        writeFileSync(`${base}.key`, text.key, { mode: 0o644 });
        writeFileSync(`${base}.private`, text.private, { mode: 0o600 });
      } catch (e) {
        throw new ClusterDnsError('USAGE', `cannot write ${base}.key/.private: ${(e as NodeJS.ErrnoException).code ?? e}`, {
          exitCode: 1,
          details: ['give a writable directory with --directory'],
        });
      }
      process.stdout.write(`${base}\n`);
      process.stderr.write(`Add it to the config on every node (copy both files like the secret):\n  dnssec: { keys: ["${base}"] }\n`);
    });
}

function parseWhen(s: string, now: number): number {
  const rel = /^\+(\d+)([dh])$/.exec(s);
  if (rel) return now + Number(rel[1]) * (rel[2] === 'd' ? 86400 : 3600);
  const t = parseKeyTime(s);
  if (t === undefined) throw new ClusterDnsError('USAGE', `--activate ${s}: give YYYYMMDDHHMMSS (UTC) or +<n>d / +<n>h`);
  return t;
}
