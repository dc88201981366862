import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { ClusterDnsError } from '../../src/errors';
import { delegate } from '../../src/parent/provider';
import { desiredDelegation } from '../../src/parent/records';
import { rfc2136Provider } from '../../src/parent/rfc2136/provider';
import { readTsigKeyFile } from '../../src/config/tsig-key';
import { startKnot, type Knot } from './knot';
import { keyWithSecret, PARENT, readBack } from './named';
import { DELEGATED, FULL, SHRUNK, ZONE } from './fixtures';


let knot: Knot;

async function apply(config: string, keyFile = knot.keyFile) {
  const p = rfc2136Provider({ server: { host: knot.host, port: knot.port }, parentZone: PARENT, key: readTsigKeyFile(keyFile), timeoutMs: 3000 });
  return delegate(p, desiredDelegation(loadConfig(config)), { apply: true, progress: () => undefined });
}

describe('delegate rfc2136 against a real Knot DNS primary', () => {
  beforeEach(async () => {
    knot = await startKnot('127.0.7.3', 5373);
  });
  afterEach(async () => {
    await knot?.stop();
  });

  it('applies, finds nothing to change the second time, and removes a removed node', async () => {
    await apply(FULL);
    const delegated = await readBack(knot, ZONE);
    expect(delegated).toEqual(DELEGATED);
    expect((await apply(FULL)).plan.changes).toEqual([]);
    const shrunk = await apply(SHRUNK);
    expect(shrunk.plan.changes[0]).toMatchObject({ action: 'delete', name: `ns3.${ZONE}` });
    expect(await readBack(knot, ZONE)).toEqual(delegated.filter((l) => !l.includes('ns3')));
  });

  it('a wrong secret is PARENT_AUTH and the parent keeps its delegation', async () => {
    await apply(FULL);
    const before = await readBack(knot, ZONE);
    const file = join(knot.dir, 'wrong.key');
    writeFileSync(file, keyWithSecret(knot.keyFile, Buffer.alloc(64, 5).toString('base64')));
    const e = await apply(SHRUNK, file).then(
      () => undefined,
      (err: unknown) => err as ClusterDnsError,
    );
    expect(e).toBeInstanceOf(ClusterDnsError);
    expect(e?.code).toBe('PARENT_AUTH');
    expect(e?.message).toMatch(/BADSIG/);
    expect(await readBack(knot, ZONE)).toEqual(before);
  });
});
