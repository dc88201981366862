import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseIPv4, parseIPv6, parsePrefix } from '../../src/net/prefix';
import { Cookie, cookieHash, Guard, Limit, type RateLimitConfig } from '../../src/server/guard';
import { cookieKeys } from '../../src/server/cookie-keys';
import { QueryStats } from '../../src/server/stats';
import { QueryParser } from '../../src/wire/query';

/** The decide step alone: RFC 9018 cookie construction, the rate table, exemptions, its bound. */

const RL: RateLimitConfig = { responsesPerSecond: 100, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: [] };
const SECRET = 'guard-test-secret-guard-test-secret-0123';

function guard(opts: { rateLimit?: Partial<RateLimitConfig>; now?: () => number; monotonic?: () => number; secrets?: string[] } = {}) {
  const stats = new QueryStats();
  const g = new Guard({ rateLimit: { ...RL, ...opts.rateLimit }, keys: cookieKeys(opts.secrets ?? [SECRET]), now: opts.now, monotonic: opts.monotonic }, stats);
  return { g, stats };
}

/** An answer as the Responder would build it: rcode and answer count are what RRL reads. */
function response(name: string, type: string, rcode: number, answers: number): { out: Buffer; p: QueryParser } {
  const q = packet.encode({ type: 'query', id: 1, questions: [{ name, type: type as packet.RecordType }] });
  const p = new QueryParser();
  p.parse(q);
  const out = Buffer.from(q);
  out[3] = rcode;
  out[7] = answers;
  return { out, p };
}

function queryWithCookie(cookie: Buffer): { q: Buffer; p: QueryParser } {
  const q = packet.encode({
    type: 'query',
    id: 1,
    questions: [{ name: 'node1.cluster.test', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [{ code: 10, data: cookie }] } as packet.Answer],
  });
  const p = new QueryParser();
  p.parse(q);
  return { q, p };
}

describe('RFC 9018 server cookies (Appendix A vectors)', () => {
  const A = 'e5e973e5a6b2a43f48e7dc849e37bfcf';
  it.each([
    ['A.1, learning a new server cookie', A, '2464c4abcf10c957', '198.51.100.100', 1559731985, '010000005cf79f111f8130c3eee29480'],
    ['A.2, the same client renewing it', A, '2464c4abcf10c957', '198.51.100.100', 1559734385, '010000005cf7a871d4a564a1442aca77'],
    ['A.3, another client renewing it', A, 'fc93fc62807ddb86', '203.0.113.203', 1559734700, '010000005cf7a9acf73a7810aca2381e'],
    ['A.4, IPv6, the cookie made under the old secret', 'dd3bdf9344b678b185a6f5cb60fca715', '22681ab97d52c298', '2001:db8:220:1:59de:d0f4:8769:82b8', 1559741817, '010000005cf7c57926556bd0934c72f8'],
    ['A.4, IPv6, the new one under the rolled-over secret', '445536bcd2513298075a5d379663c962', '22681ab97d52c298', '2001:db8:220:1:59de:d0f4:8769:82b8', 1559741961, '010000005cf7c609a6bb79d16625507a'],
  ])('%s', (_name, secret, client, ip, ts, want) => {
    const key = Buffer.from(secret, 'hex');
    const input = Buffer.alloc(16);
    Buffer.from(client, 'hex').copy(input, 0);
    input[8] = 1;
    input.writeUInt32BE(ts, 12);
    const words = new Uint32Array(4);
    const v6 = ip.includes(':');
    expect(v6 ? parseIPv6(ip, words) : parseIPv4(ip, words)).toBe(true);
    const out = Buffer.alloc(8);
    cookieHash(key, input, 0, words, v6 ? 16 : 4, Buffer.alloc(32), out, 0);
    expect(Buffer.concat([input.subarray(8), out]).toString('hex')).toBe(want);
  });
});

