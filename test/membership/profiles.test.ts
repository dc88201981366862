import { afterEach, describe, expect, it } from 'vitest';
import { makeConfig, SimCluster } from './helpers';

/**
 * peer.profile: wan on a wide-area network, simulated: 300 ms RTT (150 ms each way) with up to
 * 100 ms of jitter and 5 % loss on every link, for 10 virtual minutes. No false failover, and a
 * real failure is still found within downAfter + 2 intervals + the delay.
 */
let c: SimCluster | undefined;
afterEach(() => c?.stopAll());

describe('peer.profile: wan', () => {
  it.each([
    [3, 21],
    [3, 22],
    [5, 23],
  ])('%i nodes at 300 ms RTT, 100 ms jitter, 5 percent loss (seed %i): no false failover in 10 minutes', (n, seed) => {
    const config = makeConfig(n, { peer: { profile: 'wan' } });
    expect(config.peer).toMatchObject({ intervalMs: 500, downAfterMs: 3000, upAfterMs: 10_000 });
    c = new SimCluster(config, { seed }).startAll();
    c.net.setDelay(150, 100);
    c.net.setLoss(0.05);
    c.run(5000);
    for (const a of c.names) expect(c.view(a).nodes.every((x) => x.up), `${a} sees every node up`).toBe(true);
    c.run(600_000);
    const falls = c.log.filter((l) => (l.event.type === 'verdict' && !l.event.up) || l.event.type === 'minority');
    expect(falls.map((l) => `${l.node}: ${l.event.message}`)).toEqual([]);

    c.kill('node2');
    const took = c.runUntil(() => c!.live().every((a) => c!.state(a, 'node2') === 'down'), 3000 + 2 * 500 + 250, 10);
    expect(took, 'node2 found down').toBeDefined();
  });
});
