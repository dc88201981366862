import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/membership/prng';
import { array, bulk, encode, fields, NULL, NULL_ARRAY, push, RequestParser, splitArgs } from '../../src/discovery/resp';
import { globMatch } from '../../src/discovery/glob';

const LIMITS = { maxInline: 64, maxArgs: 8, maxBulk: 32 };

/** Feeds the request in pieces of `step` bytes; the commands and the first error. */
function parse(input: string | Buffer, step = Infinity, limits = LIMITS) {
  const p = new RequestParser(limits);
  const bytes = Buffer.from(input);
  const commands: string[][] = [];
  for (let i = 0; i < bytes.length; i += Math.min(step, bytes.length)) {
    const r = p.feed(bytes.subarray(i, i + Math.min(step, bytes.length)));
    commands.push(...r.commands);
    if (r.error) return { commands, error: r.error, partial: p.partial };
  }
  return { commands, error: undefined, partial: p.partial, held: p.held };
}

describe('RequestParser', () => {
  it.each([
    ['multibulk', '*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n', [['PING', 'hi']]],
    ['inline', 'PING hi\r\n', [['PING', 'hi']]],
    ['inline, LF only, blank lines skipped', '\n\r\nPING\n', [['PING']]],
    ['empty bulk', '*2\r\n$4\r\nPING\r\n$0\r\n\r\n', [['PING', '']]],
    ['*0 and *-1 are no requests', '*0\r\n*-1\r\nPING\r\n', [['PING']]],
    ['pipelined mix', '*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nROLE\r\n', [['PING'], ['PING'], ['ROLE']]],
    ['binary bytes survive (latin1)', Buffer.from([0x2a, 0x31, 13, 10, 0x24, 0x32, 13, 10, 0xff, 0x00, 13, 10]), [['\xff\x00']]],
  ] as Array<[string, string | Buffer, string[][]]>)('%s: whole, and byte by byte', (_l, input, want) => {
    expect(parse(input).commands).toEqual(want);
    expect(parse(input, 1).commands).toEqual(want);
    expect(parse(input, 1).partial).toBe(false);
  });

  it.each([
    ['bulk over the limit', '*1\r\n$33\r\n', 'Protocol error: invalid bulk length'],
    ['negative bulk', '*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
    ['too many arguments', '*9\r\n', 'Protocol error: invalid multibulk length'],
    ['count not a number', '*1x\r\n', 'Protocol error: invalid multibulk length'],
    ['not a bulk', '*1\r\n:1\r\n', "Protocol error: expected '$', got ':'"],
    ['inline too long', 'a'.repeat(65), 'Protocol error: too big inline request'],
    ['header too long', `*${'1'.repeat(64)}`, 'Protocol error: too big mbulk count string'],
    ['bulk header too long', `*1\r\n$${'1'.repeat(64)}`, 'Protocol error: too big bulk count string'],
    ['unbalanced quotes', 'PING "a\r\n', 'Protocol error: unbalanced quotes in request'],
  ])('%s', (_l, input, error) => {
    expect(parse(input).error).toBe(error);
    expect(parse(input, 1).error).toBe(error);
  });

  it('an unfinished request is partial and holds only its own bytes', () => {
    const r = parse('*2\r\n$4\r\nPING\r\n$10\r\nab');
    expect(r.partial).toBe(true);
    expect(r.held).toBe(4 + 10);
  });

  it('a bulk argument split across reads is copied once, not rescanned', () => {
    const p = new RequestParser({ maxInline: 64, maxArgs: 8, maxBulk: 1 << 20 });
    const payload = 'x'.repeat(1 << 20);
    const input = Buffer.from(`*2\r\n$4\r\nPING\r\n$${payload.length}\r\n${payload}\r\n`);
    const t0 = performance.now();
    const out: string[][] = [];
    for (let i = 0; i < input.length; i += 100) out.push(...p.feed(input.subarray(i, i + 100)).commands);
    expect(out).toEqual([['PING', payload]]);
    // Rescanning would be ~5·10⁹ byte copies here; one pass is milliseconds.
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('unauthenticated connections get Redis 7 limits', () => {
    const p = new RequestParser({ maxInline: 64 * 1024, maxArgs: 1024, maxBulk: 65536 }, () => false);
    expect(p.feed(Buffer.from('*11\r\n')).error).toBe('Protocol error: unauthenticated multibulk length');
    const q = new RequestParser({ maxInline: 64 * 1024, maxArgs: 1024, maxBulk: 65536 }, () => false);
    expect(q.feed(Buffer.from('*1\r\n$16385\r\n')).error).toBe('Protocol error: unauthenticated bulk length');
  });

  it('random bytes never throw and never hold more than the limits allow', () => {
    const random = seededRandom(7);
    for (let n = 0; n < 2000; n++) {
      const p = new RequestParser(LIMITS);
      for (let k = 0; k < 5; k++) {
        const chunk = Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => (random() < 0.4 ? '*$\r\n0123456789'.charCodeAt(Math.floor(random() * 14)) : Math.floor(random() * 256))));
        const r = p.feed(chunk);
        for (const c of r.commands) expect(c.length).toBeGreaterThan(0);
        if (r.error) break;
        expect(p.held).toBeLessThanOrEqual(LIMITS.maxInline + LIMITS.maxArgs * LIMITS.maxBulk);
      }
    }
  });
});

describe('splitArgs (Redis sdssplitargs)', () => {
  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ['"\\x41\\n\\t\\\\"', ['A\n\t\\']],
    ["'it\\'s'", ["it's"]],
    ['""', ['']],
    ['   ', []],
  ])('%j', (line, want) => expect(splitArgs(line)).toEqual(want));
  it.each(['"a', "'a", '"a"b', "'a'b"])('%j is unbalanced', (line) => expect(splitArgs(line)).toBeUndefined());
});

describe('encode', () => {
  it.each([
    ['null bulk', NULL, '$-1\r\n', '_\r\n'],
    ['null array', NULL_ARRAY, '*-1\r\n', '_\r\n'],
    ['field map', fields([['ip', '1.2.3.4']]), '*2\r\n$2\r\nip\r\n$7\r\n1.2.3.4\r\n', '%1\r\n$2\r\nip\r\n$7\r\n1.2.3.4\r\n'],
    ['push', push([bulk('message')]), '*1\r\n$7\r\nmessage\r\n', '>1\r\n$7\r\nmessage\r\n'],
    ['nested array', array([array([])]), '*1\r\n*0\r\n', '*1\r\n*0\r\n'],
    ['bulk length counts bytes', bulk('\xff'), '$1\r\n\xff\r\n', '$1\r\n\xff\r\n'],
  ] as const)('%s', (_l, reply, resp2, resp3) => {
    expect(encode(reply, 2).toString('latin1')).toBe(resp2);
    expect(encode(reply, 3).toString('latin1')).toBe(resp3);
  });
});

describe('globMatch (PSUBSCRIBE patterns)', () => {
  it.each([
    ['*', true],
    ['+switch-*', true],
    ['+switch-maste?', true],
    ['+[st]witch-master', true],
    ['+[^s]witch-master', false],
    ['\\+switch-master', true],
    ['+sdown', false],
    ['*.*', false],
  ])('%j', (pattern, want) => expect(globMatch(pattern, '+switch-master')).toBe(want));
});
