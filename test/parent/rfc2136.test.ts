import { connect, createServer, type Server, type Socket } from 'node:net';
import { rejection } from '../helpers/errors';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { planDelegation } from '../../src/parent/plan';
import { delegate } from '../../src/parent/provider';
import { desiredDelegation } from '../../src/parent/records';
import { rfc2136Provider } from '../../src/parent/rfc2136/provider';
import { readTsigKeyFile } from '../../src/config/tsig-key';
import { clusterdns } from './cli';
import { DELEGATED, FULL, PLANNED_CREATES, SHRUNK, ZONE } from './fixtures';
import { keyWithSecret, nsupdate, PARENT, readBack, startNamed, type Named } from './named';

const HOST = '127.0.7.1';
const PORT = 5371;

let named: Named;

function provider(keyFile = named.keys.granted, server = { host: HOST, port: PORT }, timeoutMs = 3000) {
  return rfc2136Provider({ server, parentZone: PARENT, key: readTsigKeyFile(keyFile), timeoutMs });
}

async function apply(configFile: string, keyFile?: string) {
  return delegate(provider(keyFile), desiredDelegation(loadConfig(configFile)), { apply: true, progress: () => undefined });
}

describe('delegate rfc2136 against a real BIND 9 primary', () => {
  beforeEach(async () => {
    named = await startNamed(HOST, PORT);
  });
  afterEach(async () => {
    await named?.stop();
  });

  it('plans the whole delegation for an empty parent and changes nothing without --apply', async () => {
    const out = await delegate(provider(), desiredDelegation(loadConfig(FULL)), { apply: false, progress: () => undefined });
    expect(out.applied).toBe(false);
    expect(out.plan.changes.map((c) => `${c.action} ${c.name} ${c.type}`)).toEqual(PLANNED_CREATES);
    expect(await readBack(named, ZONE)).toEqual([]);
  });

  it('applies in one UPDATE, then finds nothing to change the second time', async () => {
    const first = await apply(FULL);
    expect(first.applied).toBe(true);
    expect(await readBack(named, ZONE)).toEqual(DELEGATED);
    const second = await apply(FULL);
    expect(second.plan.changes).toEqual([]);
    expect(second.applied).toBe(false);
    expect(await readBack(named, ZONE)).toEqual(DELEGATED);
  });

  it('reads the delegation back from the referral and its glue, TTLs included', async () => {
    await apply(FULL);
    const read = await provider().read(desiredDelegation(loadConfig(FULL)));
    expect(read.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.values.join(',')}`).sort()).toEqual(
      [
        `${ZONE} 60 NS ns1.${ZONE},ns2.${ZONE},ns3.${ZONE}`,
        `ns1.${ZONE} 60 A 127.0.7.101`,
        `ns1.${ZONE} 60 AAAA 2001:db8::11`,
        `ns2.${ZONE} 60 A 127.0.7.102`,
        `ns3.${ZONE} 60 A 127.0.7.103`,
      ].sort(),
    );
  });

  it('removes a removed node’s glue and NS entry, and the plan lists the delete first', async () => {
    await apply(FULL);
    const out = await apply(SHRUNK);
    expect(out.plan.changes.map((c) => `${c.action} ${c.name} ${c.type}`)).toEqual([`delete ns3.${ZONE} A`, `update ${ZONE} NS`]);
    expect(out.plan.changes[0].why).toMatch(/ns3 is no longer a name server/);
    expect(await readBack(named, ZONE)).toEqual(DELEGATED.filter((l) => !l.includes('ns3')));
  });

  it('replaces a hand-made delegation (seed style: node names, long TTL) and drops its now-unlisted glue', async () => {
    await nsupdate(named, named.keys.granted, [
      `update add ${ZONE} 3600 NS node1.${ZONE}`,
      `update add ${ZONE} 3600 NS ns2.${ZONE}`,
      `update add node1.${ZONE} 3600 A 127.0.7.101`,
      `update add ns2.${ZONE} 3600 A 127.0.7.199`,
    ]);
    const out = await apply(FULL);
    expect(out.plan.changes.map((c) => `${c.action} ${c.name} ${c.type}`)).toEqual([
      `delete node1.${ZONE} A`,
      `update ${ZONE} NS`,
      `update ns2.${ZONE} A`,
      `create ns1.${ZONE} A`,
      `create ns1.${ZONE} AAAA`,
      `create ns3.${ZONE} A`,
    ]);
    expect(out.plan.changes.find((c) => c.name === `ns2.${ZONE}`)?.why).toBe('node node2 address 127.0.7.199 → 127.0.7.102; TTL 3600 → 60 (parent.ttl)');
    expect(await readBack(named, ZONE)).toEqual(DELEGATED);
  });

  it('overwrites stale glue the delegation hides (a name the NS set does not list)', async () => {
    await nsupdate(named, named.keys.granted, [
      `update add ${ZONE} 60 NS ns1.${ZONE}`,
      `update add ns1.${ZONE} 60 A 127.0.7.101`,
      `update add ns3.${ZONE} 60 A 127.0.7.250`,
    ]);
    await apply(FULL);
    expect(await readBack(named, ZONE)).toEqual(DELEGATED);
  });

  it.each([
    ['the glue it deletes got a new address', [`update delete ns3.${ZONE} A`, `update add ns3.${ZONE} 60 A 127.0.7.222`]],
    ['the NS set it replaces got another name server', [`update add ${ZONE} 60 NS ns4.${ZONE}`]],
  ])('does not clobber a change made between plan and apply (%s): the prerequisite fails, the other change stays', async (_what, meanwhile) => {
    await apply(FULL);
    const p = provider();
    const desired = desiredDelegation(loadConfig(SHRUNK));
    const plan = planDelegation(desired, await p.read(desired));
    await nsupdate(named, named.keys.granted, meanwhile);
    const changedMeanwhile = await readBack(named, ZONE);
    expect(changedMeanwhile).not.toEqual(DELEGATED);
    const e = await rejection(p.apply(plan, () => undefined));
    expect(e.code).toBe('PARENT_APPLY');
    expect(e.message).toMatch(/changed after it was read \((NXRRSET|YXRRSET)/);
    expect(await readBack(named, ZONE)).toEqual(changedMeanwhile);
  });

  it('signs with hmac-sha512 too', async () => {
    await apply(FULL, named.keys.granted512);
    expect(await readBack(named, ZONE)).toEqual(DELEGATED);
  });

  describe('the command', () => {
    const args = (config: string, key = named.keys.granted) => ['delegate', 'rfc2136', '--config', config, '--server', `${HOST}:${PORT}`, '--zone', PARENT, '--tsig-key-file', key];

    it('prints the plan and changes nothing, applies with --apply, then reports no changes', async () => {
      const plan = await clusterdns(args(FULL));
      expect(plan.code).toBe(0);
      expect(plan.stdout).toMatch(/^Plan for the delegation of cluster\.example\.test in zone example\.test on 127\.0\.7\.1:5371 \(RFC 2136\): 0 to delete, 0 to update, 5 to create\n/);
      expect(plan.stdout).toMatch(/\+ create ns1\.cluster\.example\.test\.\n {6}60 AAAA 2001:db8::11\n/);
      expect(plan.stdout).toMatch(/Nothing was changed: run again with --apply/);
      expect(await readBack(named, ZONE)).toEqual([]);

      const applied = await clusterdns([...args(FULL), '--apply']);
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(/Applied: 127\.0\.7\.1:5371 applied 5 changes to example\.test in one UPDATE/);
      expect(applied.stderr).toMatch(/sending one UPDATE \(5 RRset changes\) signed with TSIG key clusterdns-key/);
      expect(await readBack(named, ZONE)).toEqual(DELEGATED);

      const again = await clusterdns([...args(FULL), '--apply', '--json']);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ zone: `${ZONE}.`, applied: false, changes: [], result: null });
    });

    it('a wrong key is one line on stderr and exit 2, no stack trace', async () => {
      await apply(FULL);
      const file = join(named.dir, 'wrong.key');
      writeFileSync(file, keyWithSecret(named.keys.granted, Buffer.alloc(32, 9).toString('base64')));
      const r = await clusterdns([...args(SHRUNK, file), '--apply']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^clusterdns: 127\.0\.7\.1:5371 rejected the signature of TSIG key clusterdns-key \(NOTAUTH\/BADSIG\)/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await readBack(named, ZONE)).toEqual(DELEGATED);
    });

    it('--zone that does not contain the cluster zone is a usage error', async () => {
      const r = await clusterdns([...args(FULL).slice(0, -4), '--zone', 'other.test', '--tsig-key-file', named.keys.granted]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--zone other\.test is not a parent of the cluster zone cluster\.example\.test/);
    });
  });

  describe('a failed apply leaves the parent as it was', () => {
    beforeEach(async () => {
      await apply(FULL);
    });

    it.each([
      ['a wrong secret', () => keyWithSecret(named.keys.granted, Buffer.alloc(32, 7).toString('base64')), 'PARENT_AUTH', /BADSIG.*the secret differs/],
      ['a key the server does not know', () => keyWithSecret(named.keys.granted, Buffer.alloc(32, 7).toString('base64')).replace('clusterdns-key', 'nobody-key'), 'PARENT_AUTH', /does not know TSIG key nobody-key.*BADKEY/],
      ['a key the update-policy does not grant', () => readFileSync(named.keys.readonly, 'utf8'), 'PARENT_AUTH', /refused the UPDATE.*REFUSED/],
    ])('%s', async (_what, keyText, code, message) => {
      const file = join(named.dir, 'test.key');
      writeFileSync(file, keyText());
      const e = await rejection(apply(SHRUNK, file));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/the parent was not changed/);
      expect(await readBack(named, ZONE)).toEqual(DELEGATED);
    });

    it('an UPDATE that goes unanswered is PARENT_TIMEOUT, saying to read the parent again', async () => {
      // Answers queries through to BIND but swallows UPDATEs, as a firewall dropping them would.
      const held: Socket[] = [];
      const proxy = createServer((client) => {
        held.push(client);
        client.once('data', (frame) => {
          if (((frame[4] >> 3) & 0xf) === 5) return;
          const upstream = connect({ host: HOST, port: PORT }, () => upstream.write(frame));
          held.push(upstream);
          upstream.pipe(client);
        });
      });
      await new Promise<void>((r) => proxy.listen(5375, '127.0.7.2', r));
      try {
        const p = rfc2136Provider({ server: { host: '127.0.7.2', port: 5375 }, parentZone: PARENT, key: readTsigKeyFile(named.keys.granted), timeoutMs: 500 });
        const e = await rejection(delegate(p, desiredDelegation(loadConfig(SHRUNK)), { apply: true, progress: () => undefined }));
        expect(e.code).toBe('PARENT_TIMEOUT');
        expect(e.format()).toMatch(/did not answer the UPDATE within 500 ms[\s\S]*run the plan again/);
        expect(await readBack(named, ZONE)).toEqual(DELEGATED);
      } finally {
        held.forEach((s) => s.destroy());
        await new Promise((r) => proxy.close(r));
      }
    });

    it('a zone the server is not authoritative for fails before anything is sent', async () => {
      const p = rfc2136Provider({ server: { host: HOST, port: PORT }, parentZone: 'other.test', key: readTsigKeyFile(named.keys.granted), timeoutMs: 3000 });
      const e = await rejection(delegate(p, desiredDelegation(loadConfig(FULL)), { apply: true, progress: () => undefined }));
      expect(e.code).toBe('PARENT_NOT_FOUND');
      expect(await readBack(named, ZONE)).toEqual(DELEGATED);
    });
  });
});

describe('delegate rfc2136 against a server that never answers', () => {
  let silent: Server;
  const held: Array<{ destroy(): void }> = [];
  beforeAll(async () => {
    silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(5372, '127.0.7.2', r));
  });
  afterAll(async () => {
    held.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
  });

  it('gives PARENT_TIMEOUT within the timeout', async () => {
    const p = rfc2136Provider({
      server: { host: '127.0.7.2', port: 5372 },
      parentZone: PARENT,
      key: { name: 'k', algorithm: 'hmac-sha256', secret: Buffer.alloc(32) },
      timeoutMs: 300,
    });
    const started = Date.now();
    const e = await rejection(p.read(desiredDelegation(loadConfig(FULL))));
    expect(e.code).toBe('PARENT_TIMEOUT');
    expect(e.message).toMatch(/did not answer .* within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
