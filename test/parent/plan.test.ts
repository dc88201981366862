import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { formatPlan, planToJson } from '../../src/parent/format';
import { planDelegation } from '../../src/parent/plan';
import { desiredDelegation, rrset, type RRset } from '../../src/parent/records';

const Z = 'cluster.example.test';

function config(nodes: string, ttl = 60) {
  return parseConfig(`zone: ${Z}\nsecret: plan-test-secret-0123456789abcdef0123\nparent: { ttl: ${ttl} }\nnodes:\n${nodes}`);
}

const THREE = config(`  - { name: a, address: 192.0.2.1, address6: "2001:db8::1" }
  - { name: b, address: 192.0.2.2 }
  - { name: c, address: 192.0.2.3 }
  - { name: w, address: 192.0.2.9, role: witness }
`);

const AS_DESIRED: RRset[] = [
  rrset(Z, 'NS', 60, [`ns1.${Z}`, `ns2.${Z}`, `ns3.${Z}`]),
  rrset(`ns1.${Z}`, 'A', 60, ['192.0.2.1']),
  rrset(`ns1.${Z}`, 'AAAA', 60, ['2001:db8::1']),
  rrset(`ns2.${Z}`, 'A', 60, ['192.0.2.2']),
  rrset(`ns3.${Z}`, 'A', 60, ['192.0.2.3']),
];

const summary = (current: RRset[], c = THREE) => planDelegation(desiredDelegation(c), current).changes.map((x) => `${x.action} ${x.name} ${x.type}: ${x.why}`);

describe('desired delegation', () => {
  it('is the NS set of ns1..nsN and their glue, in name-server order, witnesses excluded, TTL parent.ttl', () => {
    expect(desiredDelegation(THREE).rrsets).toEqual(AS_DESIRED);
  });
});

describe('plan', () => {
  it.each<[string, RRset[], string[]]>([
    ['an empty parent: create everything', [], [
      `create ${Z} NS: delegate ${Z} to its 3 name servers`,
      `create ns1.${Z} A: glue: ns1 is node a`,
      `create ns1.${Z} AAAA: glue: ns1 is node a`,
      `create ns2.${Z} A: glue: ns2 is node b`,
      `create ns3.${Z} A: glue: ns3 is node c`,
    ]],
    ['the same records: nothing', AS_DESIRED, []],
    ['the same records spelled differently (case, trailing dots, IPv6 zeros): nothing', [
      rrset(`${Z.toUpperCase()}.`, 'NS', 60, [`NS3.${Z}.`, `ns1.${Z}.`, `Ns2.${Z}`]),
      rrset(`ns1.${Z}.`, 'A', 60, ['192.0.2.1']),
      rrset(`ns1.${Z}`, 'AAAA', 60, ['2001:DB8:0:0::0001']),
      rrset(`ns2.${Z}`, 'A', 60, ['192.0.2.2']),
      rrset(`ns3.${Z}`, 'A', 60, ['192.0.2.3']),
    ], []],
    ['a longer TTL and a moved node', [
      rrset(Z, 'NS', 3600, [`ns1.${Z}`, `ns2.${Z}`, `ns3.${Z}`]),
      ...AS_DESIRED.slice(1, 3),
      rrset(`ns2.${Z}`, 'A', 60, ['192.0.2.22']),
      AS_DESIRED[4],
    ], [`update ${Z} NS: TTL 3600 → 60 (parent.ttl)`, `update ns2.${Z} A: node b address 192.0.2.22 → 192.0.2.2`]],
    ['a fourth name server left over: delete first, then the NS set', [
      rrset(Z, 'NS', 60, [`ns1.${Z}`, `ns2.${Z}`, `ns3.${Z}`, `ns4.${Z}`]),
      ...AS_DESIRED.slice(1),
      rrset(`ns4.${Z}`, 'A', 60, ['192.0.2.4']),
      rrset(`ns4.${Z}`, 'AAAA', 60, ['2001:db8::4']),
    ], [
      `delete ns4.${Z} A: ns4 is no longer a name server (its node was removed or is a witness)`,
      `delete ns4.${Z} AAAA: ns4 is no longer a name server (its node was removed or is a witness)`,
      `update ${Z} NS: drops ns4.${Z} (no longer a name server)`,
    ]],
    ['glue of seed-style names the new NS set drops; unrelated records under the zone are left alone', [
      rrset(Z, 'NS', 60, [`node1.${Z}`, `ns2.${Z}`, `ns3.${Z}`, 'ns.elsewhere.test']),
      rrset(`node1.${Z}`, 'A', 60, ['192.0.2.1']),
      ...AS_DESIRED.slice(1),
      rrset(`www.${Z}`, 'A', 60, ['192.0.2.80']),
      rrset(`node2.${Z}`, 'A', 60, ['192.0.2.2']),
    ], [
      `delete node1.${Z} A: glue of node1.${Z}, which the delegation no longer lists`,
      `update ${Z} NS: adds ns1.${Z}; drops node1.${Z}, ns.elsewhere.test (no longer a name server)`,
    ]],
  ])('%s', (_what, current, expected) => {
    expect(summary(current)).toEqual(expected);
  });

  it('drops the AAAA glue of a node whose address6 went away', () => {
    const noV6 = config(`  - { name: a, address: 192.0.2.1 }\n  - { name: b, address: 192.0.2.2 }\n  - { name: c, address: 192.0.2.3 }\n`);
    expect(summary(AS_DESIRED, noV6)).toEqual([`delete ns1.${Z} AAAA: node a has no IPv6 address in the config`]);
  });

  it('orders ns2 before ns10', () => {
    const nodes = Array.from({ length: 10 }, (_, i) => `  - { name: n${i + 1}, address: 192.0.2.${i + 1} }`).join('\n');
    const names = planDelegation(desiredDelegation(config(`${nodes}\n`)), []).changes.map((c) => c.name);
    expect(names.slice(1, 4)).toEqual([`ns1.${Z}`, `ns2.${Z}`, `ns3.${Z}`]);
    expect(names.at(-1)).toBe(`ns10.${Z}`);
  });
});

