import { Type } from '../wire/constants';
import type { ZoneData } from '../zone/zone';
import type { AnswerStatus } from './status-types';

/**
 * Every name answered with node addresses, read from the zone the answer compiler encodes
 * (zone/zone.ts), so the list says what the table serves without decoding its bytes.
 */
export function currentAnswers(zone: ZoneData): AnswerStatus[] {
  const addresses = (name: string, type: number) =>
    (zone.names.get(name)?.get(type) ?? []).flatMap((r) => (r.data.type === Type.A || r.data.type === Type.AAAA ? [r.data.address] : []));
  return zone.addressNames.map((n) => ({
    name: n.name,
    kind: n.kind,
    owner: n.owner,
    servedBy: n.servedBy,
    a: addresses(n.name, Type.A),
    aaaa: addresses(n.name, Type.AAAA),
    // No node at all (nothing up) is not a failover: the name has no answer.
    failedOver: (n.kind === 'node' || n.kind === 'ns') && n.servedBy.length > 0 && n.servedBy[0] !== n.owner,
    ...(n.port !== undefined ? { port: n.port } : {}),
    internal: n.internal,
  }));
}
