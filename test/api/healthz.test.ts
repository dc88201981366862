import { describe, expect, it } from 'vitest';
import { readiness } from '../../src/api/healthz';

/** What /healthz answers a load balancer, for each kind of agent and state. */

const base = { zone: 'cluster.test', majority: 2, nodes: [{}, {}, {}] as never[], unavailableRcode: 'REFUSED' as const };

describe('readiness', () => {
  it.each([
    ['a serving node', { role: 'node', serving: true, quorum: true, minority: false, hears: ['node1', 'node2', 'node3'] }, { ok: true }],
    [
      'a node in the minority',
      { role: 'node', serving: false, quorum: true, minority: true, hears: ['node1'] },
      { ok: false, reason: 'minority: hears 1 of 3 nodes (node1), needs 2; answering REFUSED for cluster.test' },
    ],
    [
      'a node that has not heard a majority since it started',
      { role: 'node', serving: false, quorum: false, minority: false, hears: ['node1', 'node2'] },
      { ok: false, reason: 'no quorum yet: waiting to hear a majority (hears 2 of 3 nodes (node1, node2), needs 2)' },
    ],
    ['a node with a majority whose table is not swapped yet', { role: 'node', serving: false, quorum: true, minority: false, hears: ['node1', 'node2'] }, { ok: false, reason: 'not answering cluster.test yet' }],
    ['a witness that hears a majority (it never serves)', { role: 'witness', serving: false, quorum: true, minority: false, hears: ['tie', 'node1'] }, { ok: true }],
    ['a witness alone', { role: 'witness', serving: false, quorum: true, minority: true, hears: ['tie'] }, { ok: false, reason: 'minority: hears 1 of 3 nodes (tie), needs 2' }],
  ] as const)('%s', (_what, s, expected) => {
    expect(readiness({ ...base, ...s, hears: [...s.hears] })).toEqual(expected);
  });
});
