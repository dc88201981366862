import { describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/membership/messages';
import { initialState, reduce } from '../../src/membership/reducer';
import { makeConfig, SECRET } from './helpers';

/** Heartbeats carry the SOA serial; the agent (src/agent/zone-serial.ts) decides which to serve. */
describe('zone serial in heartbeats', () => {
  const config = makeConfig(3);
  const heartbeatFrom = (sender: string, sequence: number, zoneSerial: number) =>
    encodeHeartbeat(
      {
        sender,
        incarnation: 1n,
        sequence,
        configHash: config.hash,
        nodeHealthy: true,
        // Echoes node1's boot (5n) before its first heartbeat: proof this boot of node2 is fresh.
        heard: new Map([['node1', { everHeard: true, ageMs: 0, verdict: 'up' as const }]]),
        echoes: new Map([['node1', { boot: 5, sequence: 0 }]]),
        services: new Map(),
        zoneSerial,
      },
      SECRET,
    );

  it('announces its own serial and reports each new serial a peer announces, once', () => {
    let state = reduce(initialState({ config, self: 'node1', incarnation: 5n, now: 0 }), { type: 'zone-serial', serial: 100 }, 0).state;
    expect(state.zoneSerial).toBe(100);
    const lower = reduce(state, { type: 'message', bytes: heartbeatFrom('node2', 1, 99) }, 10);
    expect(lower.effects.filter((e) => e.type === 'peer-serial')).toEqual([{ type: 'peer-serial', node: 'node2', serial: 99 }]);
    const higher = reduce(lower.state, { type: 'message', bytes: heartbeatFrom('node2', 2, 105) }, 20);
    expect(higher.effects.filter((e) => e.type === 'peer-serial')).toEqual([{ type: 'peer-serial', node: 'node2', serial: 105 }]);
    state = higher.state;
    const again = reduce(state, { type: 'message', bytes: heartbeatFrom('node2', 3, 105) }, 30);
    expect(again.effects.filter((e) => e.type === 'peer-serial')).toEqual([]);
  });
});
