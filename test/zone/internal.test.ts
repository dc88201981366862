import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { configWarnings } from '../../src/config/warnings';
import { zoneInputs } from '../../src/failover/zone-inputs';
import type { NodeView } from '../../src/membership/view';
import { Responder } from '../../src/server/responder';
import { compile } from '../../src/zone/compile';
import { allUpInputs, type ZoneInputs } from '../../src/zone/inputs';
import { buildZone } from '../../src/zone/zone';
import { zoneFileText } from '../../src/zone/zonefile';
import { CLI, SECRET } from '../helpers/cluster';
import { requireTool } from '../helpers/tools';
import { encodeQuery } from '../helpers/dns';

/**
 * internal.<zone>: the same names as the zone's, answered with private addresses, built in the
 * same pass from the same inputs; dns.internalFrom refuses them to other clients. Sockets-free:
 * the Responder is given the client's address as the listeners give it.
 */

const yaml = (dns = '') => `
zone: cluster.test
secret: "${SECRET}"
${dns}
nodes:
  - { name: node1, address: 192.0.2.1, address6: "2001:db8::1", privateAddress: 10.0.0.1, privateAddress6: "fd00::1" }
  - { name: node2, address: 192.0.2.2, privateAddress: 10.0.0.2 }
  - { name: node3, address: 192.0.2.3 }
  - { name: tie, address: 192.0.2.9, privateAddress: 10.0.0.9, role: witness }
services:
  - { name: redis, port: 6379, nodes: [node2, node1], policy: first-healthy }
  - { name: web, port: 443 }
`;

function responder(text: string, inputs?: (c: ReturnType<typeof parseConfig>) => ZoneInputs) {
  const config = parseConfig(text);
  const zone = buildZone(config, inputs ? inputs(config) : allUpInputs(config, 7));
  return new Responder(compile(zone, { identity: 'node1', unavailable: 'refused', internalFrom: config.dns.internalFrom }), { identity: 'node1' });
}

function ask(r: Responder, name: string, type: string, source = '198.51.100.7') {
  const out = r.respond(encodeQuery(name, type), 'udp', source);
  if (!out) throw new Error('no reply');
  return packet.decode(out) as packet.DecodedPacket & { rcode: string };
}

const data = (m: packet.Packet, section: 'answers' | 'additionals' = 'answers') =>
  (m[section] ?? []).filter((a) => a.type !== 'OPT').map((a) => `${a.name} ${a.type} ${typeof a.data === 'object' ? JSON.stringify(a.data) : a.data}`);

function downView(down: string) {
  const nodes = ['node1', 'node2', 'node3', 'tie'].map((name) => ({ name, up: name !== down, state: name !== down ? 'up' : 'down', services: {} }) as unknown as NodeView);
  return { nodes, serving: true };
}

