import { describe, expect, it } from 'vitest';
import { evaluate, worthAskingAgain } from '../../src/check/report';
import { observe, reply, rec, TIMEOUT, ZONE, type Scenario } from './scenario';

interface Case {
  name: string;
  scenario: Scenario;
  exit: 0 | 1 | 2;
  /** Finding codes (with their subject) that must be there. */
  codes?: string[];
  /** Names reported failed over, each `name>node`. */
  failedOver?: string[];
  /** A problem that may be a change in progress: worth one more look. */
  transient?: boolean;
}

const node3Down = { node1: 'node1', node2: 'node2', node3: 'node2' };

const CASES: Case[] = [
  { name: 'healthy, with the config', scenario: {}, exit: 0, codes: [] },
  { name: 'healthy, without a config (identities and glue stand in)', scenario: { config: false }, exit: 0, codes: [] },
  { name: 'healthy, with internal names answered with the private addresses', scenario: { internal: 'answered' }, exit: 0, codes: [] },
  {
    name: 'internal names refused to the checker (dns.internalFrom): said once, not a problem',
    scenario: { internal: 'refused' },
    exit: 0,
    codes: ['internal-refused internal.cluster.test'],
  },
  {
    name: 'node3 dead: its internal names fail over with its public ones',
    scenario: { internal: 'answered', dead: ['node3'], targets: node3Down },
    exit: 1,
    codes: ['server-down 127.0.8.3', 'failed-over node3.internal.cluster.test', 'failed-over ns3.internal.cluster.test'],
    failedOver: ['node3.cluster.test>node2', 'node3.internal.cluster.test>node2', 'ns3.cluster.test>node2', 'ns3.internal.cluster.test>node2'],
  },

  {
    name: 'node3 dead and failed over to node2: degraded, naming it',
    scenario: { dead: ['node3'], targets: node3Down },
    exit: 1,
    codes: ['server-down 127.0.8.3', 'failed-over node3.cluster.test', 'failed-over ns3.cluster.test'],
    failedOver: ['node3.cluster.test>node2', 'ns3.cluster.test>node2'],
  },
  {
    name: 'node3 dead and failed over, without a config: ns3 by the glue',
    scenario: { config: false, dead: ['node3'], targets: node3Down },
    exit: 1,
    codes: ['server-down 127.0.8.3', 'failed-over ns3.cluster.test'],
    failedOver: ['ns3.cluster.test>node2'],
  },
  {
    name: 'node3 in the minority answering REFUSED, failed over by the majority',
    scenario: { rcode: { node3: 'REFUSED' }, targets: node3Down },
    exit: 1,
    codes: ['server-minority 127.0.8.3'],
  },
  {
    name: 'node3 in the minority answering SERVFAIL',
    scenario: { rcode: { node3: 'SERVFAIL' }, targets: node3Down },
    exit: 1,
    codes: ['server-minority 127.0.8.3'],
  },
  {
    name: 'node3 just died, not failed over yet: broken, but ask again',
    scenario: { dead: ['node3'] },
    exit: 2,
    codes: ['lame 127.0.8.3'],
    transient: true,
  },
  {
    name: 'node3 answers REFUSED while the others say it is up: lame',
    scenario: { rcode: { node3: 'REFUSED' } },
    exit: 2,
    codes: ['lame 127.0.8.3'],
    transient: false,
  },
  {
    name: 'node2 answers without AA: lame',
    scenario: { noAa: ['node2'] },
    exit: 2,
    codes: ['lame 127.0.8.2'],
  },
  {
    name: 'glue of ns2 points nowhere (config): glue mismatch and a lame address',
    scenario: { glue: { 'ns1.cluster.test': ['127.0.8.1'], 'ns2.cluster.test': ['127.0.8.99'], 'ns3.cluster.test': ['127.0.8.3'] } },
    exit: 2,
    codes: ['glue-mismatch ns2.cluster.test', 'lame 127.0.8.99'],
  },
  {
    name: 'glue of ns2 points nowhere, without a config: the cluster says where ns2 is',
    scenario: { config: false, glue: { 'ns1.cluster.test': ['127.0.8.1'], 'ns2.cluster.test': ['127.0.8.99'], 'ns3.cluster.test': ['127.0.8.3'] } },
    exit: 2,
    codes: ['glue-mismatch ns2.cluster.test', 'lame 127.0.8.99'],
  },
  {
    name: 'glue of ns2 points at node3, which is up',
    scenario: { glue: { 'ns1.cluster.test': ['127.0.8.1'], 'ns2.cluster.test': ['127.0.8.3'], 'ns3.cluster.test': ['127.0.8.3'] } },
    exit: 2,
    codes: ['glue-mismatch ns2.cluster.test'],
  },
  {
    name: 'no glue for ns3',
    scenario: { glue: { 'ns1.cluster.test': ['127.0.8.1'], 'ns2.cluster.test': ['127.0.8.2'] } },
    exit: 2,
    codes: ['glue-missing ns3.cluster.test'],
  },
  {
    name: 'the parent delegates to two of the three name servers',
    scenario: { parentNs: ['ns1.cluster.test', 'ns2.cluster.test'] },
    exit: 2,
    codes: ['ns-mismatch cluster.test', 'ns-config-mismatch cluster.test'],
  },
  {
    name: 'the parent has no delegation (NOERROR, SOA in authority)',
    scenario: { parentOutcome: reply({ aa: true, authority: [rec('test', 'SOA', 60, 'ns.test 1', 1)] }) },
    exit: 2,
    codes: ['parent-no-referral ns.test (127.0.8.11)'],
  },
  {
    name: 'the parent answers NXDOMAIN',
    scenario: { parentOutcome: reply({ rcode: 'NXDOMAIN', aa: true }) },
    exit: 2,
    codes: ['parent-no-referral ns.test (127.0.8.11)'],
  },
  {
    name: '--parent points at a cluster node (answers NS itself, authoritative)',
    scenario: { parentOutcome: reply({ aa: true, answer: [rec(ZONE, 'NS', 2, 'ns1.cluster.test')] }) },
    exit: 2,
    codes: ['parent-no-referral ns.test (127.0.8.11)'],
  },
  { name: 'the parent does not answer', scenario: { parentOutcome: TIMEOUT }, exit: 2, codes: ['parent-no-referral ns.test (127.0.8.11)'] },
  { name: 'no parent server found by the walk', scenario: { parentError: 'resolver 127.0.8.53:53 did not answer' }, exit: 2, codes: ['parent-not-found cluster.test'] },
  {
    name: 'two parent servers disagree on glue',
    scenario: { otherParents: [{ 'ns2.cluster.test': ['127.0.8.42'] }] },
    exit: 2,
    codes: ['parents-disagree 127.0.8.12'],
    transient: true,
  },
  {
    name: 'nothing answers',
    scenario: { dead: ['node1', 'node2', 'node3'] },
    exit: 2,
    codes: ['nothing-answers cluster.test'],
  },
  {
    name: 'node1 answers UDP but not TCP',
    scenario: { tcp: { node1: TIMEOUT } },
    exit: 2,
    codes: ['tcp-failed 127.0.8.1'],
  },
  { name: 'node2 without EDNS: a warning only', scenario: { noEdns: ['node2'] }, exit: 0, codes: ['no-edns 127.0.8.2'] },
  {
    name: 'serials differ while every answer agrees: agents that do not hear each other',
    scenario: { serials: { node3: 99 } },
    exit: 2,
    codes: ['serial-mismatch cluster.test'],
    transient: true,
  },
  {
    name: 'serials and answers differ: a split view',
    scenario: { serials: { node3: 99 }, answers: { node3: { 'node2.cluster.test': ['127.0.8.3'] } } },
    exit: 2,
    codes: ['serial-mismatch cluster.test', 'answers-disagree node2.cluster.test'],
    transient: true,
  },
  {
    name: 'one agent serves another NS set',
    scenario: { childNs: { node2: ['ns1.cluster.test', 'ns2.cluster.test'] } },
    exit: 2,
    codes: ['ns-disagree cluster.test'],
    transient: true,
  },
  {
    name: "node2's address is answered by node3's agent",
    scenario: { identity: { node2: 'node3' } },
    exit: 2,
    codes: ['wrong-node 127.0.8.2'],
  },
  {
    name: 'TTLs so long a client may keep a dead address for minutes: a warning',
    scenario: { answerTtl: 60, parentTtl: 86400, configParentTtl: 86400 },
    exit: 0,
    codes: ['stale-too-long ttl'],
  },
  {
    name: "the parent's TTL is not the config's parent.ttl",
    scenario: { parentTtl: 3600, configParentTtl: 60, maxStaleSeconds: 10_000 },
    exit: 0,
    codes: ['parent-ttl cluster.test'],
  },
];