describe('cookies in the guard', () => {
  const client = Buffer.from('0102030405060708', 'hex');

  it('a client cookie alone gets a fresh server cookie; sent back, it is valid on any node with the secret', () => {
    let now = 1_700_000_000_000;
    const { g } = guard({ now: () => now });
    const first = queryWithCookie(client);
    expect(g.admit(first.q, first.p, '192.0.2.1')).toBe(Cookie.ClientOnly);
    const full = Buffer.from(g.cookie);
    expect(full.subarray(0, 8)).toEqual(client);
    expect(full[8]).toBe(1);
    // Another node: its own Guard from the same cluster secret, 20 minutes later.
    now += 20 * 60_000;
    const other = guard({ now: () => now }).g;
    const again = queryWithCookie(full);
    expect(other.admit(again.q, again.p, '192.0.2.1')).toBe(Cookie.Valid);
    // From another address, or under another secret, or too old, it is not.
    expect(other.admit(again.q, again.p, '192.0.2.2')).toBe(Cookie.ClientOnly);
    expect(guard({ now: () => now, secrets: ['another-secret-another-secret-another-se'] }).g.admit(again.q, again.p, '192.0.2.1')).toBe(Cookie.ClientOnly);
    now += 60 * 60_000;
    expect(other.admit(again.q, again.p, '192.0.2.1')).toBe(Cookie.ClientOnly);
  });

  it('during a rotation a cookie made under the old secret stays valid where it is still listed', () => {
    const now = () => 1_700_000_000_000;
    const old = guard({ now, secrets: [SECRET] }).g;
    const first = queryWithCookie(client);
    old.admit(first.q, first.p, '2001:db8::1');
    const again = queryWithCookie(Buffer.from(old.cookie));
    const rotated = guard({ now, secrets: ['the-new-secret-the-new-secret-the-new-00', SECRET] }).g;
    expect(rotated.admit(again.q, again.p, '2001:db8::1')).toBe(Cookie.Valid);
  });
});

  it('the cookie key of a secret is the one every earlier version derived (a rolling upgrade keeps cookies valid)', () => {
    // HKDF-SHA256, empty salt, info "clusterdns dns cookie v1", 16 bytes: the value 0.3.0 and
    // earlier derived inside guard.ts. Nodes of both versions must accept each other's cookies.
    const [key, second] = cookieKeys(['0123456789abcdef0123456789abcdef-secret', SECRET]);
    expect(Buffer.from(key).toString('hex')).toBe('102737c2c86f6f87bb870eba1423ee58');
    expect(second).toHaveLength(16);
    expect(() => new Guard({ rateLimit: RL, keys: [] }, new QueryStats())).toThrow(/at least one/);
    expect(() => new Guard({ rateLimit: RL, keys: [new Uint8Array(8)] }, new QueryStats())).toThrow(/16 bytes/);
  });

