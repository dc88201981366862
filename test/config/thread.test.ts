import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { loadConfigInThread } from '../../src/config/thread';
import { ClusterDnsError } from '../../src/errors';
import { CLI, SECRET } from '../helpers/cluster';
import { run } from '../helpers/proc';

/**
 * The agent loads its config in a short-lived thread (config/thread.ts) so the YAML parser and the
 * schema library never stay on its main thread: what comes back must be what `loadConfig` returns in
 * process — the same config, frozen, DNSSEC keys included — and the same error for a bad file.
 */

const dir = mkdtempSync(join(tmpdir(), 'clusterdns-config-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `zone: cluster.test
secret: "\${THREAD_TEST_SECRET}"
dns: { port: 5300, rateLimit: { exempt: [10.0.0.0/8] } }
nodes:
  - { name: node1, address: 127.0.0.21, privateAddress: 10.0.0.1 }
  - { name: node2, address: 127.0.0.22, address6: "fd00::22" }
services:
  - { name: redis, port: 6379, check: { type: tcp, port: 6379 } }
`;
const ENV = { THREAD_TEST_SECRET: SECRET };

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function failure(p: Promise<unknown>): Promise<ClusterDnsError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ClusterDnsError);
  return e as ClusterDnsError;
}

function inProcess(path: string, env: NodeJS.ProcessEnv): ClusterDnsError {
  try {
    loadConfig(path, env);
  } catch (e) {
    return e as ClusterDnsError;
  }
  throw new Error('loadConfig accepted the file');
}

let key = '';
beforeAll(async () => {
  const r = await run(process.execPath, [CLI, 'dnssec', 'keygen', '--config', write('keygen.yaml', BASE.replace('${THREAD_TEST_SECRET}', SECRET)), '--directory', dir]);
  expect(r.code, r.stderr).toBe(0);
  key = r.stdout.trim();
});

describe('loadConfigInThread', () => {
  it('returns the config loadConfig returns, frozen, DNSSEC keys and ${VAR}s included', async () => {
    const path = write('signed.yaml', `${BASE}dnssec: { keys: [${JSON.stringify(key)}] }\n`);
    const got = await loadConfigInThread(path, ENV);
    expect(got).toEqual(loadConfig(path, ENV));
    expect(got.secret).toBe(SECRET);
    expect(got.dnssec?.keys).toHaveLength(1);
    expect(got.dnssec?.keys[0].privateKey).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got.nodes[1])).toBe(true);
    expect(Object.isFrozen(got.dnssec?.keys[0].timing)).toBe(true);
  });

  it('reads the environment it is given, not the one the thread would inherit', async () => {
    const path = write('env.yaml', BASE);
    process.env.THREAD_TEST_SECRET = SECRET;
    try {
      const e = await failure(loadConfigInThread(path, {}));
      expect([e.message, ...e.details].join('\n')).toContain('THREAD_TEST_SECRET');
    } finally {
      delete process.env.THREAD_TEST_SECRET;
    }
  });

  it.each([
    ['a missing file', join(dir, 'absent.yaml'), 'CONFIG_READ'],
    ['not YAML', 'bad-yaml.yaml', 'CONFIG_PARSE'],
    ['a field wrong', 'bad-field.yaml', 'CONFIG_INVALID'],
  ])('%s: the error loadConfig throws, code, message, details and exit code', async (_what, file, code) => {
    const path = file.startsWith('/') ? file : write(file, file === 'bad-yaml.yaml' ? 'zone: [unclosed\n' : BASE.replace('port: 5300', 'port: seventy'));
    const e = await failure(loadConfigInThread(path, ENV));
    const want = inProcess(path, ENV);
    expect(e.code).toBe(code);
    expect({ code: e.code, message: e.message, details: e.details, exitCode: e.exitCode }).toEqual({ code: want.code, message: want.message, details: want.details, exitCode: want.exitCode });
  });
});
