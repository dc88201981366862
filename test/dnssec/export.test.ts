import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { requireTool } from '../helpers/tools';
import { clusterdns } from '../parent/cli';
import { exec } from '../parent/exec';

/** `zone export` of a signed zone, judged by BIND's own verifier. */

const dir = mkdtempSync(join(tmpdir(), 'cdns-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each(['13', '15'])('the exported zone signed with algorithm %s passes dnssec-verify and named-checkzone', async (alg) => {
  const config = join(dir, `c${alg}.yaml`);
  const base = [
    'zone: cluster.example.com',
    `secret: ${'s'.repeat(40)}`,
    'nodes:',
    ...Array.from({ length: 9 }, (_, i) => `  - { name: node${i + 1}, address: 192.0.2.${i + 1}, address6: "2001:db8::${i + 1}" }`),
    'services:',
    '  - { name: redis-12000, port: 12000 }',
    '',
  ].join('\n');
  writeFileSync(config, base);
  const gen = await clusterdns(['dnssec', 'keygen', '--config', config, '--algorithm', alg, '--directory', dir]);
  expect(gen.code, gen.stderr).toBe(0);
  writeFileSync(config, `${base}dnssec: { keys: ["${gen.stdout.trim()}"] }\n`);
  const out = join(dir, `zone${alg}`);
  const ex = await clusterdns(['zone', 'export', '--config', config, '--output', out]);
  expect(ex.code, ex.stderr).toBe(0);
  // -z: one key with the SEP flag signs everything (a CSK), which dnssec-verify otherwise calls a missing ZSK.
  const v = await exec(requireTool('dnssec-verify'), ['-z', '-o', 'cluster.example.com', out]);
  expect(v.code, v.stderr).toBe(0);
  expect(v.stdout + v.stderr).toMatch(/Zone fully signed/);
  const c = await exec(requireTool('named-checkzone'), ['-i', 'full', 'cluster.example.com', out]);
  expect(c.code, c.stdout).toBe(0);
  expect(c.stdout).toMatch(/\(DNSSEC signed\)/);
});
