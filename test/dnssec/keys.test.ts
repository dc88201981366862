import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { Algorithm, dnskeyOf, dsOf, formatKeyFiles, generateKey, keyTag, parseKeyFiles, type KeyFiles } from '../../src/dnssec/keys';
import type { ClusterDnsError } from '../../src/errors';
import { requireTool } from '../helpers/tools';
import { clusterdns } from '../parent/cli';
import { exec } from '../parent/exec';

const ZONE = 'cluster.example.com';
const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cdns-keys-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The text a user sees for a config error (message and details). */
function formatted(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    throw new Error((e as ClusterDnsError).format());
  }
}

function configText(keys?: string[]): string {
  return [
    `zone: ${ZONE}`,
    `secret: ${'s'.repeat(40)}`,
    'nodes:',
    '  - { name: node1, address: 127.0.100.1 }',
    ...(keys ? [`dnssec: { keys: ${JSON.stringify(keys)} }`] : []),
    '',
  ].join('\n');
}

/** `dnssec-dsfromkey -2` on a .key file: BIND's DS, as "tag alg 2 HEX". */
async function bindDs(keyFile: string): Promise<string> {
  const r = await exec(requireTool('dnssec-dsfromkey'), ['-2', keyFile]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split(/\s+/).slice(-4).join(' ').toUpperCase();
}

function ourDs(k: KeyFiles): string {
  const ds = dsOf(k.zone, dnskeyOf(k));
  return `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${Buffer.from(ds.digest).toString('hex')}`.toUpperCase();
}

describe('BIND key files', () => {
  for (const [name, alg] of [
    ['ECDSAP256SHA256', Algorithm.ECDSAP256SHA256],
    ['ED25519', Algorithm.ED25519],
  ] as const) {
    it(`keys from dnssec-keygen (${name}) load, and our DS equals dnssec-dsfromkey's`, async () => {
      const dir = tmp();
      const r = await exec(requireTool('dnssec-keygen'), ['-K', dir, '-a', name, '-f', 'KSK', '-n', 'ZONE', ZONE]);
      expect(r.code, r.stderr).toBe(0);
      const base = join(dir, r.stdout.trim());
      const k = parseKeyFiles(readFileSync(`${base}.key`, 'utf8'), readFileSync(`${base}.private`, 'utf8'));
      expect(k.algorithm).toBe(alg);
      expect(k.flags).toBe(257);
      expect(base.endsWith(`+${String(keyTag(dnskeyOf(k))).padStart(5, '0')}`)).toBe(true);
      expect(k.timing.activate).toBeGreaterThan(0);
      expect(ourDs(k)).toBe(await bindDs(`${base}.key`));
    });

    it(`keys we write (${name}) are read by dnssec-dsfromkey with the same tag and DS`, async () => {
      const dir = tmp();
      const k = generateKey(ZONE, alg, 257, { created: 1_800_000_000, publish: 1_800_000_000, activate: 1_800_000_000 });
      const files = formatKeyFiles(k);
      writeFileSync(join(dir, 'k.key'), files.key);
      writeFileSync(join(dir, 'k.private'), files.private);
      expect(await bindDs(join(dir, 'k.key'))).toBe(ourDs(k));
      expect(parseKeyFiles(files.key, files.private)).toEqual(k);
    });
  }

  it.each([
    ['a .key without DNSKEY', 'x', 'holds no DNSKEY'],
    ['an unsupported algorithm', `${ZONE}. IN DNSKEY 257 3 8 AwEAAa==`, 'algorithm 8 is not supported'],
    ['a host key (flags 0)', `${ZONE}. IN DNSKEY 0 3 13 AAAA`, 'not a zone key'],
  ])('rejects %s with a message', (_, keyText, message) => {
    expect(() => parseKeyFiles(keyText, 'Private-key-format: v1.3\nAlgorithm: 13\nPrivateKey: AAAA\n')).toThrow(message);
  });

  it('rejects a private key that does not belong to the public key', () => {
    const a = formatKeyFiles(generateKey(ZONE, 13, 257, {}));
    const b = formatKeyFiles(generateKey(ZONE, 13, 257, {}));
    expect(() => parseKeyFiles(a.key, b.private)).toThrow('does not belong');
  });
});

describe('clusterdns dnssec keygen', () => {
  it('writes a CSK in BIND format that dnssec-dsfromkey reads and the config accepts', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'c.yaml'), configText());
    const r = await clusterdns(['dnssec', 'keygen', '--config', join(dir, 'c.yaml'), '--directory', dir]);
    expect(r.code, r.stderr).toBe(0);
    const base = r.stdout.trim();
    expect(base).toMatch(new RegExp(`/K${ZONE}\\.\\+013\\+\\d{5}$`));
    expect(readdirSync(dir).sort()).toEqual(['c.yaml', `${base.split('/').pop()}.key`, `${base.split('/').pop()}.private`].sort());
    const config = parseConfig(configText([base]), { path: join(dir, 'c.yaml') });
    expect(config.dnssec!.keys[0].flags).toBe(257);
    expect(config.dnssec!.validity).toBe(14 * 86400);
    expect(config.dnssec!.refresh).toBe(7 * 86400);
    expect(ourDs(config.dnssec!.keys[0])).toBe(await bindDs(`${base}.key`));
  });

  it('runs when the config lists keys that are missing or no longer sign: making one is the fix', async () => {
    const dir = tmp();
    const retired = generateKey(ZONE, 13, 257, { inactive: Math.floor(Date.now() / 1000) - 60 });
    writeFileSync(join(dir, 'r.key'), formatKeyFiles(retired).key);
    writeFileSync(join(dir, 'r.private'), formatKeyFiles(retired).private);
    for (const listed of [[join(dir, 'Kmissing')], [join(dir, 'r')]]) {
      writeFileSync(join(dir, 'c.yaml'), configText(listed));
      const r = await clusterdns(['dnssec', 'keygen', '--config', join(dir, 'c.yaml'), '--directory', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(parseConfig(configText([r.stdout.trim()])).dnssec!.keys).toHaveLength(1);
    }
  });

  it('config errors name the field: missing files, a key of another zone, no SEP key', async () => {
    const dir = tmp();
    expect(() => formatted(() => parseConfig(configText([join(dir, 'Knope')])))).toThrow(/dnssec\.keys\[0\]: cannot read .*Knope\.key/);
    const other = generateKey('other.example', 13, 257, {});
    writeFileSync(join(dir, 'o.key'), formatKeyFiles(other).key);
    writeFileSync(join(dir, 'o.private'), formatKeyFiles(other).private);
    expect(() => formatted(() => parseConfig(configText([join(dir, 'o')])))).toThrow(/dnssec\.keys\[0\]: .* is a key for other\.example/);
    const zsk = generateKey(ZONE, 13, 256, {});
    writeFileSync(join(dir, 'z.key'), formatKeyFiles(zsk).key);
    writeFileSync(join(dir, 'z.private'), formatKeyFiles(zsk).private);
    expect(() => formatted(() => parseConfig(configText([join(dir, 'z.key')])))).toThrow(/no key has the SEP flag/);
  });
});
