import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, SimCluster } from './helpers';

/**
 * Found by the fault lab (issue 10, "restart storm", after the 2.5-interval rule): a restarted node
 * records itself down from the peers' first rows, so its own hold-down of itself ends a round trip
 * after theirs, and the peers wait for its row to stop holding it down. Killed in that gap, its
 * last row (still "down") went on holding it for downAfter; when that row went stale the holder was
 * gone and the peers published the dead node up, 1.08 s after the kill (the lab: "node1 switches
 * node3 to 198.51.100.13 … 1083 ms after it became unreachable"). Publishing up needs what ending a
 * hold-down needs: a majority that heard the node within 2.5 intervals, at that moment.
 */
const INTERVAL = 250;
const RECENT = 2.5 * INTERVAL;

let c: SimCluster | undefined;
afterEach(() => c?.stopAll());

describe('a node killed while only its own row still holds it down', () => {
  it.each([0, 50, 100])('killed %i ms after a peer ended its hold-down: no agent publishes it up later than 2.5 intervals after the kill', (afterMs) => {
    c = new SimCluster(makeConfig(3)).startAll();
    c.run(2000);
    c.kill('node3');
    expect(c.runUntil(() => c!.state('node1', 'node3') === 'down' && c!.state('node2', 'node3') === 'down', 2000)).toBeDefined();
    c.start('node3');
    // node1's own verdict (its row) is up, but node3's row still holds node3 down.
    const ownUp = () => c!.view('node1').matrix.node1.heard.node3.verdict === 'up';
    expect(c.runUntil(ownUp, 5000, 1)).toBeDefined();
    expect(c.view('node1').nodes.find((n) => n.name === 'node3')!.up).toBe(false);
    c.run(afterMs);
    c.kill('node3');
    const killedAt = c.clock.now();
    c.run(5000);
    const late = c
      .verdictEvents({ node: 'node3', up: true })
      .filter((l) => l.node !== 'node3' && l.at > killedAt + RECENT)
      .map((l) => `${l.node} at +${l.at - killedAt} ms: ${l.event.type === 'verdict' ? l.event.message : ''}`);
    expect(late).toEqual([]);
    for (const a of ['node1', 'node2']) expect(c.state(a, 'node3')).toBe('down');
  });
});
