import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTsigKeyFile } from '../../src/config/tsig-key';
import { loadConfig } from '../../src/config/load';
import { Algorithm, baseName, formatKeyFiles, generateKey } from '../../src/dnssec/keys';
import { delegate, type ParentZoneProvider } from '../../src/parent/provider';
import { desiredDelegation } from '../../src/parent/records';
import { rfc2136Provider } from '../../src/parent/rfc2136/provider';
import { route53Provider } from '../../src/parent/route53/provider';
import { requireTool } from '../helpers/tools';
import { run } from '../helpers/proc';
import { clusterdns } from '../parent/cli';
import { exec } from '../parent/exec';
import { ZONE } from '../parent/fixtures';
import { startKnot, type Knot } from '../parent/knot';
import { PARENT, startNamed, type Named } from '../parent/named';
import { Route53Standin } from '../parent/route53-standin';

/**
 * `delegate` with `dnssec` set: the DS set goes in with NS and glue, in the same change, and goes
 * away when `dnssec` is removed. Real BIND and Knot primaries and the Route53 stand-in, on 127.0.103.x.
 */

const dir = mkdtempSync(join(tmpdir(), 'cdns-delegate-ds-'));
const FIXTURE = readFileSync('test/fixtures/parent/cluster.yaml', 'utf8');

function keyFile(name: string, activateIn = 0): string {
  const now = Math.floor(Date.now() / 1000);
  const k = generateKey(ZONE, Algorithm.ECDSAP256SHA256, 257, { created: now, publish: now, activate: now + activateIn });
  const base = join(dir, `${name}-${baseName(k)}`);
  writeFileSync(`${base}.key`, formatKeyFiles(k).key);
  writeFileSync(`${base}.private`, formatKeyFiles(k).private);
  return base;
}

const KEY = keyFile('old');
const NEXT = keyFile('next', 86400);
function config(name: string, keys: string[]): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `${FIXTURE}${keys.length ? `dnssec: { keys: ${JSON.stringify(keys)} }\n` : ''}`);
  return path;
}
const SIGNED = config('signed', [KEY]);
const ROLLING = config('rolling', [KEY, NEXT]);
const UNSIGNED = config('unsigned', []);

/** What BIND's dnssec-dsfromkey says the DS is, as `tag alg 2 HEX`. */
async function bindDs(base: string): Promise<string> {
  const r = await exec(requireTool('dnssec-dsfromkey'), ['-2', `${base}.key`]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split(/\s+/).slice(-4).join(' ').toUpperCase();
}

/** DS and NS lines at the zone as the parent serves them (AXFR), `TYPE data`. */
async function atCut(server: { host: string; port: number }): Promise<string[]> {
  const r = await run(requireTool('dig'), ['+tcp', '+noall', '+answer', '-p', String(server.port), `@${server.host}`, PARENT, 'AXFR']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === `${ZONE}.` && (f[3] === 'DS' || f[3] === 'NS'))
    .map((f) => (f[3] === 'DS' ? `DS ${f[4]} ${f[5]} ${f[6]} ${f.slice(7).join('').toUpperCase()}` : `NS ${f[4]}`))
    .sort();
}

const NS = ['ns1', 'ns2', 'ns3'].map((n) => `NS ${n}.${ZONE}.`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function plan(p: ParentZoneProvider, configPath: string) {
  const out = await delegate(p, desiredDelegation(loadConfig(configPath)), { apply: true, progress: () => undefined });
  return out.plan.changes.map((c) => `${c.action} ${c.name} ${c.type}`);
}

describe.each([
  ['BIND', '127.0.103.1', 5301],
  ['Knot', '127.0.103.2', 5302],
])('delegate rfc2136 with dnssec against %s', (kind, host, port) => {
  let server: Named | Knot;
  beforeAll(async () => {
    server = kind === 'BIND' ? await startNamed(host, port) : await startKnot(host, port);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });
  const provider = () =>
    rfc2136Provider({ server: { host, port }, parentZone: PARENT, key: readTsigKeyFile('keys' in server ? server.keys.granted : server.keyFile), timeoutMs: 3000 });

  it('adds the DS with NS and glue in one update, rolls it to two keys, and removes it when dnssec goes', async () => {
    expect(await plan(provider(), SIGNED)).toContain(`create ${ZONE} DS`);
    expect(await atCut({ host, port })).toEqual([`DS ${await bindDs(KEY)}`, ...NS].sort());
    expect(await plan(provider(), SIGNED)).toEqual([]);
    expect(await plan(provider(), ROLLING)).toEqual([`update ${ZONE} DS`]);
    expect(await atCut({ host, port })).toEqual([`DS ${await bindDs(KEY)}`, `DS ${await bindDs(NEXT)}`, ...NS].sort());
    expect(await plan(provider(), UNSIGNED)).toEqual([`delete ${ZONE} DS`]);
    expect(await atCut({ host, port })).toEqual(NS);
  });
});

describe('delegate route53 with dnssec against the Route53 stand-in', () => {
  const ZONE_ID = 'Z0PARENT0DS';
  let standin: Route53Standin;
  const env: Record<string, string | undefined> = {};
  beforeAll(async () => {
    for (const [k, v] of Object.entries({ AWS_ACCESS_KEY_ID: 'AKIASTANDIN0000TEST', AWS_SECRET_ACCESS_KEY: 'standin', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' })) {
      env[k] = process.env[k];
      process.env[k] = v;
    }
    standin = new Route53Standin();
    standin.addZone(ZONE_ID, 'example.test');
    await standin.start('127.0.103.3');
  });
  afterAll(async () => {
    await standin?.stop();
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('the DS record set is created in the same change batch as NS and glue, and deleted without dnssec', async () => {
    const p = () => route53Provider({ hostedZoneId: ZONE_ID, endpointUrl: standin.url, waitTimeoutMs: 5000, pollIntervalMs: 5 });
    const batches = standin.count('ChangeResourceRecordSets');
    expect(await plan(p(), SIGNED)).toContain(`create ${ZONE} DS`);
    expect(standin.count('ChangeResourceRecordSets')).toBe(batches + 1);
    const ds = standin.records(ZONE_ID).filter((l) => l.startsWith(`${ZONE}. 60 DS `));
    expect(ds).toEqual([`${ZONE}. 60 DS ${await bindDs(KEY)}`]);
    expect(await plan(p(), SIGNED)).toEqual([]);
    expect(await plan(p(), UNSIGNED)).toEqual([`delete ${ZONE} DS`]);
    expect(standin.records(ZONE_ID).filter((l) => / DS /.test(l))).toEqual([]);
  });
});

describe('delegate zonefile with dnssec', () => {
  it('prints the DS lines dnssec-dsfromkey would, after the NS set', async () => {
    const r = await clusterdns(['delegate', 'zonefile', '--config', ROLLING]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l && !l.startsWith(';'))
      .map((l) => l.split(/\s+/).join(' '));
    const ds = lines.filter((l) => l.includes(' DS '));
    expect(ds.sort()).toEqual([`${ZONE}. 60 IN DS ${await bindDs(KEY)}`, `${ZONE}. 60 IN DS ${await bindDs(NEXT)}`].sort());
    expect(lines.findIndex((l) => l.includes(' DS '))).toBeGreaterThan(lines.findIndex((l) => l.includes(' NS ')));
    const plain = await clusterdns(['delegate', 'zonefile', '--config', UNSIGNED]);
    expect(plain.stdout).not.toMatch(/ DS /);
  });
});
