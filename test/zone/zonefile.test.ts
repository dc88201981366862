import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { Class, Type } from '../../src/wire/constants';
import { allUpInputs } from '../../src/zone/inputs';
import { buildZone, type ZoneData } from '../../src/zone/zone';
import { absolute, canonicalCompare, zoneFileText } from '../../src/zone/zonefile';
import { requireTool } from '../helpers/tools';

const CONFIG = `
zone: Cluster.Test
ttl: 30
negativeTtl: 5
secret: "0123456789abcdef0123456789abcdef"
dns: { port: 5399 }
nodes:
  - { name: node1, address: 127.0.9.21, address6: "fd00::21" }
  - { name: node2, address: 127.0.9.22 }
  - { name: node3, address: 127.0.9.23, address6: "fd00::23" }
  - { name: tie, address: 127.0.9.24, role: witness }
services:
  - { name: redis-12000, port: 12000, nodes: [node1, node2], policy: first-healthy }
  - { name: pg, port: 5432 }
`;

const config = parseConfig(CONFIG);
const zone = buildZone(config, allUpInputs(config, 2026112501));
const text = zoneFileText(zone, { header: 'test zone\nsecond line' });

/** Every record line of a zone text as [owner, ttl, class, type, rdata]. */
function records(t: string): string[][] {
  return t
    .split('\n')
    .filter((l) => l && !l.startsWith(';') && !l.startsWith('$'))
    .map((l) => {
      const [owner, ttl, cls, type, ...rest] = l.split(/\s+/);
      return [owner, ttl, cls, type, rest.join(' ')];
    });
}

