import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, SimCluster } from './helpers';

/**
 * Found by the fault lab (issue 10, "heal after isolation or split"): a node cut off in the
 * minority never records itself down, so on rejoining it answered its own name with its own
 * address for its whole hold-down while the majority answered with the failover target. It
 * happened when the majority heard the rejoining node before the node heard their rows (which
 * still said "silent"): the links of a heal do not come back in both directions at one instant.
 */
const INTERVAL = 250;
const UP_AFTER = 3000;

let c: SimCluster | undefined;
afterEach(() => c?.stopAll());

describe('a node rejoining after a spell in the minority', () => {
  it.each([
    ['3 nodes, node3 isolated', 3, [['node1', 'node2'], ['node3']]],
    ['5 nodes, 3+2 split', 5, [['node1', 'node2', 'node3'], ['node4', 'node5']]],
  ] as const)('%s: the rejoining side answers with the majority until the hold-down ends', (_name, n, [major, minor]) => {
    c = new SimCluster(makeConfig(n)).startAll();
    c.run(2000);
    c.net.partition(major, minor);
    c.run(3000);
    for (const m of minor) expect(c.view(m).serving).toBe(false);
    // The heal reaches the majority first: it hears the minority an interval before the minority hears it.
    c.net.heal();
    for (const a of major) for (const b of minor) c.net.cut(a, b);
    c.run(INTERVAL + 10);
    c.net.heal();
    const healedAt = c.clock.now();

    // From two intervals after the heal until the hold-down ends, every serving agent gives the
    // majority's answers: the minority's nodes still failed over.
    c.run(2 * INTERVAL);
    for (; c.clock.now() - healedAt < UP_AFTER - INTERVAL; c.run(10)) {
      const serving = c.names.filter((a) => c!.view(a).serving);
      expect(serving.length).toBeGreaterThan(major.length);
      const agreed = c.agreedInputs(serving);
      expect(agreed, `serving agents agree ${c.clock.now() - healedAt} ms after the heal`).toBeDefined();
      expect(agreed!.upNodes).toEqual([...major]);
    }
    // And it comes back everywhere together.
    expect(c.runUntil(() => c!.agreedInputs()?.upNodes.length === n, UP_AFTER + 2 * INTERVAL)).toBeDefined();
  });
});
