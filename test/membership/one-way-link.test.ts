import { QueryStats } from '../../src/server/stats';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type MetricsSource } from '../../src/api/metrics';
import { statusDocument, type StatusSource } from '../../src/api/status';
import { clusterHealth } from '../../src/api/status-text';
import { parseExposition } from '../api/helpers';
import { makeConfig, SimCluster } from './helpers';

/**
 * Found by the fault lab (issue 10): with the link node1 → node2 dropping everything (node2 → node1
 * fine) no verdict changes, rightly (a majority hears both), but nothing said the link was broken.
 * Every agent now logs it, exports it as a metric and lists it in the status document.
 */
const INTERVAL = 250;
const DOWN_AFTER = 1000;

let c: SimCluster | undefined;
afterEach(() => c?.stopAll());

const linkEvents = (sim: SimCluster) => sim.log.filter((l) => l.event.type === 'link');

describe('a one-way link is reported', () => {
  it('node1 → node2 dropped: every agent logs it, lists it in its view, and clears it on heal', () => {
    c = new SimCluster(makeConfig(3)).startAll();
    c.run(2000);
    expect(linkEvents(c)).toEqual([]);
    c.net.cut('node1', 'node2');
    // Silent for downAfter, then broken for downAfter more before it is reported.
    c.run(2 * DOWN_AFTER + 2 * INTERVAL);

    for (const a of c.names) {
      expect(c.view(a).links.map((l) => [l.from, l.to]), `${a}'s view`).toEqual([['node1', 'node2']]);
      expect(linkEvents(c).filter((l) => l.node === a && l.event.type === 'link' && l.event.broken), `${a}'s log`).toHaveLength(1);
    }
    // node1 and node3 have both rows: they say which way it fails.
    for (const a of ['node1', 'node3']) expect(c.view(a).links[0].message).toBe('node1 hears node2, node2 does not hear node1: the link node1 → node2 drops heartbeats');
    expect(c.view('node2').links[0].message).toBe('node2 does not hear node1, which others hear: the link node1 → node2 drops heartbeats');
    // No verdict changed, and it is reported once, not every interval.
    c.run(30_000);
    expect(linkEvents(c)).toHaveLength(3);
    for (const a of c.names) expect(c.view(a).nodes.every((n) => n.up)).toBe(true);

    c.net.heal();
    c.run(2 * INTERVAL);
    for (const a of c.names) expect(c.view(a).links).toEqual([]);
    expect(linkEvents(c).filter((l) => l.event.type === 'link' && !l.event.broken).map((l) => l.event.message)).toEqual([
      'node2 hears node1 again',
      'node2 hears node1 again',
      'node2 hears node1 again',
    ]);
  });

  it('a dead node, a partition and 20 % loss are not reported as broken links', () => {
    c = new SimCluster(makeConfig(5), { seed: 3 }).startAll();
    c.run(2000);
    c.kill('node5');
    c.run(5000);
    c.net.partition(['node1', 'node2', 'node3'], ['node4']);
    c.run(5000);
    c.net.heal();
    c.run(5000);
    c.net.setLoss(0.2);
    c.run(30_000);
    expect(linkEvents(c).map((l) => `${l.node}: ${l.event.message}`)).toEqual([]);
  });

  it('the status document and the metrics say which link', async () => {
    c = new SimCluster(makeConfig(3)).startAll();
    c.run(2000);
    c.net.cut('node1', 'node2');
    // Silent for downAfter, then broken for downAfter more before it is reported.
    c.run(2 * DOWN_AFTER + 2 * INTERVAL);
    const m = c.members.get('node3')!;
    const src = {
      node: c.config.nodes[2],
      currentConfig: c.config,
      currentInputs: { nodeTargets: new Map(), upNodes: [], services: new Map(), serving: true, serial: 1 },
      startedAt: 0,
      events: [],
      failovers: 0,
      stats: new QueryStats(),
      view: () => m.view(),
      counters: () => m.counters(),
      healthDetails: () => undefined,
    } as unknown as StatusSource & MetricsSource;
    expect(statusDocument(src, Date.now(), '1').links).toEqual([
      { from: 'node1', to: 'node2', reverseHeard: true, message: 'node1 hears node2, node2 does not hear node1: the link node1 → node2 drops heartbeats' },
    ]);
    expect(clusterHealth(statusDocument(src, Date.now(), '1'))).toEqual({
      exitCode: 1,
      summary: 'degraded: node1 hears node2, node2 does not hear node1: the link node1 → node2 drops heartbeats',
    });
    const metrics = parseExposition(await createMetrics(src, { node: 'node3', version: '1' }).metrics());
    expect(metrics.samples.filter((s) => s.name === 'clusterdns_peer_link_broken')).toEqual([{ name: 'clusterdns_peer_link_broken', labels: { from: 'node1', to: 'node2' }, value: 1 }]);
  });
});