const dir = mkdtempSync(join(tmpdir(), 'clusterdns-zonefile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a zone checker; a checker that is not installed fails the test with the package to install. */
function runChecker(cmd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(requireTool(cmd), args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('zoneFileText', () => {
  it('starts with the header comment, $ORIGIN and $TTL, then the SOA', () => {
    const lines = text.split('\n');
    expect(lines[0]).toBe('; test zone');
    expect(lines[1]).toBe('; second line');
    expect(lines[2]).toBe('$ORIGIN cluster.test.');
    expect(lines[3]).toBe('$TTL 30');
    expect(lines[4].split(/\s+/)).toEqual(['cluster.test.', '30', 'IN', 'SOA', 'ns1.cluster.test.', 'hostmaster.cluster.test.', '2026112501', '3600', '600', '1209600', '5']);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('writes every record of the zone once, with absolute names', () => {
    const expected: string[] = [];
    for (const types of zone.names.values()) for (const set of types.values()) for (const r of set) expected.push(`${r.name}.|${r.data.type}`);
    const got = records(text);
    expect(got.map((r) => `${r[0].replace(/\.$/, '')}.|${Type[r[3] as keyof typeof Type]}`).sort()).toEqual(expected.sort());
    for (const r of got) {
      expect(r[0].endsWith('.')).toBe(true);
      expect(r[2]).toBe('IN');
    }
  });

  it('writes the apex NS in node order, the SRV records and the addresses', () => {
    const got = records(text);
    const ns = got.filter((r) => r[3] === 'NS');
    expect(ns.map((r) => [r[0], r[1], r[4]])).toEqual([
      ['cluster.test.', '60', 'ns1.cluster.test.'],
      ['cluster.test.', '60', 'ns2.cluster.test.'],
      ['cluster.test.', '60', 'ns3.cluster.test.'],
    ]);
    expect(got.filter((r) => r[0] === '_redis-12000._tcp.cluster.test.').map((r) => `${r[3]} ${r[4]}`)).toEqual(['SRV 10 10 12000 node1.cluster.test.']);
    expect(got.filter((r) => r[0] === '_pg._tcp.cluster.test.')).toHaveLength(3);
    expect(got.filter((r) => r[0] === 'node3.cluster.test.').map((r) => `${r[3]} ${r[4]}`)).toEqual(['A 127.0.9.23', 'AAAA fd00::23']);
    expect(got.some((r) => r[0].startsWith('tie.'))).toBe(false);
  });

  it('puts the apex first and the other owners in canonical order', () => {
    const owners = [...new Set(records(text).map((r) => r[0].replace(/\.$/, '')))];
    expect(owners[0]).toBe('cluster.test');
    const rest = owners.slice(1);
    expect([...rest].sort(canonicalCompare)).toEqual(rest);
    expect(canonicalCompare('b.a.test', 'a.b.test')).toBeLessThan(0);
    expect(canonicalCompare('test', 'a.test')).toBeLessThan(0);
    expect(canonicalCompare('_x.test', 'a.test')).toBeLessThan(0);
  });

  it('is deterministic', () => {
    expect(zoneFileText(buildZone(config, allUpInputs(config, 2026112501)), { header: 'test zone\nsecond line' })).toBe(text);
  });

  it('lists owners without records in a comment, and quotes TXT and odd labels', () => {
    const names = new Map(zone.names);
    names.set('empty.cluster.test', new Map());
    names.set('_tcp.cluster.test', new Map());
    names.set('txt.cluster.test', new Map([[Type.TXT, [{ name: 'txt.cluster.test', class: Class.IN, ttl: 30, data: { type: Type.TXT, texts: ['a "b" \\c', 'é\n'] } }]]]));
    const z: ZoneData = { ...zone, names };
    const t = zoneFileText(z);
    expect(t).toContain(';   empty.cluster.test.');
    expect(t).not.toContain(';   _tcp.cluster.test.'); // an empty non-terminal exists in a master file anyway
    expect(t).toMatch(/txt\.cluster\.test\. +30 IN TXT +"a \\"b\\" \\\\c" "\\195\\169\\010"/);
    expect(absolute('a b.x(y).test')).toBe('a\\032b.x\\(y\\).test.');
    expect(absolute('')).toBe('.');
  });
});

describe('the exported zone loads in real zone checkers', () => {
  const file = join(dir, 'cluster.test.zone');
  writeFileSync(file, text);

  it('nsd-checkzone accepts it', () => {
    const r = runChecker('nsd-checkzone', ['cluster.test', file]);
    expect(r.output).toMatch(/zone cluster.test is ok/);
    expect(r.status).toBe(0);
  });

  it('named-checkzone accepts it with the same serial and record count', () => {
    const r = runChecker('named-checkzone', ['-i', 'local', '-k', 'fail', '-m', 'fail', '-n', 'fail', 'cluster.test', file]);
    expect(r.output).toContain('loaded serial 2026112501');
    expect(r.status).toBe(0);
    const dump = runChecker('named-checkzone', ['-q', '-D', '-o', '-', 'cluster.test', file]);
    expect(records(dump.output).length).toBe(records(text).length);
  });

  it('both checkers reject a broken zone (the checks can fail)', () => {
    const bad = join(dir, 'bad.zone');
    writeFileSync(bad, text.replace(/^cluster\.test\. +30 IN SOA.*$/m, ''));
    const a = runChecker('nsd-checkzone', ['cluster.test', bad]);
    const b = runChecker('named-checkzone', ['cluster.test', bad]);
    expect(a.status).not.toBe(0);
    expect(b.status).not.toBe(0);
  });
});

describe('clusterdns zone export', () => {
  it('writes the zone of the config file with the given serial', async () => {
    const { Command } = await import('commander');
    const { registerZone } = await import('../../src/cli/zone');
    const cfg = join(dir, 'cluster.yaml');
    const out = join(dir, 'export.zone');
    writeFileSync(cfg, CONFIG);
    const program = new Command('clusterdns').exitOverride();
    registerZone(program);
    await program.parseAsync(['node', 'clusterdns', 'zone', 'export', '--config', cfg, '--serial', '2026112501', '--output', out]);
    const written = (await import('node:fs')).readFileSync(out, 'utf8');
    expect(written.split('\n').slice(1).join('\n')).toBe(text.split('\n').slice(2).join('\n'));
    expect(written).toMatch(/^; cluster\.test: written by clusterdns zone export from .*cluster\.yaml \(config hash [0-9a-f]{16}\), every node up\n/);
  });

  it('refuses a serial that is not a 32-bit number', async () => {
    const { Command } = await import('commander');
    const { registerZone } = await import('../../src/cli/zone');
    const cfg = join(dir, 'cluster.yaml');
    writeFileSync(cfg, CONFIG);
    for (const serial of ['-1', '4294967296', 'abc']) {
      const program = new Command('clusterdns').exitOverride();
      registerZone(program);
      await expect(program.parseAsync(['node', 'clusterdns', 'zone', 'export', '--config', cfg, '--serial', serial])).rejects.toThrow(/not a SOA serial/);
    }
  });
});
