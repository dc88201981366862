import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTsigKeyFile } from '../../src/config/tsig-key';
import { Processes } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { exec } from './exec';
import { PARENT } from './named';

/** A real Knot DNS primary for `example.test` on loopback, updatable with one TSIG key (hmac-sha512). */
export interface Knot {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  /** The key file in tsig-keygen's format, which clusterdns reads; Knot gets the same secret in its own syntax. */
  readonly keyFile: string;
  stop(): Promise<void>;
}

const ZONE = `$TTL 300
@    IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@    IN NS  ns.example.test.
ns   IN A   127.0.7.1
`;

export async function startKnot(host: string, port: number): Promise<Knot> {
  const knotd = requireTool('knotd');
  const dir = mkdtempSync(join(tmpdir(), 'clusterdns-knot-'));
  const keyFile = join(dir, 'update.key');
  const generated = await exec(requireTool('tsig-keygen'), ['-a', 'hmac-sha512', 'knot-update']);
  if (generated.code !== 0) throw new Error(`tsig-keygen failed: ${generated.stderr}`);
  writeFileSync(keyFile, generated.stdout);
  const key = parseTsigKeyFile(generated.stdout);
  writeFileSync(join(dir, `${PARENT}.zone`), ZONE);
  writeFileSync(
    join(dir, 'knot.conf'),
    `server:
  rundir: "${dir}"
  listen: ${host}@${port}
log:
  - target: stderr
    any: info
database:
  storage: "${dir}"
control:
  listen: "${dir}/knot.sock"
key:
  - id: ${key.name}
    algorithm: ${key.algorithm}
    secret: ${key.secret.toString('base64')}
acl:
  - id: update
    key: ${key.name}
    action: update
  - id: transfer
    address: 127.0.0.0/8
    action: transfer
zone:
  - domain: ${PARENT}
    storage: "${dir}"
    file: "${PARENT}.zone"
    zonefile-sync: -1
    acl: [update, transfer]
`,
  );
  const procs = new Processes();
  const p = procs.start(knotd, ['-c', join(dir, 'knot.conf')]);
  try {
    await p.waitForOutput(/server started/, 15_000);
    await p.waitForOutput(new RegExp(`\\[${PARENT.replace('.', '\\.')}\\.\\] loaded, serial`), 15_000);
  } catch (e) {
    await procs.stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    host,
    port,
    dir,
    keyFile,
    async stop() {
      await procs.stopAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
