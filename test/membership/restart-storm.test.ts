import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, SimCluster } from './helpers';

/**
 * Found by the fault lab (issue 10, "restart storm"): a node killed during its hold-down still
 * counted as heard for downAfter, so its hold-down could end after it was dead (0.93 s after the
 * kill in the lab): 250 ms of answers with a dead address, then a second failure counted as a flap.
 * Ending a hold-down needs a majority that heard the node within about two intervals, so a kill
 * more than that before the end keeps the node down.
 */
const INTERVAL = 250;
const UP_AFTER = 3000;

let c: SimCluster | undefined;
afterEach(() => c?.stopAll());

describe('a node killed again during its hold-down', () => {
  it.each([450, 550, 650])('killed %i ms before upAfter has passed since its restart: never published up, no flap', (beforeEndMs) => {
    c = new SimCluster(makeConfig(3)).startAll();
    c.run(2000);
    c.kill('node2');
    expect(c.runUntil(() => c!.state('node1', 'node2') === 'down' && c!.state('node3', 'node2') === 'down', 2000)).toBeDefined();
    const ups = () => c!.verdictEvents({ node: 'node2', up: true }).filter((l) => l.node !== 'node2');
    const upsBefore = ups().length;
    c.start('node2');
    // The hold-down counts from when a majority first hears it again, about an interval after the
    // start: the kill comes 0.7–0.9 s before the hold-down would end, while it still counts as heard.
    c.run(UP_AFTER - beforeEndMs);
    c.kill('node2');
    c.run(5000);
    expect(ups().slice(upsBefore).map((l) => `${l.node}: ${l.event.message}`)).toEqual([]);
    for (const a of ['node1', 'node3']) {
      expect(c.state(a, 'node2')).toBe('down');
      // Not a flap: the next hold-down is not doubled.
      expect(c.view(a).nodes[1].holdDownMs).toBe(UP_AFTER);
    }
  });
});
