import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globMatch } from '../../src/discovery/glob';
import { patternMask, CHANNELS } from '../../src/discovery/pubsub';
import { seededRandom } from '../../src/membership/prng';
import { Processes } from '../helpers/proc';
import { command, exchange, startRedis } from './helpers';

/**
 * The glob matcher against Redis's own (`stringmatchlen`, which KEYS uses too): a table of the
 * cases that matter, then random patterns over a small alphabet compared with a real redis-server.
 * Block: 127.0.171.0/24.
 */

describe('globMatch: Redis semantics', () => {
  it.each([
    ['*', '+switch-master', true],
    ['switch-master', '+switch-master', false],
    ['[-+]sdown', '+sdown', true],
    ['[-+]sdown', '-sdown', true],
    ['[-+]sdown', '+odown', false],
    ['[z-a]', 'm', true],
    ['[z-a]', '+sdown', false],
    ['[^a-z]sdown', '+sdown', true],
    ['[^-+]sdown', '+sdown', false],
    ['+s?own', '+sdown', true],
    ['\\+sdown', '+sdown', true],
    ['+sdown\\', '+sdown\\', true],
    ['[', '+', false],
    ['[+', '+', true],
    ['[^', 'x', true],
    ['[]a]', ']', false],
    ['[\\]]', ']', true],
    // `a-]` is a range (']' to 'a', swapped), so the class runs on to the end: one character.
    ['[a-]x', ']', true],
    ['[a-]x', ']x', false],
    ['*x', 'abx', true],
    ['*x', 'abxy', false],
    ['**', 'ab', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['*', '', false],
    ['', '', true],
  ] as Array<[string, string, boolean]>)('%j ~ %j → %s', (p, t, want) => expect(globMatch(p, t)).toBe(want));

  it('40 stars and an x against every channel: no backtracking blow-up', () => {
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) patternMask(`${'*'.repeat(40)}x`);
    patternMask(`${'*a'.repeat(5000)}x`);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(patternMask('*')).toBe((1 << CHANNELS.length) - 1);
  });
});

const HOST = '127.0.171.1';
const REDIS_PORT = 6179;
const procs = new Processes();
const ALPHABET = ['a', 'b', '-', '+', ']', '[', '^', '\\', '*', '?'];
const SUBJECTS = ['a', 'b', 'ab', 'ba', '-a', '+b', 'a]', '[a', '^', '\\', 'aab', 'a-b', 'b+a', ']]', 'a*b', '?', 'abab'];

describe('globMatch: the same verdicts as redis-server', () => {
  beforeAll(async () => {
    await startRedis(procs, HOST, REDIS_PORT);
    await exchange(HOST, REDIS_PORT, [command('MSET', ...SUBJECTS.flatMap((k) => [k, '1']))]);
  }, 20_000);
  afterAll(() => procs.stopAll());

  it('2,000 random patterns over a-b-+-]-[-^-\\-*-?, KEYS against globMatch', async () => {
    const rnd = seededRandom(18);
    const patterns = Array.from({ length: 2000 }, () => Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join(''));
    const mismatches: string[] = [];
    // Pipelined in groups, one KEYS per pattern; replies are arrays of bulk strings.
    for (let i = 0; i < patterns.length; i += 200) {
      const group = patterns.slice(i, i + 200);
      const r = await exchange(HOST, REDIS_PORT, [group.map((p) => command('KEYS', p)).join('')], { waitMs: 300 });
      const lines = r.text.split('\r\n');
      let at = 0;
      for (const p of group) {
        const n = Number(lines[at++].slice(1));
        const got = new Set<string>();
        for (let k = 0; k < n; k++) {
          at++;
          got.add(lines[at++]);
        }
        for (const s of SUBJECTS) if (got.has(s) !== globMatch(p, s)) mismatches.push(`${JSON.stringify(p)} ~ ${JSON.stringify(s)}: redis ${got.has(s)}`);
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
  }, 30_000);
});