describe('internal.<zone> answers with private addresses', () => {
  const r = responder(yaml());
  it.each([
    ['node1.internal.cluster.test', 'A', ['node1.internal.cluster.test A 10.0.0.1']],
    ['node1.internal.cluster.test', 'AAAA', ['node1.internal.cluster.test AAAA fd00::1']],
    ['ns2.internal.cluster.test', 'A', ['ns2.internal.cluster.test A 10.0.0.2']],
    // node2 has a private IPv4 address only: its public IPv6 (none here) does not stand in.
    ['node2.internal.cluster.test', 'AAAA', []],
    // node3 has no private address: its public one is how it is reached from inside too.
    ['node3.internal.cluster.test', 'A', ['node3.internal.cluster.test A 192.0.2.3']],
    ['internal.cluster.test', 'A', ['internal.cluster.test A 10.0.0.1', 'internal.cluster.test A 10.0.0.2', 'internal.cluster.test A 192.0.2.3']],
    ['redis.internal.cluster.test', 'A', ['redis.internal.cluster.test A 10.0.0.2']],
    ['node1.cluster.test', 'A', ['node1.cluster.test A 192.0.2.1']],
    ['redis.cluster.test', 'A', ['redis.cluster.test A 192.0.2.2']],
  ])('%s %s', (name, type, want) => {
    const m = ask(r, name, type);
    expect(m.rcode).toBe('NOERROR');
    expect(m.flags! & 0x0400).toBe(0x0400);
    expect(data(m)).toEqual(want);
  });

  it('SRV under internal names internal targets, with their private addresses as glue', () => {
    const m = ask(r, '_redis._tcp.internal.cluster.test', 'SRV');
    expect(data(m)).toEqual(['_redis._tcp.internal.cluster.test SRV {"priority":10,"weight":10,"port":6379,"target":"node2.internal.cluster.test"}']);
    expect(data(m, 'additionals')).toEqual(['node2.internal.cluster.test A 10.0.0.2']);
  });

  it('no NS or SOA at internal.<zone> (not a delegation); unknown names are NXDOMAIN with the zone SOA', () => {
    const ns = ask(r, 'internal.cluster.test', 'NS');
    expect(ns.rcode).toBe('NOERROR');
    expect(ns.answers).toEqual([]);
    expect(ns.authorities![0]).toMatchObject({ name: 'cluster.test', type: 'SOA' });
    const nx = ask(r, 'nope.internal.cluster.test', 'A');
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities![0]).toMatchObject({ name: 'cluster.test', type: 'SOA' });
  });

  it('internal names fail over exactly like the public ones', () => {
    const config = parseConfig(yaml());
    const view = downView('node2');
    const down = responder(yaml(), (c) => zoneInputs(c, view, 8));
    const target = zoneInputs(config, view, 8).nodeTargets.get('node2')!;
    expect(target).not.toBe('node2');
    const priv = { node1: '10.0.0.1', node3: '192.0.2.3' }[target as 'node1' | 'node3'];
    const pub = config.nodes.find((n) => n.name === target)!.address;
    expect(data(ask(down, 'node2.cluster.test', 'A'))).toEqual([`node2.cluster.test A ${pub}`]);
    expect(data(ask(down, 'node2.internal.cluster.test', 'A'))).toEqual([`node2.internal.cluster.test A ${priv}`]);
    expect(data(ask(down, 'ns2.internal.cluster.test', 'A'))).toEqual([`ns2.internal.cluster.test A ${priv}`]);
    expect(data(ask(down, 'redis.internal.cluster.test', 'A'))).toEqual(['redis.internal.cluster.test A 10.0.0.1']);
    expect(data(ask(down, 'internal.cluster.test', 'A'))).toEqual(['internal.cluster.test A 10.0.0.1', 'internal.cluster.test A 192.0.2.3']);
  });

  it('a config without private addresses has no internal names', () => {
    const plain = responder(yaml().replace(/, privateAddress6?: "?[0-9a-f.:]+"?/g, ''));
    expect(ask(plain, 'node1.internal.cluster.test', 'A').rcode).toBe('NXDOMAIN');
    expect(ask(plain, 'internal.cluster.test', 'A').rcode).toBe('NXDOMAIN');
  });
});

describe('dns.internalFrom', () => {
  const r = responder(yaml('dns: { internalFrom: [10.0.0.0/8, "fd00::/8", 192.0.2.77] }'));
  it.each([
    ['10.20.30.40', 'node1.internal.cluster.test', 'A', 'NOERROR'],
    ['fd00::99', 'redis.internal.cluster.test', 'A', 'NOERROR'],
    ['192.0.2.77', 'internal.cluster.test', 'A', 'NOERROR'],
    ['::ffff:10.1.1.1', 'node1.internal.cluster.test', 'A', 'NOERROR'],
    ['198.51.100.7', 'node1.internal.cluster.test', 'A', 'REFUSED'],
    ['192.0.2.78', 'internal.cluster.test', 'A', 'REFUSED'],
    ['198.51.100.7', '_redis._tcp.internal.cluster.test', 'SRV', 'REFUSED'],
    // "no such name" would tell an outsider which names exist: refused too.
    ['198.51.100.7', 'nope.internal.cluster.test', 'A', 'REFUSED'],
    ['10.0.0.5', 'nope.internal.cluster.test', 'A', 'NXDOMAIN'],
    // The public names answer everyone, the insiders too.
    ['198.51.100.7', 'node1.cluster.test', 'A', 'NOERROR'],
    ['10.0.0.5', 'node1.cluster.test', 'A', 'NOERROR'],
    ['198.51.100.7', 'internalx.cluster.test', 'A', 'NXDOMAIN'],
  ])('from %s: %s %s → %s', (source, name, type, rcode) => {
    const m = ask(r, name, type, source);
    expect(m.rcode).toBe(rcode);
    if (rcode === 'REFUSED') expect(m.answers).toEqual([]);
  });

  it('a query without a known source (no address) is outside', () => {
    expect(ask(r, 'node1.internal.cluster.test', 'A', '').rcode).toBe('REFUSED');
  });
});

