import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, SECRET } from '../helpers/cluster';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * Every config key added with the internet hardening, private names, discovery and DNSSEC, given
 * wrong types, extremes and contradictions through `clusterdns config check`: exit 2 with the field
 * named and no stack trace, or exit 0 only for a config the agent can run. Binds nothing.
 */

const dir = mkdtempSync(join(tmpdir(), 'clusterdns-check-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `zone: c.test\nsecret: "${SECRET}"\ndns: { port: 5300 }\npeer: { port: 5301 }\nhttp: { port: 5302 }\nnodes:\n  - { name: a, address: 127.0.0.1, privateAddress: 10.0.0.1 }\n`;
/** Key base names, made in beforeAll: a CSK, a ZSK, a CSK that activates in 30 days, an RSA key. */
const keys = { csk: '', zsk: '', later: '', rsa: '', otherZone: '' };

async function keygen(args: string[], config = BASE): Promise<string> {
  const c = join(dir, `keygen-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(c, config);
  const r = await run(process.execPath, [CLI, 'dnssec', 'keygen', '--config', c, '--directory', dir, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  keys.csk = await keygen([]);
  keys.zsk = await keygen(['--zsk']);
  keys.later = await keygen(['--activate', '+30d']);
  keys.otherZone = await keygen([], BASE.replace('zone: c.test', 'zone: other.test'));
  const r = await run(requireTool('dnssec-keygen'), ['-K', dir, '-a', 'RSASHA256', '-b', '2048', '-f', 'KSK', 'c.test']);
  expect(r.code, r.stderr).toBe(0);
  keys.rsa = join(dir, r.stdout.trim());
  writeFileSync(join(dir, 'secret-a'), `${SECRET}-a\n`);
});

/** [case, YAML appended to BASE (a function for key paths), field and message expected]. */
const bad: [string, () => string, RegExp][] = [
  ['rateLimit not a map', () => 'dns: { rateLimit: 5 }', /dns\.rateLimit: .*expected object/],
  ['responsesPerSecond a string', () => 'dns: { rateLimit: { responsesPerSecond: "x" } }', /dns\.rateLimit\.responsesPerSecond: /],
  ['responsesPerSecond negative', () => 'dns: { rateLimit: { responsesPerSecond: -1 } }', /dns\.rateLimit\.responsesPerSecond: must be ≥ 0/],
  ['responsesPerSecond huge', () => 'dns: { rateLimit: { responsesPerSecond: 1e12 } }', /dns\.rateLimit\.responsesPerSecond: /],
  ['slip a fraction', () => 'dns: { rateLimit: { slip: 1.5 } }', /dns\.rateLimit\.slip: /],
  ['slip too large', () => 'dns: { rateLimit: { slip: 11 } }', /dns\.rateLimit\.slip: must be 0–10/],
  ['ipv4PrefixLength 33', () => 'dns: { rateLimit: { ipv4PrefixLength: 33 } }', /dns\.rateLimit\.ipv4PrefixLength: must be 8–32/],
  ['ipv6PrefixLength 129', () => 'dns: { rateLimit: { ipv6PrefixLength: 129 } }', /dns\.rateLimit\.ipv6PrefixLength: must be 16–128/],
  ['exempt a string', () => 'dns: { rateLimit: { exempt: "10.0.0.0/8" } }', /dns\.rateLimit\.exempt: .*expected array/],
  ['exempt a bad prefix', () => 'dns: { rateLimit: { exempt: ["10.0.0.0/99"] } }', /dns\.rateLimit\.exempt\[0\]: .*0–32/],
  ['exempt a word', () => 'dns: { rateLimit: { exempt: [zz] } }', /dns\.rateLimit\.exempt\[0\]: "zz" is not an address or prefix/],
  ['internalFrom a string', () => 'dns: { internalFrom: "10.0.0.0/8" }', /dns\.internalFrom: internalFrom must be a list/],
  ['internalFrom empty', () => 'dns: { internalFrom: [] }', /dns\.internalFrom: list at least one prefix/],
  ['internalFrom a number', () => 'dns: { internalFrom: [5] }', /dns\.internalFrom\[0\]: must be a prefix/],
  ['internalFrom two slashes', () => 'dns: { internalFrom: ["10.0.0.0/8/9"] }', /dns\.internalFrom\[0\]: "10\.0\.0\.0\/8\/9" is not a client prefix/],
  ['internalFrom without private addresses', () => '', /dns\.internalFrom: restricts/],
  ['privateAddress not IPv4', () => '', /nodes\[0\]\.privateAddress: must be an IPv4 address/],
  ['privateAddress6 not IPv6', () => '', /nodes\[0\]\.privateAddress6: must be an IPv6 address/],
  ['privateAddress shared by two nodes', () => '  - { name: b, address: 127.0.0.2, privateAddress: 10.0.0.1 }\n', /nodes\[1\]: address 10\.0\.0\.1 is also used by a/],
  ['a peerAddress that is another node\'s privateAddress', () => '  - { name: b, address: 127.0.0.2, peerAddress: 10.0.0.1 }\n', /nodes\[1\]: address 10\.0\.0\.1 is also used by a — every node needs its own address/],
  // Addresses are compared as addresses, not strings: each of these is one address written two ways.
  ['address6 of two nodes, written two ways', () => '  - { name: b, address: 127.0.0.2, address6: "fd00::1" }\n  - { name: c, address: 127.0.0.3, address6: "fd00:0::1" }\n', /nodes\[2\]: address fd00:0::1 is also used by b \(written fd00::1\) — every node needs its own address/],
  ['privateAddress6 of two nodes, in capitals and with leading zeros', () => '  - { name: b, address: 127.0.0.2, privateAddress6: "FD00::00AB" }\n  - { name: c, address: 127.0.0.3, privateAddress6: "fd00::ab" }\n', /nodes\[2\]: address fd00::ab is also used by b \(written FD00::00AB\)/],
  ['an IPv4-mapped address6 that is another node\'s privateAddress', () => '  - { name: b, address: 127.0.0.2, address6: "::ffff:10.0.0.1" }\n', /nodes\[1\]: address ::ffff:10\.0\.0\.1 is also used by a \(written 10\.0\.0\.1\)/],
  ['a listen address that is another node\'s address', () => '  - { name: b, address: 127.0.0.2, listen: [127.0.0.2, 10.0.0.1] }\n', /nodes\[1\]\.listen\[1\]: 10\.0\.0\.1 is a's address \(privateAddress\): b's agent cannot bind it/],
  ['a listen address that is another node\'s address6, written otherwise', () => '  - { name: b, address: 127.0.0.2, address6: "fd00::b" }\n  - { name: c, address: 127.0.0.3, listen: [127.0.0.3, "FD00:0:0::B"] }\n', /nodes\[2\]\.listen\[1\]: FD00:0:0::B is b's address \(address6, written fd00::b\)/],
  ['address6 with a zone index', () => '  - { name: b, address: 127.0.0.2, address6: "fe80::1%eth0" }\n', /nodes\[1\]\.address6: goes into AAAA records, where a zone index \(%eth0\) has no meaning/],
  ['http.listen on one node\'s address written otherwise, with two nodes', () => '  - { name: b, address: 127.0.0.2, address6: "fd00::b" }\nhttp: { port: 5302, listen: ["fd00:0::b"] }', /http\.listen\[0\]: fd00:0::b is b's address, and every node listens on http\.listen/],
  ['http.listen a string', () => 'http: { listen: "10.0.0.1" }', /http\.listen: .*expected array/],
  ['http.listen not an address', () => 'http: { listen: [localhost] }', /http\.listen\[0\]: must be an IPv4 or IPv6 address/],
  ['http.listen empty', () => 'http: { listen: [] }', /http\.listen: list at least one address/],
  ['http.listen on one node\'s address, with two nodes', () => '  - { name: b, address: 127.0.0.2, privateAddress: 10.0.0.2 }\nhttp: { port: 5302, listen: [10.0.0.1] }', /http\.listen\[0\]: 10\.0\.0\.1 is a's address, and every node listens on http\.listen, so the others cannot start/],
  ['http.port on the DNS port (TCP on the private address)', () => 'http: { port: 5300 }', /http\.port: 5300 is also dns\.port, and node a would listen on both at 10\.0\.0\.1 \(TCP\)/],
  ['peer.port on the DNS port (UDP)', () => 'peer: { port: 5300 }', /peer\.port: 5300 is also dns\.port, .*\(UDP\)/],
  ['secret an empty list', () => 'SECRET:[]', /secret: list at least one secret/],
  ['secret a number', () => 'SECRET:5', /secret: secret must be a string or a list of strings/],
  ['secret listed twice', () => `SECRET:["${SECRET}", "${SECRET}"]`, /secret\[1\]: is listed twice/],
  ['a short secret in a rotation list', () => `SECRET:["${SECRET}", "short"]`, /secret\[1\]: .*needs at least 32/],
  ['secret and secretFile both', () => `secretFile: secret-a`, /secret: give either secret or secretFile, not both/],
  ['secretFile a number', () => 'SECRETFILE:5', /secretFile: secretFile must be a file name, or a list/],
  ['secretFile an empty list', () => 'SECRETFILE:[]', /secretFile: list at least one file/],
  ['secretFile missing', () => 'SECRETFILE:[secret-a, nowhere]', /secretFile: cannot read nowhere \(ENOENT\)/],
  ['peer.profile unknown', () => 'peer: { profile: LAN }', /peer\.profile: peer\.profile must be lan or wan/],
  ['peer.profile a number', () => 'peer: { profile: 5 }', /peer\.profile: peer\.profile must be lan or wan/],
  ['peer.profile wan with a downAfter under two intervals', () => 'peer: { profile: wan, downAfter: 900ms }', /peer\.downAfter: must be at least two intervals \(1000 ms\)/],
  ['discovery.port 0', () => 'discovery: { port: 0 }', /discovery\.port: must be a port number/],
  ['discovery.enabled a string', () => 'discovery: { enabled: "yes" }', /discovery\.enabled: .*expected boolean/],
  ['discovery.password empty', () => 'discovery: { password: "" }', /discovery\.password: password must not be empty/],
  ['discovery unknown key', () => 'discovery: { prot: 8001 }', /discovery: unknown key "prot"/],
  ['discovery.port on the DNS port', () => 'discovery: { enabled: true, port: 5300 }', /discovery\.port: 5300 is also dns\.port, .*\(TCP\)/],
  ['discovery.port on the HTTP port', () => 'discovery: { enabled: true, port: 5302 }', /discovery\.port: 5302 is also http\.port, and node a would listen on both at 10\.0\.0\.1 \(TCP\)/],
  ['dnssec.keys empty', () => 'dnssec: { keys: [] }', /dnssec\.keys: list at least one key/],
  ['dnssec.keys a string', () => 'dnssec: { keys: x }', /dnssec\.keys: keys must be a list of key files/],
  ['dnssec key missing', () => 'dnssec: { keys: [/nonexistent/K] }', /dnssec\.keys\[0\]: cannot read \/nonexistent\/K\.key \(ENOENT\)/],
  ['dnssec key of another zone', () => `dnssec: { keys: ["${keys.otherZone}"] }`, /dnssec\.keys\[0\]: .* is a key for other\.test, not for c\.test/],
  ['dnssec key of an unsupported algorithm', () => `dnssec: { keys: ["${keys.rsa}"] }`, /dnssec\.keys\[0\]: .*algorithm 8 is not supported/],
  ['dnssec ZSK alone', () => `dnssec: { keys: ["${keys.zsk}"] }`, /dnssec\.keys: no key has the SEP flag/],
  ['dnssec key listed twice', () => `dnssec: { keys: ["${keys.csk}", "${keys.csk}.private"] }`, /dnssec\.keys\[1\]: .* is the same key as dnssec\.keys\[0\] — list each key once/],
  ['dnssec: the only SEP key activates in 30 days', () => `dnssec: { keys: ["${keys.later}"] }`, /dnssec\.keys: no SEP key \(a CSK or KSK\) is active now/],
  ['dnssec.validity negative', () => `dnssec: { keys: ["${keys.csk}"], validity: -1 }`, /dnssec\.validity: "-1" is not a time/],
  ['dnssec.validity under 3h', () => `dnssec: { keys: ["${keys.csk}"], validity: 2h }`, /dnssec\.validity: must be at least 3h/],
  ['dnssec.validity past 32-bit times', () => `dnssec: { keys: ["${keys.csk}"], validity: 99999999999999999999d }`, /dnssec\.validity: must be at most 3660d/],
  ['dnssec.validity 30000 days', () => `dnssec: { keys: ["${keys.csk}"], validity: 30000d }`, /dnssec\.validity: must be at most 3660d/],
  ['dnssec.refresh 0', () => `dnssec: { keys: ["${keys.csk}"], refresh: 0 }`, /dnssec\.refresh: must be shorter than validity/],
  ['dnssec.refresh as long as validity', () => `dnssec: { keys: ["${keys.csk}"], validity: 1d, refresh: 24h }`, /dnssec\.refresh: must be shorter than validity/],
  ['dnssec null', () => 'dnssec: null', /dnssec: .*expected object/],
  // RFC 6781 §4.4.2: a signature due at 10200 s is looked for every 2550 s, so it was served 1,949 s after it expired.
  ['dnssec.refresh close to validity', () => `dnssec: { keys: ["${keys.csk}"], validity: 3h, refresh: 10200 }`, /dnssec\.refresh: .*validity − refresh must be at least 6210 s, and is 600 s.*RFC 6781 §4\.4\.2\) — write refresh: 5712 \(or less\)/],
  ['dnssec.validity 3h under a TTL of an hour', () => `ttl: 3600\ndnssec: { keys: ["${keys.csk}"], validity: 3h }`, /dnssec\.validity: 10800 s with refresh left out .*\(ttl: 3600 s\).* — write validity: 19199 \(or more\)/],
];

/** Cases that change BASE's node or secret line instead of appending (see checkCase). */
function text(name: string, extra: string): string {
  if (name === 'privateAddress not IPv4') return 'REPLACE-NODE:privateAddress: fd00::1';
  if (name === 'privateAddress6 not IPv6') return 'REPLACE-NODE:privateAddress6: 10.0.0.6';
  if (name === 'internalFrom without private addresses') return 'REPLACE-NODE:address: 127.0.0.3\nINTERNALFROM';
  return extra;
}

async function checkCase(name: string, extra: string) {
  const t = text(name, extra);
  let base = BASE;
  let tail = t;
  if (t.startsWith('REPLACE-NODE:')) {
    const [field, more] = t.slice('REPLACE-NODE:'.length).split('\n');
    base = field.startsWith('address:') ? BASE.replace(', privateAddress: 10.0.0.1', '') : BASE.replace('privateAddress: 10.0.0.1', field);
    tail = more === 'INTERNALFROM' ? 'dns: { port: 5300, internalFrom: ["10.0.0.0/8"] }' : '';
  } else if (t.startsWith('SECRET:')) {
    base = BASE.replace(`secret: "${SECRET}"`, `secret: ${t.slice(7)}`);
    tail = '';
  } else if (t.startsWith('SECRETFILE:')) {
    base = BASE.replace(`secret: "${SECRET}"\n`, '');
    tail = `secretFile: ${t.slice(11)}`;
  }
  // BASE already has dns/peer/http maps: a case's own map replaces the base one.
  for (const key of ['dns', 'peer', 'http']) if (new RegExp(`^${key}:`, 'm').test(tail)) base = base.replace(new RegExp(`^${key}: .*\\n`, 'm'), '');
  if (tail.startsWith('dns:') && !/port:/.test(tail)) tail = tail.replace('dns: {', 'dns: { port: 5300,');
  const path = join(dir, `case-${name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(path, `${base}${tail}\n`);
  const r = await run(process.execPath, [CLI, 'config', 'check', '--config', path], { timeoutMs: 20_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe('config check on the new keys', () => {
  it.each(bad)('%s: exit 2 naming the field, no stack trace', async (name, extra, message) => {
    const r = await checkCase(name, extra());
    expect(r.out).toMatch(message);
    expect(r.code, r.out).toBe(2);
    expect(r.out).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)|TypeError|RangeError|ZodError/);
  });

  it.each([
    ['everything on at once', () => `dns: { port: 5300, internalFrom: [10.0.0.0/8], rateLimit: { responsesPerSecond: 1000000, slip: 0, exempt: [10.0.0.0/8, "::1"] } }\ndiscovery: { enabled: true, port: 5303, password: pw }\nhttp: { port: 5302, listen: [10.0.0.1] }\ndnssec: { keys: ["${keys.csk}", "${keys.later}"], validity: 3660d, refresh: 1 }`],
    ['rate limiting off, the lowest validity', () => `dns: { port: 5300, rateLimit: { responsesPerSecond: 0 } }\ndnssec: { keys: ["${keys.csk}.key"], validity: 3h }`],
    ['a listen address on a link-local address with a zone index', () => '  - { name: b, address: 127.0.0.2, listen: [127.0.0.2, "fe80::1%lo"] }\n'],
    ['a listen address no node owns, on two nodes', () => '  - { name: b, address: 127.0.0.2, listen: [127.0.0.2, 127.0.0.53] }\n  - { name: c, address: 127.0.0.3, listen: [127.0.0.3, 127.0.0.53] }\n'],
    ['a KSK and a ZSK', () => `dnssec: { keys: ["${keys.csk}", "${keys.zsk}"] }`],
    ['dnssec.refresh as long as validity, the re-sign look and the TTL allow', () => `dnssec: { keys: ["${keys.csk}"], validity: 3h, refresh: 5712 }`],
    ['discovery on the peer port (TCP beside UDP)', () => 'discovery: { enabled: true, port: 5301 }'],
    ['http.listen on an address no node owns, with two nodes', () => '  - { name: b, address: 127.0.0.2, privateAddress: 10.0.0.2 }\nhttp: { port: 5302, listen: [127.0.0.53] }'],
    ['discovery on the DNS port but off', () => 'discovery: { enabled: false, port: 5300 }'],
    ['secret files in a rotation', () => 'SECRETFILE:[secret-a]'],
  ])('%s: exit 0', async (name, extra) => {
    const r = await checkCase(name, extra());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/: ok — zone c\.test/);
  });

  it('a YAML alias bomb: exit 2 with the reason, no stack trace', async () => {
    const level = (n: number) => `l${n}: &l${n} [${Array.from({ length: 9 }, () => (n === 0 ? '"x"' : `*l${n - 1}`)).join(', ')}]`;
    const path = join(dir, 'bomb.yaml');
    writeFileSync(path, `${Array.from({ length: 7 }, (_, n) => level(n)).join('\n')}\n${BASE}`);
    const r = await run(process.execPath, [CLI, 'config', 'check', '--config', path], { timeoutMs: 20_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/bomb\.yaml is not a usable YAML document[\s\S]*Excessive alias count.* — write the values out/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('a refresh of seconds is run, with a warning naming the field', async () => {
    const r = await checkCase('refresh', `dnssec: { keys: ["${keys.csk}"], refresh: 1 }`);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/warning: dnssec\.refresh: signatures are remade every 1 s, so the agent re-signs the whole zone that often — write a unit/);
    expect((await checkCase('refresh-default', `dnssec: { keys: ["${keys.csk}"] }`)).out).not.toMatch(/warning/);
  });
});
