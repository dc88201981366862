import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { namedConf } from '../helpers/lab-servers';
import { Processes } from '../helpers/proc';
import { exec as run } from './exec';
import { findTool, requireTool } from '../helpers/tools';

/** A real BIND 9 primary for `example.test` on loopback, updatable with TSIG keys the test generated with tsig-keygen. */
export interface Named {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** Key files as tsig-keygen wrote them: `granted` may update the zone, `granted512` too (hmac-sha512), `readonly` is known but not granted. */
  readonly keys: { granted: string; granted512: string; readonly: string };
  readonly server: string;
  stop(): Promise<void>;
}

export const PARENT = 'example.test';

const ZONE = `$TTL 300
@    IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@    IN NS  ns.example.test.
ns   IN A   127.0.7.1
www  IN A   127.0.7.9
`;

/**
 * named listens only on addresses an interface carries (it scans them), unlike NSD, Knot or Node,
 * which bind any 127/8 address. So the test puts its address on lo for as long as named runs,
 * and takes it off again only if it was not there before.
 */
export async function claimLoopback(host: string): Promise<() => Promise<void>> {
  const ip = findTool('ip');
  if (!ip) throw new Error('ip is not installed: apt-get install -y iproute2 (named needs its test address on lo)');
  const shown = await run(ip, ['-4', 'addr', 'show', 'dev', 'lo']);
  if (shown.stdout.includes(`inet ${host}/`)) return async () => undefined;
  const added = await run(ip, ['addr', 'add', `${host}/32`, 'dev', 'lo']);
  if (added.code !== 0) throw new Error(`named needs ${host} on lo and "ip addr add ${host}/32 dev lo" failed (run the tests as root): ${added.stderr}`);
  return async () => {
    await run(ip, ['addr', 'del', `${host}/32`, 'dev', 'lo']);
  };
}

export async function startNamed(host: string, port: number): Promise<Named> {
  const named = requireTool('named');
  const release = await claimLoopback(host);
  const keygen = requireTool('tsig-keygen');
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-named-'));
  const keys = { granted: join(dir, 'granted.key'), granted512: join(dir, 'granted512.key'), readonly: join(dir, 'readonly.key') };
  for (const [file, name, alg] of [
    [keys.granted, 'clusterdns-key', 'hmac-sha256'],
    [keys.granted512, 'clusterdns-key-512', 'hmac-sha512'],
    [keys.readonly, 'readonly-key', 'hmac-sha256'],
  ]) {
    const r = await run(keygen, ['-a', alg, name]);
    if (r.code !== 0) throw new Error(`tsig-keygen failed: ${r.stderr}`);
    writeFileSync(file, r.stdout);
  }
  writeFileSync(join(dir, 'example.test.db'), ZONE);
  writeFileSync(
    join(dir, 'named.conf'),
    namedConf(dir, host, port, ['recursion no;', 'notify no;', 'allow-transfer { any; };', 'dnssec-validation no;'], `include "${keys.granted}";
include "${keys.granted512}";
include "${keys.readonly}";
zone "${PARENT}" {
  type primary;
  file "${dir}/example.test.db";
  update-policy { grant clusterdns-key zonesub ANY; grant clusterdns-key-512 zonesub ANY; };
};
`),
  );
  const procs = new Processes();
  const p = procs.start(named, ['-g', '-4', '-c', join(dir, 'named.conf')]);
  try {
    await p.waitForOutput(new RegExp(`listening on IPv4 interface lo, ${host.replace(/\./g, '\\.')}#${port}[\\s\\S]*running$`, 'm'), 15_000);
  } catch (e) {
    await procs.stopAll();
    await release();
    throw e;
  }
  return {
    host,
    port,
    dir,
    keys,
    server: `${host}:${port}`,
    async stop() {
      await procs.stopAll();
      await release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Every NS/A/AAAA record at or below `zone`, read by AXFR with dig — independent of the code under
 * test, and it shows glue occluded by the delegation too. Lines are `name ttl type value`, sorted.
 */
export async function readBack(n: { host: string; port: number }, zone: string): Promise<string[]> {
  const r = await run(requireTool('dig'), ['+tcp', '+noall', '+answer', '-p', String(n.port), `@${n.host}`, PARENT, 'AXFR']);
  if (r.code !== 0) throw new Error(`dig AXFR failed: ${r.stdout}${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && ['NS', 'A', 'AAAA'].includes(f[3]) && (f[0] === `${zone}.` || f[0].endsWith(`.${zone}.`)))
    .map((f) => `${f[0]} ${f[1]} ${f[3]} ${f[4]}`)
    .sort();
}

/** Changes the parent behind clusterdns's back, as a second operator would, with BIND's own nsupdate. */
export async function nsupdate(n: Named, keyFile: string, lines: string[]): Promise<void> {
  const script = [`server ${n.host} ${n.port}`, `zone ${PARENT}`, ...lines, 'send', ''].join('\n');
  const r = await run(requireTool('nsupdate'), ['-k', keyFile], { input: script });
  if (r.code !== 0) throw new Error(`nsupdate failed: ${r.stdout}${r.stderr}`);
}

export function keyWithSecret(file: string, secret: string): string {
  return readFileSync(file, 'utf8').replace(/secret "[^"]*"/, `secret "${secret}"`);
}
