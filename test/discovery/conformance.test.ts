import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../helpers/cluster';
import { Processes } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { command, discoveryCluster, exchange, startRedis, until } from './helpers';

/**
 * The discovery service next to a real `redis-server --sentinel` that monitors the same Redis under
 * the same name: the same requests must get the same bytes back. Where a field is about Sentinel's
 * own link to Redis (timings, run ids, connection ids) only its presence and order are compared.
 * Block: 127.0.82.0/24 (agent on .1, its Redis on .1, the real Sentinel on .9).
 */

const AGENT = '127.0.82.1';
const SENTINEL = '127.0.82.9';
const DNS_PORT = 5821;
const DISCOVERY_PORT = 5824;
const SENTINEL_PORT = 5825;
const REDIS_PORT = 5899;
const PASSWORD = 'sekret-0123';

/** Request → expected identical reply and close. `same` compares after masking what must differ. */
const CASES: Array<[string, Array<string | Buffer>]> = [
  ['PING', [command('PING')]],
  ['PING with a message', [command('PING', 'hello')]],
  ['PING arity', [command('PING', 'a', 'b')]],
  ['lowercase inline ping', ['ping\r\n']],
  ['inline with LF only', ['PING\n']],
  ['inline quoted argument', ['PING "a\\x41\\n b"\r\n']],
  ['ROLE', [command('ROLE')]],
  ['ROLE arity', [command('ROLE', 'x')]],
  ['get-master-addr-by-name', [command('SENTINEL', 'get-master-addr-by-name', 'cache')]],
  ['get-master-addr-by-name, upper case', [command('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'cache')]],
  ['get-master-addr-by-name, unknown master', [command('SENTINEL', 'get-master-addr-by-name', 'nope')]],
  ['get-master-addr-by-name arity', [command('SENTINEL', 'get-master-addr-by-name')]],
  ['SENTINEL master, unknown', [command('SENTINEL', 'master', 'nope')]],
  ['SENTINEL master arity', [command('SENTINEL', 'master')]],
  ['SENTINEL masters arity', [command('SENTINEL', 'masters', 'x')]],
  ['SENTINEL replicas', [command('SENTINEL', 'replicas', 'cache')]],
  ['SENTINEL slaves', [command('SENTINEL', 'slaves', 'cache')]],
  ['SENTINEL replicas, unknown', [command('SENTINEL', 'replicas', 'nope')]],
  ['SENTINEL sentinels', [command('SENTINEL', 'sentinels', 'cache')]],
  ['SENTINEL sentinels, unknown', [command('SENTINEL', 'sentinels', 'nope')]],
  ['SENTINEL unknown subcommand', [command('SENTINEL', 'foo')]],
  ['SENTINEL alone', [command('SENTINEL')]],
  ['CLIENT GETNAME unset', [command('CLIENT', 'GETNAME')]],
  ['CLIENT SETNAME then GETNAME', [command('CLIENT', 'SETNAME', 'bob'), command('CLIENT', 'GETNAME')]],
  ['CLIENT SETNAME with a space', [command('CLIENT', 'SETNAME', 'a b')]],
  ['CLIENT SETNAME arity', [command('CLIENT', 'SETNAME')]],
  ['CLIENT GETNAME arity', [command('CLIENT', 'GETNAME', 'x')]],
  ['CLIENT unknown subcommand', [command('CLIENT', 'foo')]],
  ['CLIENT alone', [command('CLIENT')]],
  ['AUTH without a password set', [command('AUTH', 'x')]],
  ['AUTH unknown user', [command('AUTH', 'u', 'x')]],
  ['AUTH default user, no password set', [command('AUTH', 'default', 'x')]],
  ['AUTH syntax', [command('AUTH', 'a', 'b', 'c')]],
  ['unknown command', [command('GET', 'x')]],
  ['unknown command, long args', [command('FOOBAR', 'a'.repeat(100), 'b'.repeat(100), 'c')]],
  ['HELLO 4', [command('HELLO', '4')]],
  ['HELLO x', [command('HELLO', 'x')]],
  ['HELLO bad option', [command('HELLO', '2', 'FOO')]],
  ['HELLO AUTH short', [command('HELLO', '2', 'AUTH', 'default')]],
  ['HELLO SETNAME then GETNAME', [command('HELLO', '2', 'SETNAME', 'foo'), command('CLIENT', 'GETNAME')]],
  ['HELLO 3 then unknown master and unset name (RESP3 nulls)', [command('HELLO', '3'), command('SENTINEL', 'get-master-addr-by-name', 'nope'), command('CLIENT', 'GETNAME')]],
  ['HELLO 3 then ROLE and get-master-addr-by-name', [command('HELLO', '3'), command('ROLE'), command('SENTINEL', 'get-master-addr-by-name', 'cache')]],
  ['SUBSCRIBE arity', [command('SUBSCRIBE')]],
  ['PSUBSCRIBE arity', [command('PSUBSCRIBE')]],
  ['UNSUBSCRIBE with nothing subscribed', [command('UNSUBSCRIBE')]],
  [
    'subscribed context: PING, a refused command, UNSUBSCRIBE, PING again',
    [command('SUBSCRIBE', '+switch-master'), command('PING'), command('SENTINEL', 'masters'), command('PING', 'x'), command('UNSUBSCRIBE'), command('PING')],
  ],
  ['PSUBSCRIBE * then PUNSUBSCRIBE', [command('PSUBSCRIBE', '*'), command('PUNSUBSCRIBE')]],
  ['SUBSCRIBE two, UNSUBSCRIBE one', [command('SUBSCRIBE', 'a', 'b'), command('UNSUBSCRIBE', 'a')]],
  ['RESP3 subscribe is a push; PING answers normally', [command('HELLO', '3'), command('SUBSCRIBE', 'a'), command('PING'), command('CLIENT', 'GETNAME')]],
  ['INFO sentinel', [command('INFO', 'sentinel')]],
  ['INFO unknown section', [command('INFO', 'foo')]],
  ['empty multibulk and blank lines are skipped', ['*0\r\n*-1\r\n\r\n\r\nPING\r\n']],
  ['bulk payload followed by two unchecked bytes', ['*1\r\n$4\r\nPINGxx']],
  ['pipelined', [command('PING') + command('PING', 'b') + 'PING c\r\n']],
  ['huge bulk length', ['*1\r\n$999999999999\r\n']],
  ['bulk length not a number', ['*1\r\n$x\r\n']],
  ['multibulk count not a number', ['*x\r\n']],
  ['huge multibulk count', ['*99999999999\r\n']],
  ['not a bulk inside a multibulk', ['*1\r\n+PING\r\n']],
  ['unbalanced quotes', ['PING "a\r\n']],
  ['text after a closing quote', ["PING 'a'b\r\n"]],
  ['too big inline request', [Buffer.alloc(70 * 1024, 'a')]],
  // Commands tools send (issue 18): phpredis ckquorum(), redis-cli's COMMAND DOCS, client libraries' CLIENT and ACL calls.
  ['SENTINEL CKQUORUM', [command('SENTINEL', 'CKQUORUM', 'cache')]],
  ['SENTINEL CKQUORUM, unknown', [command('SENTINEL', 'ckquorum', 'nope')]],
  ['SENTINEL CKQUORUM arity', [command('SENTINEL', 'ckquorum')]],
  ['SENTINEL RESET *', [command('SENTINEL', 'RESET', '*')]],
  ['SENTINEL RESET, no match', [command('SENTINEL', 'reset', 'nope')]],
  ['SENTINEL RESET arity', [command('SENTINEL', 'reset')]],
  ['SENTINEL CONFIG GET *', [command('SENTINEL', 'CONFIG', 'GET', '*')]],
  ['SENTINEL CONFIG GET announce-*', [command('SENTINEL', 'config', 'get', 'ANNOUNCE-*')]],
  ['SENTINEL CONFIG GET unknown', [command('SENTINEL', 'config', 'get', 'foo')]],
  ['SENTINEL CONFIG GET two', [command('SENTINEL', 'config', 'get', 'a', 'b')]],
  ['SENTINEL CONFIG FOO', [command('SENTINEL', 'config', 'foo')]],
  ['SENTINEL CONFIG arity', [command('SENTINEL', 'config')]],
  ['SENTINEL HELP', [command('SENTINEL', 'HELP')]],
  ['SENTINEL IS-MASTER-DOWN-BY-ADDR', [command('SENTINEL', 'is-master-down-by-addr', AGENT, String(REDIS_PORT), '0', '*')]],
  ['SENTINEL IS-MASTER-DOWN-BY-ADDR, unknown', [command('SENTINEL', 'is-master-down-by-addr', '192.0.2.1', '1', '0', '*')]],
  ['SENTINEL IS-MASTER-DOWN-BY-ADDR, port not a number', [command('SENTINEL', 'is-master-down-by-addr', AGENT, 'x', '0', '*')]],
  ['SENTINEL IS-MASTER-DOWN-BY-ADDR, epoch not a number', [command('SENTINEL', 'is-master-down-by-addr', AGENT, '1', 'x', '*')]],
  ['SENTINEL IS-MASTER-DOWN-BY-ADDR arity', [command('SENTINEL', 'is-master-down-by-addr', AGENT)]],
  ['COMMAND COUNT', [command('COMMAND', 'COUNT')]],
  ['COMMAND HELP', [command('COMMAND', 'HELP')]],
  ['COMMAND unknown subcommand', [command('COMMAND', 'foo')]],
  ['COMMAND COUNT arity', [command('COMMAND', 'COUNT', 'x')]],
  ['CLIENT NO-EVICT', [command('CLIENT', 'NO-EVICT', 'on'), command('CLIENT', 'NO-EVICT', 'OFF'), command('CLIENT', 'NO-EVICT', 'x')]],
  ['CLIENT REPLY OFF, PING, ON, PING', [command('CLIENT', 'REPLY', 'OFF'), command('PING'), command('CLIENT', 'REPLY', 'ON'), command('PING')]],
  ['CLIENT REPLY SKIP', [command('CLIENT', 'REPLY', 'SKIP'), command('PING', 'a'), command('PING', 'b')]],
  ['CLIENT REPLY bad', [command('CLIENT', 'REPLY', 'x')]],
  ['CLIENT LIST bad option', [command('CLIENT', 'LIST', 'x')]],
  ['CLIENT LIST bad type', [command('CLIENT', 'LIST', 'TYPE', 'x')]],
  ['CLIENT KILL arity', [command('CLIENT', 'KILL')]],
  ['CLIENT HELP', [command('CLIENT', 'HELP')]],
  ['ACL WHOAMI', [command('ACL', 'WHOAMI')]],
  ['ACL WHOAMI arity', [command('ACL', 'WHOAMI', 'x')]],
  ['ACL alone', [command('ACL')]],
  ['ACL unknown subcommand', [command('ACL', 'foo')]],
  ['ACL HELP', [command('ACL', 'HELP')]],
];

/** What must differ between two Sentinels: connection ids in HELLO, link timings, run ids. */
function mask(text: string): string {
  return text
    .replace(/(\$2\r\nid\r\n):\d+/g, '$1:N')
    .replace(/\$\d+\r\n[0-9a-f]{40}\r\n/g, '$40\r\n<runid>\r\n')
    .replace(/\$0\r\n\r\n(?=\$5\r\nflags)/g, '$40\r\n<runid>\r\n');
}

/** The bulk strings of a RESP2 reply, in order (field/value replies alternate name and value). */
function bulkStrings(text: string): string[] {
  const lines = text.split('\r\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    if (/^\$\d+$/.test(lines[i])) out.push(lines[++i]);
  }
  return out;
}
const fieldNames = (text: string) => bulkStrings(text).filter((_, i) => i % 2 === 0);
const fieldValue = (text: string, field: string) => {
  const b = bulkStrings(text);
  return b[b.indexOf(field) + 1];
};

/** A RESP2/RESP3 reply as a value: sets and maps tagged, so that they can be put in order. */
function parseResp(t: string, i: number): [unknown, number] {
  const e = t.indexOf('\r\n', i);
  const type = t[i];
  const line = t.slice(i + 1, e);
  i = e + 2;
  if (type === '+' || type === '-' || type === ':') return [`${type}${line}`, i];
  if (type === '_') return [null, i];
  if (type === '$') return Number(line) < 0 ? [null, i] : [t.slice(i, i + Number(line)), i + Number(line) + 2];
  const n = Number(line);
  const items: unknown[] = [];
  for (let k = 0; k < (type === '%' ? 2 * n : n); k++) {
    const [v, j] = parseResp(t, i);
    items.push(v);
    i = j;
  }
  if (type === '~') return [{ set: items }, i];
  if (type === '%') return [{ map: Array.from({ length: n }, (_, k) => [items[2 * k], items[2 * k + 1]]) }, i];
  return [n < 0 ? null : items, i];
}

/** Sets and maps in order everywhere; plain arrays only at the top (Redis's command list) and where they list subcommands. */
function sorted(v: unknown, top = false): unknown {
  const key = (x: unknown) => JSON.stringify(x);
  if (Array.isArray(v)) {
    const a = v.map((x) => sorted(x));
    // A COMMAND INFO entry's 10th field lists subcommands: RESP2 gives it as a plain array.
    if (a.length === 10 && typeof a[0] === 'string' && Array.isArray(a[9])) a[9] = [...(a[9] as unknown[])].sort((x, y) => key(x).localeCompare(key(y)));
    return top ? a.sort((x, y) => key(x).localeCompare(key(y))) : a;
  }
  if (v && typeof v === 'object' && 'set' in v) return { set: (v.set as unknown[]).map((x) => sorted(x)).sort((x, y) => key(x).localeCompare(key(y))) };
  if (v && typeof v === 'object' && 'map' in v) return { map: (v.map as Array<[unknown, unknown]>).map(([k, x]) => [k, sorted(x)]).sort((x, y) => key(x[0]).localeCompare(key(y[0]))) };
  return v;
}

const procs = new Processes();
let cluster: TestCluster | undefined;
let sentinelDir = '';

async function startSentinel(extra: string[] = []): Promise<void> {
  const conf = join(sentinelDir, `sentinel-${Date.now()}.conf`);
  writeFileSync(conf, [`port ${SENTINEL_PORT}`, `bind ${SENTINEL}`, `dir ${sentinelDir}`, `sentinel monitor cache ${AGENT} ${REDIS_PORT} 1`, 'sentinel down-after-milliseconds cache 1000', ...extra, ''].join('\n'));
  const s = procs.start(requireTool('redis-server'), [conf, '--sentinel']);
  await s.waitForOutput(/\+monitor master cache/);
}

async function startAgent(discovery?: string): Promise<void> {
  await cluster?.cleanup();
  cluster = discoveryCluster({
    nodes: [{ name: 'node1', address: AGENT }],
    dnsPort: DNS_PORT,
    discoveryPort: DISCOVERY_PORT,
    discovery,
    services: [`{ name: cache, port: ${REDIS_PORT}, check: { type: redis, interval: 200ms, timeout: 150ms, rise: 1, fall: 1 } }`],
  });
  sentinelDir = cluster.dir;
  await cluster.startAgent('node1');
  await until(
    'the agent tells the master',
    () => exchange(AGENT, DISCOVERY_PORT, [discovery ? command('AUTH', PASSWORD) + command('SENTINEL', 'get-master-addr-by-name', 'cache') : command('SENTINEL', 'get-master-addr-by-name', 'cache')]),
    (r) => r.text.endsWith(`*2\r\n$10\r\n${AGENT}\r\n$4\r\n${REDIS_PORT}\r\n`),
    10_000,
  );
}

beforeAll(async () => {
  await startRedis(procs, AGENT, REDIS_PORT);
  await startAgent();
  await startSentinel();
}, 30_000);

afterAll(async () => {
  await cluster?.cleanup();
  await procs.stopAll();
});

const both = async (chunks: Array<string | Buffer>) =>
  Promise.all([exchange(SENTINEL, SENTINEL_PORT, chunks, { gapMs: 20 }), exchange(AGENT, DISCOVERY_PORT, chunks, { gapMs: 20 })]);

describe('the same bytes as redis-server --sentinel', () => {
  it.each(CASES)('%s', async (_label, chunks) => {
    const [real, ours] = await both(chunks);
    expect(real.text.length, 'the real Sentinel answered').toBeGreaterThan(0);
    expect(mask(ours.text)).toBe(mask(real.text));
    // A protocol error closes the connection on both.
    expect(ours.ended === 'open').toBe(real.ended === 'open');
  });

  it.each([
    ['SENTINEL masters', command('SENTINEL', 'masters')],
    ['SENTINEL master cache', command('SENTINEL', 'master', 'cache')],
  ])('%s: the same fields in the same order, the same address and flags', async (_label, req) => {
    const [real, ours] = await both([req]);
    expect(fieldNames(ours.text)).toEqual(fieldNames(real.text));
    for (const f of ['name', 'ip', 'port', 'flags', 'role-reported', 'num-slaves', 'num-other-sentinels', 'quorum']) {
      expect(fieldValue(ours.text, f), f).toBe(fieldValue(real.text, f));
    }
  });

  it('HELLO 3: the same map, RESP3 replies after it', async () => {
    const [real, ours] = await both([command('HELLO', '3'), command('SENTINEL', 'masters')]);
    const head = (t: string) => mask(t.slice(0, t.indexOf('*1\r\n%20\r\n') + 10));
    expect(head(ours.text)).toBe(head(real.text));
    expect(ours.text).toContain('*1\r\n%20\r\n$4\r\nname\r\n$5\r\ncache\r\n');
  });

  it.each([
    ['CLIENT INFO', command('CLIENT', 'INFO')],
    ['CLIENT LIST ID', command('CLIENT', 'LIST', 'ID', '999999')],
    ['CLIENT LIST TYPE pubsub', command('CLIENT', 'LIST', 'TYPE', 'pubsub')],
  ])('%s: the same fields in the same order; the values that describe this connection', async (_label, req) => {
    const [real, ours] = await both([req]);
    const fieldsOf = (t: string) => (t.split('\r\n')[1] ?? '').split(' ').map((f) => f.split('=')[0]);
    expect(fieldsOf(ours.text)).toEqual(fieldsOf(real.text));
    const value = (t: string, f: string) => new RegExp(`(?:^| )${f}=(\\S*)`).exec(t.split('\r\n')[1] ?? '')?.[1];
    for (const f of ['laddr', 'name', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'events', 'cmd', 'user', 'redir', 'resp']) {
      expect(value(ours.text, f)?.replace(AGENT, 'IP').replace(String(DISCOVERY_PORT), 'PORT'), f).toBe(value(real.text, f)?.replace(SENTINEL, 'IP').replace(String(SENTINEL_PORT), 'PORT'));
    }
  });

  // Redis lists its command table in hash order, which differs from one process to the next: the
  // replies are compared as values, with sets, maps and the top-level list in sorted order.
  it.each([
    ['COMMAND', [command('COMMAND')]],
    ['COMMAND LIST', [command('COMMAND', 'LIST')]],
    ['COMMAND INFO', [command('COMMAND', 'INFO', 'ping', 'SENTINEL', 'client|id', 'nope')]],
    ['COMMAND DOCS', [command('COMMAND', 'DOCS')]],
    ['COMMAND DOCS some', [command('COMMAND', 'DOCS', 'ping', 'nope', 'sentinel')]],
  ])('%s, in RESP2 and RESP3: the same values as Sentinel (order aside)', async (_label, chunks) => {
    for (const hello of [[], [command('HELLO', '3')]]) {
      const [real, ours] = await both([...hello, ...chunks]);
      const value = (t: string) => {
        let [v, at] = parseResp(t, 0);
        if (hello.length) [v, at] = parseResp(t, at);
        expect(at, 'one complete reply').toBe(t.length);
        return JSON.stringify(sorted(v, true));
      };
      expect(value(ours.text)).toBe(value(real.text));
    }
  });

  it('INFO: the server and sentinel sections a client reads', async () => {
    const [real, ours] = await both([command('INFO')]);
    for (const t of [real.text, ours.text]) {
      expect(t).toMatch(/# Server\r\nredis_version:7\.0\.\d+\r\n/);
      expect(t).toContain('redis_mode:sentinel\r\n');
      expect(t).toContain(`# Sentinel\r\nsentinel_masters:1\r\n`);
      expect(t).toContain(`master0:name=cache,status=ok,address=${AGENT}:${REDIS_PORT},slaves=0,sentinels=1\r\n\r\n`);
    }
  });
});

describe('with a password (requirepass / discovery.password)', () => {
  beforeAll(async () => {
    await procs.stopAll();
    await startRedis(procs, AGENT, REDIS_PORT);
    await startAgent(`password: ${PASSWORD}`);
    await startSentinel([`requirepass ${PASSWORD}`]);
  }, 30_000);

  it.each([
    ['PING before AUTH', [command('PING')]],
    ['a SENTINEL command before AUTH', [command('SENTINEL', 'masters')]],
    ['unknown command before AUTH (unknown wins)', [command('FOO')]],
    ['HELLO 3 before AUTH', [command('HELLO', '3')]],
    ['HELLO with a wrong password', [command('HELLO', '2', 'AUTH', 'default', 'wrong')]],
    ['HELLO with the password, then PING', [command('HELLO', '2', 'AUTH', 'default', PASSWORD), command('PING')]],
    ['AUTH wrong', [command('AUTH', 'wrong')]],
    ['AUTH right, then get-master-addr-by-name', [command('AUTH', PASSWORD), command('SENTINEL', 'get-master-addr-by-name', 'cache')]],
    ['AUTH default right', [command('AUTH', 'default', PASSWORD)]],
    ['AUTH another user', [command('AUTH', 'bob', PASSWORD)]],
    ['SUBSCRIBE before AUTH', [command('SUBSCRIBE', 'a')]],
    ['unauthenticated multibulk length', ['*20\r\n']],
    ['unauthenticated bulk length', ['*2\r\n$20000\r\n']],
  ] as Array<[string, string[]]>)('%s', async (_label, chunks) => {
    const [real, ours] = await both(chunks);
    expect(real.text.length, 'the real Sentinel answered').toBeGreaterThan(0);
    expect(mask(ours.text)).toBe(mask(real.text));
    expect(ours.ended === 'open').toBe(real.ended === 'open');
  });
});

describe('with ACL users (discovery.users / user lines)', () => {
  beforeAll(async () => {
    await procs.stopAll();
    await startRedis(procs, AGENT, REDIS_PORT);
    await startAgent(`password: ${PASSWORD}, users: [{ name: bob, password: bob-pw-0123 }]`);
    await startSentinel([`requirepass ${PASSWORD}`, 'user bob on >bob-pw-0123 +@all']);
  }, 30_000);

  it.each([
    ['AUTH bob, then ACL WHOAMI and get-master-addr-by-name', [command('AUTH', 'bob', 'bob-pw-0123'), command('ACL', 'WHOAMI'), command('SENTINEL', 'get-master-addr-by-name', 'cache')]],
    ['AUTH bob with a wrong password', [command('AUTH', 'bob', 'wrong'), command('PING')]],
    ['AUTH an unknown user', [command('AUTH', 'alice', 'bob-pw-0123')]],
    ['HELLO 3 AUTH bob, then ACL WHOAMI', [command('HELLO', '3', 'AUTH', 'bob', 'bob-pw-0123'), command('ACL', 'WHOAMI')]],
    ['HELLO 2 AUTH bob wrong', [command('HELLO', '2', 'AUTH', 'bob', 'nope')]],
    ['AUTH default still works, and says so', [command('AUTH', 'default', PASSWORD), command('ACL', 'WHOAMI')]],
    ['a command before AUTH', [command('SENTINEL', 'masters')]],
  ] as Array<[string, string[]]>)('%s', async (_label, chunks) => {
    const [real, ours] = await both(chunks);
    expect(real.text.length, 'the real Sentinel answered').toBeGreaterThan(0);
    expect(mask(ours.text)).toBe(mask(real.text));
  });
});
