import { describe, expect, it } from 'vitest';
import { failoverTarget } from '../../src/failover/rendezvous';
import { zoneInputs } from '../../src/failover/zone-inputs';
import type { NodeView } from '../../src/membership/view';
import { makeConfig, type NodeSpec } from '../membership/helpers';

type Row = [name: string, up: boolean, services?: Record<string, boolean>];

function view(rows: Row[], serving = true) {
  const nodes = rows.map(
    ([name, up, services]) => ({ name, up, state: up ? 'up' : 'down', services: services ?? {} }) as unknown as NodeView,
  );
  return { nodes, serving };
}

const services = [
  { name: 'cache', port: 6379, nodes: ['node2', 'node1', 'node3'], policy: 'first-healthy' },
  { name: 'web', port: 80, nodes: ['node1', 'node2', 'node3'], policy: 'all-healthy' },
  { name: 'db', port: 5432, nodes: ['node1', 'node2'], policy: 'first-healthy', whenAllDown: 'all' },
];
const config = makeConfig(3, { services });

describe('zoneInputs', () => {
  it('all up: every node answers for itself, services per policy', () => {
    const z = zoneInputs(config, view([['node1', true], ['node2', true], ['node3', true]]), 7);
    expect(z.serial).toBe(7);
    expect(z.serving).toBe(true);
    expect([...z.nodeTargets]).toEqual([['node1', 'node1'], ['node2', 'node2'], ['node3', 'node3']]);
    expect(z.upNodes).toEqual(['node1', 'node2', 'node3']);
    expect([...z.services]).toEqual([['cache', ['node2']], ['web', ['node1', 'node2', 'node3']], ['db', ['node1']]]);
  });

  it('a down node answers with its failover target', () => {
    const z = zoneInputs(config, view([['node1', true], ['node2', false], ['node3', true]]), 1);
    expect(z.nodeTargets.get('node2')).toBe(failoverTarget('node2', ['node1', 'node3'], config));
    expect(z.upNodes).toEqual(['node1', 'node3']);
    expect(z.services.get('cache')).toEqual(['node1']);
    expect(z.services.get('web')).toEqual(['node1', 'node3']);
  });

  it.each<[string, Row[], Record<string, readonly string[]>]>([
    ['a failing service check skips that node', [['node1', true, { db: false, web: false }], ['node2', true], ['node3', true]], { db: ['node2'], web: ['node2', 'node3'], cache: ['node2'] }],
    ['unlisted service health counts as healthy', [['node1', true, { other: false }], ['node2', false], ['node3', true]], { db: ['node1'], cache: ['node1'] }],
    ['none healthy, whenAllDown none → nothing (NODATA)', [['node1', false], ['node2', false], ['node3', true, { cache: false, web: false }]], { cache: [], web: [] }],
    ['none healthy, whenAllDown all → every listed node', [['node1', true, { db: false }], ['node2', true, { db: false }], ['node3', true]], { db: ['node1', 'node2'] }],
  ])('%s', (_name, rows, expected) => {
    const z = zoneInputs(config, view(rows), 1);
    for (const [svc, nodes] of Object.entries(expected)) expect(z.services.get(svc), svc).toEqual(nodes);
  });

  it('nothing up: fails open — every node answers for itself, the apex lists all, services keep whenAllDown', () => {
    const z = zoneInputs(config, view([['node1', false], ['node2', false], ['node3', false]]), 1);
    expect([...z.nodeTargets]).toEqual([['node1', 'node1'], ['node2', 'node2'], ['node3', 'node3']]);
    expect(z.upNodes).toEqual(['node1', 'node2', 'node3']);
    expect(z.failOpen).toBe(true);
    expect([...z.services]).toEqual([['cache', []], ['web', []], ['db', ['node1', 'node2']]]);
  });

  it('one node up: no fail-open, the others fail over to it', () => {
    const z = zoneInputs(config, view([['node1', false], ['node2', true], ['node3', false]]), 1);
    expect([...z.nodeTargets.values()]).toEqual(['node2', 'node2', 'node2']);
    expect(z.upNodes).toEqual(['node2']);
    expect(z.failOpen).toBe(false);
  });

  it('not serving: failOpen is not reported (the zone is refused anyway)', () => {
    const z = zoneInputs(config, view([['node1', false], ['node2', false], ['node3', false]], false), 1);
    expect(z.serving).toBe(false);
    expect(z.failOpen).toBe(false);
  });

  it('a witness being up does not stop the name servers failing open', () => {
    const c = makeConfig([{ name: 'node1' }, { name: 'node2' }, { name: 'tie', role: 'witness' }]);
    const z = zoneInputs(c, view([['node1', false], ['node2', false], ['tie', true]]), 1);
    expect(z.failOpen).toBe(true);
    expect([...z.nodeTargets]).toEqual([['node1', 'node1'], ['node2', 'node2']]);
    expect(z.upNodes).toEqual(['node1', 'node2']);
  });

  it('witnesses vote but never appear in answers', () => {
    const nodes: NodeSpec[] = [{ name: 'node1' }, { name: 'node2' }, { name: 'tie', role: 'witness' }];
    const c = makeConfig(nodes);
    for (const up of [[true, true, true], [true, false, true], [false, true, true], [false, false, true]]) {
      const z = zoneInputs(c, view([['node1', up[0]], ['node2', up[1]], ['tie', up[2]]]), 1);
      expect([...z.nodeTargets.keys()]).toEqual(['node1', 'node2']);
      expect([...z.nodeTargets.values()]).not.toContain('tie');
      expect(z.upNodes).not.toContain('tie');
    }
  });

  it('is a pure function of its inputs', () => {
    const v = view([['node1', true], ['node2', false], ['node3', true]]);
    expect(zoneInputs(config, v, 3)).toEqual(zoneInputs(config, v, 3));
  });

  it('rack preference reaches node targets', () => {
    const c = makeConfig([
      { name: 'a1', rack: 'a' },
      { name: 'a2', rack: 'a' },
      { name: 'b1', rack: 'b' },
      { name: 'b2', rack: 'b' },
      { name: 'b3', rack: 'b' },
    ]);
    const z = zoneInputs(c, view([['a1', false], ['a2', true], ['b1', true], ['b2', true], ['b3', false]]), 1);
    expect(z.nodeTargets.get('a1')).toBe('a2');
    expect(['b1', 'b2']).toContain(z.nodeTargets.get('b3'));
  });
});