describe('response-rate limiting', () => {
  it('one identity from one prefix: a second of credit, then the rate; every 2nd over it slips', () => {
    let now = 1_000_000;
    const { g, stats } = guard({ now: () => now });
    const r = response('node1.cluster.test', 'A', 0, 1);
    const verdicts = Array.from({ length: 300 }, () => g.limit(r.out, r.p));
    expect(verdicts.filter((v) => v === Limit.Answer)).toHaveLength(100);
    expect(verdicts.filter((v) => v === Limit.Slip)).toHaveLength(100);
    expect(stats.rateLimited).toEqual({ dropped: 100, slipped: 100 });
    now += 500; // half a second: 50 more
    expect(Array.from({ length: 100 }, () => g.limit(r.out, r.p)).filter((v) => v === Limit.Answer)).toHaveLength(50);
  });

  it('a wall clock stepped back (NTP, a restored snapshot) does not stop the refill: it runs on the monotonic clock', () => {
    let wall = 1_800_000_000_000;
    let mono = 1_000;
    const { g } = guard({ now: () => wall, monotonic: () => mono });
    const r = response('node1.cluster.test', 'A', 0, 1);
    for (let i = 0; i < 100; i++) g.limit(r.out, r.p);
    expect(g.limit(r.out, r.p)).not.toBe(Limit.Answer);
    wall -= 600_000; // ten minutes back
    mono += 1_000; // one real second later: a second's credit again
    expect(Array.from({ length: 100 }, () => g.limit(r.out, r.p)).filter((v) => v === Limit.Answer)).toHaveLength(100);
  });

  it('counts by identity: other names, types and classes, and other prefixes, have their own credit', () => {
    const { g } = guard({ now: () => 5_000 });
    const a = response('node1.cluster.test', 'A', 0, 1);
    g.admit(a.out, a.p, '192.0.2.1');
    for (let i = 0; i < 100; i++) g.limit(a.out, a.p);
    expect(g.limit(a.out, a.p)).not.toBe(Limit.Answer);
    for (const [name, type, rcode, an] of [
      ['node2.cluster.test', 'A', 0, 1],
      ['node1.cluster.test', 'AAAA', 0, 1],
      ['node1.cluster.test', 'TXT', 0, 0],
      ['nothing.cluster.test', 'A', 3, 0],
      ['example.com', 'A', 5, 0],
    ] as const) {
      const r = response(name, type, rcode, an);
      expect(g.limit(r.out, r.p), `${name} ${type}`).toBe(Limit.Answer);
    }
    g.admit(a.out, a.p, '192.0.2.200'); // same /24: same bucket
    expect(g.limit(a.out, a.p)).not.toBe(Limit.Answer);
    g.admit(a.out, a.p, '192.0.3.1');
    expect(g.limit(a.out, a.p)).toBe(Limit.Answer);
  });

  it('all NXDOMAINs from a prefix are one identity, whatever the name (as BIND and NSD count them)', () => {
    const { g } = guard({ now: () => 5_000 });
    let answered = 0;
    for (let i = 0; i < 300; i++) {
      const r = response(`random${i}.cluster.test`, 'A', 3, 0);
      if (g.limit(r.out, r.p) === Limit.Answer) answered++;
    }
    expect(answered).toBe(100);
  });

  it('slip 0 drops everything over the limit; slip 1 slips everything', () => {
    const r = response('node1.cluster.test', 'A', 0, 1);
    for (const [slip, want] of [
      [0, Limit.Drop],
      [1, Limit.Slip],
    ] as const) {
      const { g } = guard({ now: () => 1, rateLimit: { slip } });
      for (let i = 0; i < 100; i++) g.limit(r.out, r.p);
      expect(new Set(Array.from({ length: 10 }, () => g.limit(r.out, r.p)))).toEqual(new Set([want]));
    }
  });

  it('exempt prefixes are never limited; IPv6 clients are counted per /56', () => {
    const { g } = guard({ now: () => 1, rateLimit: { exempt: ['198.51.100.0/24', '2001:db8:1::/48'] } });
    const r = response('node1.cluster.test', 'A', 0, 1);
    g.admit(r.out, r.p, '198.51.100.7');
    expect(Array.from({ length: 500 }, () => g.limit(r.out, r.p)).every((v) => v === Limit.Answer)).toBe(true);
    g.admit(r.out, r.p, '2001:db8:1:2::1');
    expect(Array.from({ length: 500 }, () => g.limit(r.out, r.p)).every((v) => v === Limit.Answer)).toBe(true);
    g.admit(r.out, r.p, '2001:db8:2:100::1');
    for (let i = 0; i < 100; i++) g.limit(r.out, r.p);
    g.admit(r.out, r.p, '2001:db8:2:1ff::99'); // same /56
    expect(g.limit(r.out, r.p)).not.toBe(Limit.Answer);
    g.admit(r.out, r.p, '2001:db8:2:200::1'); // the next /56
    expect(g.limit(r.out, r.p)).toBe(Limit.Answer);
  });

  it('memory stays bounded under a flood from a million spoofed sources', () => {
    const { g } = guard({ now: () => 1 });
    const r = response('node1.cluster.test', 'A', 0, 1);
    const before = process.memoryUsage();
    for (let i = 0; i < 1_000_000; i++) {
      g.admit(r.out, r.p, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      g.limit(r.out, r.p);
    }
    const after = process.memoryUsage();
    // The table is allocated up front (64 Ki slots); what grows here is garbage from the test's strings.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(1_000_000);
  });
});

describe('addresses and prefixes', () => {
  it.each([
    ['::1', [0, 0, 0, 1]],
    ['2001:db8::', [0x20010db8, 0, 0, 0]],
    ['fe80::1:2', [0xfe800000, 0, 0, 0x10002]],
    ['::ffff:192.0.2.1', [0, 0, 0xffff, 0xc0000201]],
  ])('%s', (text, words) => {
    const out = new Uint32Array(4);
    expect(parseIPv6(text, out)).toBe(true);
    expect([...out]).toEqual(words);
  });
  it.each(['1.2.3', '1.2.3.256', '1.2.3.4.5', '01234.1.1.1', ''])('%s is no IPv4 address', (text) => expect(parseIPv4(text, new Uint32Array(1))).toBe(false));
  it.each(['1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1'])('%s is no IPv6 address', (text) => expect(parseIPv6(text, new Uint32Array(4))).toBe(false));
  it('a bad prefix says what to write', () => {
    expect(() => parsePrefix('192.0.2.0/33')).toThrow(/prefix length must be 0–32/);
    expect(() => parsePrefix('nonsense')).toThrow(/such as 192.0.2.0\/24/);
  });
});