describe('config', () => {
  const problems = (text: string) => {
    try {
      parseConfig(text);
      return [];
    } catch (e) {
      return (e as { details: string[] }).details;
    }
  };
  it.each([
    ['dns: { internalFrom: [10.0.0.0/33] }', /internalFrom\[0\]: "10\.0\.0\.0\/33" is not a client prefix/],
    ['dns: { internalFrom: [example.com] }', /internalFrom\[0\]: "example\.com" is not a client prefix/],
    ['dns: { internalFrom: [] }', /internalFrom: list at least one prefix/],
  ])('%s is rejected', (dns, want) => {
    expect(problems(yaml(dns)).join('\n')).toMatch(want);
  });

  it('internalFrom without any private address is an error that says what to add', () => {
    const text = yaml('dns: { internalFrom: [10.0.0.0/8] }').replace(/, privateAddress6?: "?[0-9a-f.:]+"?/g, '');
    expect(problems(text).join('\n')).toMatch(/dns\.internalFrom: .*no node has privateAddress/);
  });

  it('a node or service named internal clashes with internal.<zone>', () => {
    expect(problems(yaml().replace('name: web', 'name: internal')).join('\n')).toMatch(/services\[1\]\.name: "internal" is where internal\.cluster\.test/);
    expect(problems(yaml().replace('name: node3', 'name: internal')).join('\n')).toMatch(/nodes\[2\]\.name: "internal"/);
  });

  it('a private address used by another node is an error', () => {
    expect(problems(yaml().replace('privateAddress: 10.0.0.2', 'privateAddress: 10.0.0.1')).join('\n')).toMatch(/address 10\.0\.0\.1 is also used by node1/);
  });

  it('heartbeats go over the private address unless peerAddress says otherwise; the agent listens there too', () => {
    const c = parseConfig(yaml());
    expect(c.nodes.map((n) => n.peerAddress)).toEqual(['10.0.0.1', '10.0.0.2', '192.0.2.3', '10.0.0.9']);
    expect(c.nodes[0].listen).toEqual(['192.0.2.1', '2001:db8::1', '10.0.0.1', 'fd00::1']);
    expect(parseConfig(yaml('dns: { internalFrom: [10.0.0.0/8, 192.0.2.77] }')).dns.internalFrom).toEqual(['10.0.0.0/8', '192.0.2.77/32']);
  });

  it('warns when some nodes have no private address: their internal names give the public one', () => {
    expect(configWarnings(parseConfig(yaml()))).toEqual([
      'nodes: node3 has no privateAddress, so internal.cluster.test names answer its public address — give it privateAddress (or privateAddress6) if clients inside reach it privately',
    ]);
    expect(configWarnings(parseConfig(yaml().replace('address: 192.0.2.3 }', 'address: 192.0.2.3, privateAddress: 10.0.0.3 }')))).toEqual([]);
    expect(configWarnings(parseConfig(yaml().replace(/, privateAddress6?: "?[0-9a-f.:]+"?/g, '')))).toEqual([]);
  });

  it('names too long under internal.<zone> are reported with the fix', () => {
    const long = 'a'.repeat(60);
    const zone = `${long}.${long}.${long}.${'b'.repeat(55)}.test`.slice(0, 235);
    const text = yaml().replace('zone: cluster.test', `zone: ${zone}`);
    expect(problems(text).join('\n')).toMatch(/internal\. names add 9 characters/);
  });
});

describe('zone export', () => {
  it('writes the internal names with their private addresses', () => {
    const config = parseConfig(yaml());
    const text = zoneFileText(buildZone(config, allUpInputs(config, 7)));
    expect(text).toMatch(/^node1\.internal\.cluster\.test\.\s+5\s+IN\s+A\s+10\.0\.0\.1$/m);
    expect(text).toMatch(/^_redis\._tcp\.internal\.cluster\.test\.\s+5\s+IN\s+SRV\s+10 10 6379 node2\.internal\.cluster\.test\.$/m);
    expect(text).toMatch(/^node1\.cluster\.test\.\s+5\s+IN\s+A\s+192\.0\.2\.1$/m);
  });

  it('clusterdns zone export says the file lifts internalFrom, and nsd-checkzone loads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterdns-internal-'));
    try {
      writeFileSync(join(dir, 'cluster.yaml'), yaml('dns: { internalFrom: [10.0.0.0/8] }'));
      const out = spawnSync(process.execPath, [CLI, 'zone', 'export', '--config', join(dir, 'cluster.yaml'), '--serial', '7'], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout).toMatch(/^; internal\.cluster\.test names answer only clients in 10\.0\.0\.0\/8 from the agents; a server loading this file answers them to anyone$/m);
      writeFileSync(join(dir, 'zone'), out.stdout);
      const check = spawnSync(requireTool('nsd-checkzone'), ['cluster.test', join(dir, 'zone')], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
