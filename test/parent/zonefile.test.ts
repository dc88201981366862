import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireTool } from '../helpers/tools';
import { clusterdns } from './cli';
import { exec } from './exec';

const dir = mkdtempSync(join(tmpdir(), 'clusterdns-zonefile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PARENT_HEAD = `$ORIGIN example.test.
$TTL 3600
@    IN SOA ns.example.test. hostmaster.example.test. 2026112501 3600 600 86400 60
@    IN NS  ns.example.test.
ns   IN A   192.0.2.53
`;

describe('delegate zonefile', () => {
  it('prints the NS set and glue with absolute names and parent.ttl, witness excluded', async () => {
    const r = await clusterdns(['delegate', 'zonefile', '--config', 'test/fixtures/parent/cluster.yaml']);
    expect(r.code).toBe(0);
    const records = r.stdout
      .split('\n')
      .filter((l) => l && !l.startsWith(';'))
      .map((l) => l.split(/\s+/).join(' '));
    expect(records).toEqual([
      'cluster.example.test. 60 IN NS ns1.cluster.example.test.',
      'cluster.example.test. 60 IN NS ns2.cluster.example.test.',
      'cluster.example.test. 60 IN NS ns3.cluster.example.test.',
      'ns1.cluster.example.test. 60 IN A 127.0.7.101',
      'ns1.cluster.example.test. 60 IN AAAA 2001:db8::11',
      'ns2.cluster.example.test. 60 IN A 127.0.7.102',
      'ns3.cluster.example.test. 60 IN A 127.0.7.103',
    ]);
    expect(r.stdout).not.toMatch(/127\.0\.7\.104/);
  });

  it.each([
    // named-checkzone reports missing glue but still exits 0, so the whole output is compared; -i local
    // checks glue without looking the name servers up in the host's own DNS.
    ['named-checkzone', (file: string) => ['-i', 'local', '-k', 'fail', '-n', 'fail', 'example.test', file], /^zone example\.test\/IN: loaded serial 2026112501\nOK\n$/],
    ['nsd-checkzone', (file: string) => ['example.test', file], /^zone example\.test is ok\n$/],
  ])('loads inside a parent zone file in %s', async (tool, args, clean) => {
    const r = await clusterdns(['delegate', 'zonefile', '--config', 'test/fixtures/parent/cluster.yaml']);
    const file = join(dir, `${tool}.db`);
    writeFileSync(file, PARENT_HEAD + r.stdout);
    const check = await exec(requireTool(tool), args(file));
    expect(`${check.stdout}${check.stderr}`).toMatch(clean);
    expect(check.code).toBe(0);
  });

  it('a broken config is one message and exit 2, no stack', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'zone: cluster.example.test\nnodes: []\n');
    const r = await clusterdns(['delegate', 'zonefile', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^clusterdns: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
