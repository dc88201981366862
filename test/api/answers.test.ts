import { describe, expect, it } from 'vitest';
import { currentAnswers } from '../../src/api/answers';
import { zoneInputs } from '../../src/failover/zone-inputs';
import { buildZone } from '../../src/zone/zone';
import { config, view } from './fixtures';

/** The answers list, read from the zone the compiler encodes, for views of a three-node cluster. */

const cfg = config({ witness: true, service: true });
const answersFor = (down: string[]) =>
  currentAnswers(buildZone(cfg, zoneInputs(cfg, view(cfg, 1000, Object.fromEntries(down.map((n) => [n, { state: 'down' as const, up: false }]))), 1)));
const row = (a: ReturnType<typeof answersFor>[number]) => [a.name, a.servedBy.join(','), a.a.join(','), a.aaaa.join(','), a.failedOver];

describe('currentAnswers', () => {
  it('all up: every name answers with its own node; the witness is neither a name server nor an answer', () => {
    expect(answersFor([]).map(row)).toEqual([
      ['cluster.test', 'node1,node2,node3', '192.0.2.1,192.0.2.2,192.0.2.3', '2001:db8::1', false],
      ['node1.cluster.test', 'node1', '192.0.2.1', '2001:db8::1', false],
      ['ns1.cluster.test', 'node1', '192.0.2.1', '2001:db8::1', false],
      ['node2.cluster.test', 'node2', '192.0.2.2', '', false],
      ['ns2.cluster.test', 'node2', '192.0.2.2', '', false],
      ['node3.cluster.test', 'node3', '192.0.2.3', '', false],
      ['ns3.cluster.test', 'node3', '192.0.2.3', '', false],
      ['web.cluster.test', 'node2', '192.0.2.2', '', false],
    ]);
    expect(answersFor([]).find((a) => a.kind === 'service')).toMatchObject({ owner: 'web', port: 8443 });
  });

  it('node2 down: its two names fail over to one live node, its service to the next in line, the apex drops it', () => {
    const a = answersFor(['node2']);
    const n2 = a.find((x) => x.name === 'node2.cluster.test')!;
    expect(n2.failedOver).toBe(true);
    expect(['node1', 'node3']).toContain(n2.servedBy[0]);
    expect(a.find((x) => x.name === 'ns2.cluster.test')).toMatchObject({ failedOver: true, servedBy: n2.servedBy, a: n2.a });
    expect(a.filter((x) => x.failedOver).map((x) => x.name)).toEqual(['node2.cluster.test', 'ns2.cluster.test']);
    expect(a.find((x) => x.name === 'web.cluster.test')).toMatchObject({ servedBy: ['node1'], a: ['192.0.2.1'], aaaa: ['2001:db8::1'] });
    expect(a[0].servedBy).toEqual(['node1', 'node3']);
  });

  it('nothing up: the zone fails open — every node name answers with its own node, nothing failed over; the service has no address', () => {
    const a = answersFor(['node1', 'node2', 'node3']);
    expect(a.filter((x) => x.kind !== 'service').every((x) => x.a.length > 0 && !x.failedOver)).toBe(true);
    expect(a.find((x) => x.name === 'node2.cluster.test')).toMatchObject({ servedBy: ['node2'], a: ['192.0.2.2'] });
    expect(a.find((x) => x.kind === 'service')!.a).toEqual([]);
  });
});
