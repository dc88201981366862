import { describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/config/types';
import { type NodeLink, SentinelEvents } from '../../src/discovery/events';
import { knownMasters } from '../../src/discovery/masters';
import type { ZoneInputs } from '../../src/zone/inputs';
import { cluster } from '../health/cluster';

/** Sentinel's events from masters and links, step by step (no sockets: the wire is in node-redis.test.ts). */

const config: ClusterConfig = {
  ...cluster({ services: [{ name: 'cache', port: 6379, nodes: ['node1', 'node2', 'node3'], policy: 'first-healthy' }] }),
  nodes: [1, 2, 3].map((i) => ({ name: `node${i}`, address: `192.0.2.${i}`, peerAddress: `10.0.0.${i}`, listen: [`192.0.2.${i}`], role: 'node' as const })),
};
/** Every node up is healthy; the service answers those of them it lists (`only`: node1 alone). */
const inputs = (up: string[], only?: string): ZoneInputs => ({ nodeTargets: new Map(), upNodes: up, services: new Map([['cache', only ? up.filter((n) => n === only) : up]]), serving: true, serial: 1 });
const links = (state: Record<string, [heard: boolean, up: boolean]>) =>
  new Map<string, NodeLink>(Object.entries(state).map(([name, [heard, up]]) => [name, { name, heard, late: !heard, up }]));

describe('SentinelEvents', () => {
  it('silence, verdict, switch, return: +sdown, +odown and +switch-master once each, in that order', () => {
    const e = new SentinelEvents();
    const step = (up: string[], l: Record<string, [boolean, boolean]>) =>
      e.next(knownMasters(config, inputs(up)), links(l), 2).map((p) => `${p.channel} ${p.payload('public')}`);
    const all = ['node1', 'node2', 'node3'];
    expect(step(all, { node1: [true, true], node2: [true, true], node3: [true, true] })).toEqual([]);
    // node1 silent: subjectively down, said once.
    expect(step(all, { node1: [false, true], node2: [true, true], node3: [true, true] })).toEqual(['+sdown master cache 192.0.2.1 6379']);
    expect(step(all, { node1: [false, true], node2: [true, true], node3: [true, true] })).toEqual([]);
    // The majority's verdict: objectively down, and the service moves in the same step.
    expect(step(['node2', 'node3'], { node1: [false, false], node2: [true, true], node3: [true, true] })).toEqual([
      '+odown master cache 192.0.2.1 6379 #quorum 2/2',
      '+switch-master cache 192.0.2.1 6379 192.0.2.2 6379',
    ]);
    // node1 back and preferred again: clusterdns fails back, and says so.
    expect(step(all, { node1: [true, true], node2: [true, true], node3: [true, true] })).toEqual(['+switch-master cache 192.0.2.2 6379 192.0.2.1 6379']);
  });

  it('a master nobody can replace: +sdown, +odown, then -sdown and -odown when it returns', () => {
    const e = new SentinelEvents();
    const only: ClusterConfig = { ...config, services: [{ ...config.services[0], nodes: ['node1'] }] };
    const step = (up: string[], l: Record<string, [boolean, boolean]>) => e.next(knownMasters(only, inputs(up, 'node1')), links(l), 2).map((p) => `${p.channel} ${p.payload('private')}`);
    expect(step(['node1', 'node2', 'node3'], { node1: [true, true] })).toEqual([]);
    expect(step(['node2', 'node3'], { node1: [false, false] })).toEqual(['+sdown master cache 10.0.0.1 6379', '+odown master cache 10.0.0.1 6379 #quorum 2/2']);
    expect(step(['node1', 'node2', 'node3'], { node1: [true, true] })).toEqual(['-sdown master cache 10.0.0.1 6379', '-odown master cache 10.0.0.1 6379']);
  });

  it('a service a reload removed is not spoken of again', () => {
    const e = new SentinelEvents();
    e.next(knownMasters(config, inputs(['node1', 'node2', 'node3'])), links({}), 2);
    e.keepOnly(new Set());
    expect(e.next([], links({ node1: [false, false] }), 2)).toEqual([]);
  });
});