describe('check verdicts from observations', () => {
  it.each(CASES)('$name', (c) => {
    const r = evaluate(observe(c.scenario));
    const codes = r.findings.map((f) => `${f.code} ${f.subject}`);
    if (c.codes) {
      for (const code of c.codes) expect(codes).toContain(code);
      if (c.codes.length === 0) expect(r.findings).toEqual([]);
    }
    expect({ exit: r.exitCode, codes }).toMatchObject({ exit: c.exit });
    expect(r.verdict).toBe(['healthy', 'degraded', 'broken'][c.exit]);
    if (c.failedOver) expect(r.failedOver.map((f) => `${f.name}>${f.to.join(',')}`).sort()).toEqual(c.failedOver);
    if (c.transient !== undefined) expect(worthAskingAgain(r)).toBe(c.transient);
    for (const f of r.findings.filter((x) => x.severity !== 'ok')) expect(f.fix, `${f.code} says what to do`).toBeTruthy();
  });
});

describe('worst-case time a client may keep a dead address', () => {
  it('is detection + answer TTL for a name, plus the parent TTL through NS and glue', () => {
    const r = evaluate(observe({ detectionMs: 1250, answerTtl: 30, parentTtl: 60, maxStaleSeconds: 1000 }));
    expect(r.staleness).toMatchObject({ detectionSeconds: 1.25, answerTtl: 30, parentNsTtl: 60, glueTtl: 60, nameWorstSeconds: 31.25, nsPathWorstSeconds: 91.25 });
  });
  it('warns only above the threshold', () => {
    expect(evaluate(observe({ answerTtl: 30, parentTtl: 60, maxStaleSeconds: 91.25 })).findings).toEqual([]);
    const warned = evaluate(observe({ answerTtl: 30, parentTtl: 60, maxStaleSeconds: 91 }));
    expect(warned.findings.map((f) => f.code)).toEqual(['stale-too-long']);
    expect(warned.findings[0].message).toContain('91.25 s');
  });
});
