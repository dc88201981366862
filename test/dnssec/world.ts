import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsdConf, unboundConf, waitForDns } from '../helpers/lab-servers';
import { Processes, type Started } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { exec } from '../parent/exec';

/**
 * A signed Internet on loopback (block 127.0.102.0/24): NSD serving a root zone and the parent zone
 * `test.`, both signed with BIND's dnssec-signzone, and unbound validating from the root's key.
 * `stop()` in afterAll kills every process and removes the files.
 */
export const ROOT = '127.0.102.10';
export const PARENT = '127.0.102.11';
export const RESOLVER = '127.0.102.53';

async function run(tool: string, args: string[], cwd?: string): Promise<string> {
  const r = await exec(requireTool(tool), cwd ? args.map((a) => a.replace('{dir}', cwd)) : args);
  if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export class SignedWorld {
  readonly dir = mkdtempSync(join(tmpdir(), 'clusterdns-signed-world-'));
  readonly procs = new Processes();
  private servers = new Map<string, Started>();
  unbound: Started | undefined;
  /** The root's DNSKEY record (the resolver's trust anchor), as text. */
  rootKey = '';
  /** The parent's DNSKEY record, as text. */
  parentKey = '';

  /** Makes a key for `zone` with dnssec-keygen, returns its base path. */
  private async keygen(zone: string, dir: string): Promise<string> {
    const base = (await run('dnssec-keygen', ['-K', dir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', zone])).trim();
    return join(dir, base);
  }

  /** Signs `text` for `zone` with a fresh key; returns the signed file and the key's DS line. */
  private async sign(name: string, zone: string, text: string): Promise<{ signed: string; ds: string; key: string }> {
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    const key = await this.keygen(zone, dir);
    writeFileSync(join(dir, 'zone'), `${text}$INCLUDE ${key}.key\n`);
    await run('dnssec-signzone', ['-z', '-d', dir, '-K', dir, '-o', zone, '-f', join(dir, 'zone.signed'), join(dir, 'zone'), `${key}.key`]);
    const ds = (await run('dnssec-dsfromkey', ['-2', `${key}.key`])).trim();
    return { signed: join(dir, 'zone.signed'), ds, key: readFileSync(`${key}.key`, 'utf8').split('\n').find((l) => /DNSKEY/.test(l) && !l.startsWith(';'))! };
  }

  private async nsd(name: string, address: string, zone: string, zonefile: string): Promise<void> {
    const dir = join(this.dir, name);
    writeFileSync(join(dir, 'nsd.conf'), nsdConf(dir, address, zone, zonefile));
    const old = this.servers.get(name);
    if (old) {
      old.kill('SIGTERM');
      await old.exited;
    }
    const started = this.procs.start(requireTool('nsd'), ['-d', '-c', join(dir, 'nsd.conf')]);
    this.servers.set(name, started);
    await waitForDns(address, zone, started);
  }

  /**
   * Signs and serves the parent `test.` with this delegation of `zone` (NS, glue and the DS lines
   * given, as a parent operator would paste them), then the root with the parent's DS.
   */
  async start(delegation: string): Promise<void> {
    const parent = await this.sign(
      'parent',
      'test',
      ['$TTL 60', 'test. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 5', 'test. IN NS ns.test.', `ns.test. IN A ${PARENT}`, delegation, ''].join('\n'),
    );
    await this.nsd('parent', PARENT, 'test.', parent.signed);
    this.parentKey = parent.key;
    if (this.rootKey) return;
    const root = await this.sign(
      'root',
      '.',
      ['$TTL 60', '. IN SOA rootns. hostmaster.root. 1 3600 600 86400 5', '. IN NS rootns.', `rootns. IN A ${ROOT}`, 'test. IN NS ns.test.', `ns.test. IN A ${PARENT}`, parent.ds, ''].join('\n'),
    );
    this.rootKey = root.key;
    await this.nsd('root', ROOT, '.', root.signed);
  }

  /** Re-signs the parent with another delegation; the root's DS for `test.` must stay valid, so the parent keeps a key per run. */
  async restartParent(delegation: string): Promise<void> {
    const dir = join(this.dir, 'parent');
    const text = ['$TTL 60', 'test. IN SOA ns.test. hostmaster.test. 2 3600 600 86400 5', 'test. IN NS ns.test.', `ns.test. IN A ${PARENT}`, delegation, ''].join('\n');
    const include = readFileSync(join(dir, 'zone'), 'utf8').split('\n').find((l) => l.startsWith('$INCLUDE'))!;
    writeFileSync(join(dir, 'zone'), `${text}${include}\n`);
    await run('dnssec-signzone', ['-z', '-d', dir, '-K', dir, '-o', 'test', '-f', join(dir, 'zone.signed'), join(dir, 'zone'), include.split(' ')[1]]);
    await this.nsd('parent', PARENT, 'test.', join(dir, 'zone.signed'));
  }

  /** (Re)starts unbound with an empty cache, validating from the root key. */
  async startUnbound(): Promise<void> {
    if (this.unbound) {
      this.unbound.kill('SIGTERM');
      await this.unbound.exited;
    }
    const dir = join(this.dir, 'unbound');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'root.hints'), `. 3600 IN NS rootns.\nrootns. 3600 IN A ${ROOT}\n`);
    writeFileSync(join(dir, 'root.key'), `${this.rootKey}\n`);
    writeFileSync(
      join(dir, 'unbound.conf'),
      unboundConf({
        dir,
        address: RESOLVER,
        server: [
          'module-config: "validator iterator"',
          `trust-anchor-file: "${dir}/root.key"`,
          `root-hints: "${dir}/root.hints"`,
          'val-log-level: 2',
          'cache-max-ttl: 1',
          'cache-max-negative-ttl: 1',
          'infra-host-ttl: 2',
        ],
      }),
    );
    this.unbound = this.procs.start(requireTool('unbound'), ['-d', '-c', join(dir, 'unbound.conf')]);
    await waitForDns(RESOLVER, 'test', this.unbound);
  }

  /** A delv trust-anchors file with the root key. */
  anchorsFile(): string {
    const fields = this.rootKey.split(/\s+/);
    const at = fields.indexOf('DNSKEY');
    const [flags, proto, alg, ...key] = fields.slice(at + 1);
    const owner = fields[0];
    const path = join(this.dir, 'anchors.conf');
    writeFileSync(path, `trust-anchors { "${owner}" static-key ${flags} ${proto} ${alg} "${key.join('')}"; };\n`);
    return path;
  }

  async stop(): Promise<void> {
    await this.procs.stopAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
