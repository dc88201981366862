import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterDnsError } from '../../src/errors';
import { exchange } from '../../src/parent/rfc2136/transport';
import { parseTsigKeyFile, readTsigKeyFile } from '../../src/config/tsig-key';
import { signRequest, verifyResponse } from '../../src/wire/tsig';
import { requireTool } from '../helpers/tools';
import { exec } from './exec';
import { PARENT, startNamed, type Named } from './named';

/** Unit tests for the key file; the MAC itself is proved against BIND, which must accept ours and sign its answers. */
describe('TSIG key file', () => {
  it.each(['hmac-sha256', 'hmac-sha512', 'hmac-sha1', 'hmac-sha384'])('reads what tsig-keygen -a %s writes', async (alg) => {
    const r = await exec(requireTool('tsig-keygen'), ['-a', alg, 'Upd.Key.']);
    const key = parseTsigKeyFile(r.stdout);
    expect(key.name).toBe('upd.key');
    expect(key.algorithm).toBe(alg);
    expect(key.secret.toString('base64')).toBe(/secret "([^"]+)"/.exec(r.stdout)![1]);
  });

  it('keeps a secret that contains // and drops comments around it', () => {
    const secret = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xfc, 0x00]).toString('base64');
    expect(secret).toContain('//');
    const key = parseTsigKeyFile(`# made by hand\nkey "k" { // the key\n algorithm hmac-sha256; /* ok */ secret "${secret}"; };`);
    expect(key.secret.toString('base64')).toBe(secret);
  });

  it.each([
    ['no key clause', 'hello', /no key "name"/],
    ['an unsupported algorithm', 'key "k" { algorithm hmac-sha3; secret "AAAA"; };', /algorithm hmac-sha3 is not supported/],
    ['no secret', 'key "k" { algorithm hmac-sha256; };', /has no base64 secret/],
    ['a key name that is not a domain name', `key "a..b" { algorithm hmac-sha256; secret "AAAA"; };`, /key name "a\.\.b" is not a domain name/],
  ])('rejects a file with %s, naming the fix', (_what, text, message) => {
    const e = (() => {
      try {
        parseTsigKeyFile(text, 'k.key');
      } catch (err) {
        return err as ClusterDnsError;
      }
    })();
    expect(e?.code).toBe('TSIG_KEY');
    expect(e?.message).toMatch(message);
    expect(e?.format()).toMatch(/tsig-keygen/);
  });

  it('a missing file is TSIG_KEY too', () => {
    expect(() => readTsigKeyFile('/nonexistent/k.key')).toThrow(/cannot read it \(ENOENT\)/);
  });
});

describe('TSIG against BIND: signed query, signed answer', () => {
  let named: Named;
  beforeAll(async () => {
    named = await startNamed('127.0.7.4', 5374);
  });
  afterAll(async () => {
    await named?.stop();
  });

  async function signedSoa(keyFile: string) {
    const key = readTsigKeyFile(keyFile);
    const q = dnsPacket.encode({ type: 'query', id: randomInt(0, 0x10000), questions: [{ name: PARENT, type: 'SOA', class: 'IN' }] });
    const signed = signRequest(q, key);
    const raw = await exchange({ host: named.host, port: named.port }, signed.message, { timeoutMs: 3000, failCode: 'PARENT_READ', what: 'SOA' });
    return { key, signed, raw };
  }

  it.each(['granted', 'granted512'] as const)('BIND accepts our signature and we verify its answer (%s)', async (which) => {
    const { key, signed, raw } = await signedSoa(named.keys[which]);
    expect(raw.readUInt16BE(2) & 0xf).toBe(0);
    expect(verifyResponse(raw, key, signed.mac)).toEqual({ ok: true });
  });

  it('a changed byte, another request MAC, or a clock off by more than the fudge fails verification', async () => {
    const { key, signed, raw } = await signedSoa(named.keys.granted);
    const tampered = Buffer.from(raw);
    tampered[13] ^= 0x20; // the question name's first letter, a case the MAC covers
    expect(verifyResponse(tampered, key, signed.mac)).toEqual({ ok: false, reason: 'bad-mac' });
    expect(verifyResponse(raw, key, Buffer.alloc(signed.mac.length))).toEqual({ ok: false, reason: 'bad-mac' });
    expect(verifyResponse(raw, key, signed.mac, Math.floor(Date.now() / 1000) + 3600)).toEqual({ ok: false, reason: 'bad-time' });
    const other = { ...key, secret: Buffer.alloc(32, 1) };
    expect(verifyResponse(raw, other, signed.mac)).toEqual({ ok: false, reason: 'bad-mac' });
  });

  it('a response cut short anywhere, or with a TSIG that runs past its RDATA, is a verdict, never a throw', async () => {
    const { key, signed, raw } = await signedSoa(named.keys.granted);
    for (let len = 0; len < raw.length; len++) {
      const verdict = verifyResponse(raw.subarray(0, len), key, signed.mac);
      expect(['malformed', 'unsigned']).toContain(verdict.ok ? 'ok' : verdict.reason);
    }
    // The TSIG RDATA one byte shorter than its fields: Other Len then points past the RDATA.
    const rdata = 13 + 10 + signed.mac.length + 6; // hmac-sha256 as a wire name, times, MAC, id/error/other len
    const rdlenAt = raw.length - rdata - 2;
    expect(raw.readUInt16BE(rdlenAt)).toBe(rdata);
    const short = Buffer.from(raw);
    short.writeUInt16BE(rdata - 1, rdlenAt);
    expect(verifyResponse(short, key, signed.mac)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyResponse(raw, key, signed.mac)).toEqual({ ok: true });
  });

  it('a wrong secret comes back as BADSIG in the (unsigned) TSIG error field', async () => {
    const text = readFileSync(named.keys.granted, 'utf8').replace(/secret "[^"]*"/, `secret "${Buffer.alloc(32, 3).toString('base64')}"`);
    const key = parseTsigKeyFile(text);
    const q = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name: PARENT, type: 'SOA', class: 'IN' }] });
    const signed = signRequest(q, key);
    const raw = await exchange({ host: named.host, port: named.port }, signed.message, { timeoutMs: 3000, failCode: 'PARENT_READ', what: 'SOA' });
    expect(raw.readUInt16BE(2) & 0xf).toBe(9);
    expect(verifyResponse(raw, key, signed.mac)).toEqual({ ok: false, reason: 'server-error', error: 'BADSIG' });
  });
});
