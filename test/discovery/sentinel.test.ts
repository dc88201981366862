import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/config/types';
import { encode } from '../../src/discovery/resp';
import { knownMasters } from '../../src/discovery/masters';
import { DEFAULT_SUBSCRIPTION_LIMITS, Subscriptions } from '../../src/discovery/pubsub';
import { execute, type Context, type Session } from '../../src/discovery/sentinel';
import type { ZoneInputs } from '../../src/zone/inputs';
import { cluster } from '../health/cluster';

/** The commands as pure functions of the published inputs (the wire is in conformance.test.ts). */

const config: ClusterConfig = {
  ...cluster({ services: [{ name: 'cache', port: 6379, nodes: ['node1', 'node2', 'node3'], policy: 'first-healthy' }, { name: 'reads', port: 6380, nodes: ['node2', 'node3'], policy: 'all-healthy', whenAllDown: 'all' }] }),
  nodes: [1, 2, 3].map((i) => ({ name: `node${i}`, address: `192.0.2.${i}`, peerAddress: `10.0.0.${i}`, listen: [`192.0.2.${i}`], role: 'node' as const })),
};

const inputs = (over: Partial<ZoneInputs> = {}): ZoneInputs => ({
  nodeTargets: new Map(),
  upNodes: ['node1', 'node2', 'node3'],
  services: new Map([
    ['cache', ['node1']],
    ['reads', ['node2', 'node3']],
  ]),
  serving: true,
  serial: 1,
  ...over,
});

const session = (over: Partial<Session> = {}): Session => ({ id: 7, scope: 'public', proto: 2, name: undefined, authenticated: true, user: 'default', subs: new Subscriptions(), reply: 'on', addr: '192.0.2.9:5000', laddr: '192.0.2.1:8001', fd: 9, createdAt: 0, lastActive: 0, cmd: 'NULL', pending: () => 0, ...over });
const pool = () => ({ limits: DEFAULT_SUBSCRIPTION_LIMITS, held: 0 });
const context = (i: ZoneInputs = inputs()): Context => ({
  config,
  self: config.nodes[0],
  masters: knownMasters(config, i),
  upNodes: new Set(i.upNodes),
  links: new Map(),
  subscriptions: pool(),
  clients: () => [],
  now: 0,
  password: undefined,
  users: [],
  connectedClients: 1,
  uptimeSeconds: 0,
});
const run = (args: string[], s = session(), ctx = context()) => execute(args, s, ctx).replies.map((r) => encode(r, s.proto).toString('latin1')).join('');

describe('knownMasters', () => {
  it.each([
    ['all up', inputs(), [['cache', 'node1', []], ['reads', 'node2', ['node3']]]],
    ['minority: nothing is known', inputs({ serving: false }), []],
    ['a service answering nobody is unknown', inputs({ services: new Map([['cache', []], ['reads', ['node2', 'node3']]]) }), [['reads', 'node2', ['node3']]]],
    ['whenAllDown: all never tells a node that is not up', inputs({ upNodes: ['node1'], services: new Map([['cache', ['node1']], ['reads', ['node2', 'node3']]]) }), [['cache', 'node1', []]]],
  ] as Array<[string, ZoneInputs, Array<[string, string, string[]]>]>)('%s', (_l, i, want) => {
    expect(knownMasters(config, i).map((m) => [m.name, m.node.name, m.replicas.map((r) => r.name)])).toEqual(want);
  });
});

describe('addresses by scope', () => {
  it('public clients get address, private ones peerAddress, in every reply', () => {
    expect(run(['SENTINEL', 'get-master-addr-by-name', 'cache'])).toBe('*2\r\n$9\r\n192.0.2.1\r\n$4\r\n6379\r\n');
    expect(run(['SENTINEL', 'get-master-addr-by-name', 'cache'], session({ scope: 'private' }))).toBe('*2\r\n$8\r\n10.0.0.1\r\n$4\r\n6379\r\n');
    expect(run(['SENTINEL', 'replicas', 'reads'], session({ scope: 'private' }))).toContain('$2\r\nip\r\n$8\r\n10.0.0.3\r\n');
    expect(run(['SENTINEL', 'sentinels', 'cache'], session({ scope: 'private' }))).toMatch(/10\.0\.0\.2[\s\S]*10\.0\.0\.3/);
  });

  it('+switch-master payloads are per subscription', () => {
    const s = session();
    const p = pool();
    s.subs.subscribe('subscribe', ['+switch-master'], p);
    s.subs.subscribe('psubscribe', ['*', '+sdown'], p);
    const out = s.subs.messages('+switch-master', 'cache 10.0.0.1 6379 10.0.0.2 6379').map((r) => encode(r, 2).toString('latin1'));
    expect(out).toEqual([
      '*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$33\r\ncache 10.0.0.1 6379 10.0.0.2 6379\r\n',
      '*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$14\r\n+switch-master\r\n$33\r\ncache 10.0.0.1 6379 10.0.0.2 6379\r\n',
    ]);
  });
});

describe('SUBSCRIBE over a limit', () => {
  /** An argument list that counts how many names the command reads. */
  function counted(names: string[]): { names: string[]; read: () => number } {
    let read = 0;
    const list = [...names];
    list[Symbol.iterator] = function* () {
      for (const n of names) {
        read++;
        yield n;
      }
    };
    return { names: list, read: () => read };
  }

  it('1,000 distinct 1 KB names: refused at the first name past 16 KiB, without reading the rest', () => {
    const p = pool();
    const { names, read } = counted(Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(8, '0')}${'c'.repeat(1016)}`));
    const out = session().subs.subscribe('subscribe', names, p);
    expect(out.map((r) => encode(r, 2).toString('latin1'))).toEqual([expect.stringMatching(/^-ERR SUBSCRIBE refused: clusterdns discovery allows 256 channels/)]);
    // The 17th 1 KB name passes 16 KiB; reading all 1,000 into a Map took 1.6 ms of the main thread.
    expect(read()).toBe(17);
    expect(p.held).toBe(0);
  });

  it('300 distinct names: refused at the 257th; 1,000 of one name (Redis counts it once) is accepted', () => {
    const p = pool();
    const many = counted(Array.from({ length: 300 }, (_, i) => `ch${i}`));
    expect(session().subs.subscribe('subscribe', many.names, p)).toHaveLength(1);
    expect(many.read()).toBe(257);
    const s = session();
    const same = s.subs.subscribe('subscribe', Array.from({ length: 1000 }, () => 'one'), p);
    expect(same).toHaveLength(1000);
    expect(s.subs.size).toBe(1);
    expect(p.held).toBe(1);
  });
});

describe('commands current clients send on connect', () => {
  it.each([
    [['CLIENT', 'ID'], ':7\r\n'],
    [['CLIENT', 'SETINFO', 'LIB-NAME', 'redis-py'], '+OK\r\n'],
    [['CLIENT', 'SETINFO', 'lib-ver', '5.0.1'], '+OK\r\n'],
    [['CLIENT', 'SETINFO', 'lib-ver', 'a b'], '-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n'],
    [['CLIENT', 'SETINFO', 'color', 'red'], "-ERR Unrecognized option 'color'\r\n"],
    [['SENTINEL', 'failover', 'cache'], '-ERR SENTINEL FAILOVER is not offered by clusterdns discovery: addresses follow the cluster\'s health checks, nothing is configured through Sentinel\r\n'],
    [['QUIT'], '+OK\r\n'],
  ])('%j', (args, want) => expect(run(args)).toBe(want));

  it('QUIT closes after its reply', () => expect(execute(['QUIT'], session(), context()).close).toBe(true));
});