describe('plan output', () => {
  const plan = planDelegation(desiredDelegation(THREE), [
    rrset(Z, 'NS', 60, [`ns1.${Z}`, `ns2.${Z}`, `ns3.${Z}`, `ns4.${Z}`]),
    ...AS_DESIRED.slice(1, 4),
    rrset(`ns4.${Z}`, 'A', 60, ['192.0.2.4']),
  ]);

  it('shows each RRset with TTL, what changes and why, deletes first', () => {
    expect(formatPlan(plan, 'zone example.test on 192.0.2.53:53 (RFC 2136)')).toBe(
      [
        `Plan for the delegation of ${Z} in zone example.test on 192.0.2.53:53 (RFC 2136): 1 to delete, 1 to update, 1 to create`,
        `  - delete ns4.${Z}.`,
        '      60 A 192.0.2.4',
        '      why: ns4 is no longer a name server (its node was removed or is a witness)',
        `  ~ update ${Z}.`,
        `      was 60 NS ns1.${Z}., ns2.${Z}., ns3.${Z}., ns4.${Z}.`,
        `      now 60 NS ns1.${Z}., ns2.${Z}., ns3.${Z}.`,
        `      why: drops ns4.${Z} (no longer a name server)`,
        `  + create ns3.${Z}.`,
        '      60 A 192.0.2.3',
        '      why: glue: ns3 is node c',
        '',
      ].join('\n'),
    );
  });

  it('says so when there is nothing to do', () => {
    expect(formatPlan(planDelegation(desiredDelegation(THREE), AS_DESIRED), 'X')).toBe(`No changes: X already delegates ${Z} as the config says (5 RRsets).\n`);
  });

  it('has a JSON form with absolute names', () => {
    const json = planToJson(plan, 'X', false) as { changes: Array<{ action: string; name: string; before?: { values: string[] } }> };
    expect(json.changes.map((c) => [c.action, c.name])).toEqual([
      ['delete', `ns4.${Z}.`],
      ['update', `${Z}.`],
      ['create', `ns3.${Z}.`],
    ]);
    expect(json.changes[1].before?.values).toContain(`ns4.${Z}.`);
  });
});
