import { Class, HEADER_LEN, Opcode, Type } from '../../wire/constants';
import { nameToWire } from '../../wire/name';
import { ipv4Bytes, ipv6Bytes } from '../../wire/writer';
import type { Plan } from '../plan';
import type { DelegationType, RRset } from '../records';

/**
 * RFC 2136's prerequisite and delete forms are records of class NONE or ANY, some without RDATA, so
 * the UPDATE is written here from the wire codec's parts rather than as a query message. Names are
 * canonical (parent/records.ts) and written uncompressed.
 */

const TYPE: Record<DelegationType, number> = { A: Type.A, NS: Type.NS, AAAA: Type.AAAA, DS: Type.DS };

/** Empty for the prerequisite and delete forms. */
function rdata(type: DelegationType, value: string | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (type === 'A') return ipv4Bytes(value);
  if (type === 'AAAA') return ipv6Bytes(value);
  if (type === 'DS') {
    // Canonical form (parent/records.ts): `tag alg digest-type HEX`.
    const [tag, alg, digestType, digest] = value.split(' ');
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(Number(tag), 0);
    fixed[2] = Number(alg);
    fixed[3] = Number(digestType);
    return Buffer.concat([fixed, Buffer.from(digest, 'hex')]);
  }
  return nameToWire(value);
}

function rr(name: string, type: DelegationType, klass: number, ttl: number, value?: string): Buffer {
  const data = rdata(type, value);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE[type], 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(data.length, 8);
  return Buffer.concat([nameToWire(name), fixed, data]);
}

/** RFC 2136 §2.4.2: the RRset exists with exactly these records (TTL is not compared). */
const exactly = (r: RRset) => r.values.map((v) => rr(r.name, r.type, Class.IN, 0, v));
/** §2.4.3: no RRset of this name and type exists. */
const absent = (name: string, type: DelegationType) => rr(name, type, Class.NONE, 0);
/** §2.5.2: delete the whole RRset. */
const deleteSet = (name: string, type: DelegationType) => rr(name, type, Class.ANY, 0);
const add = (r: RRset) => r.values.map((v) => rr(r.name, r.type, Class.IN, r.ttl, v));

export interface UpdateSections {
  readonly prerequisites: Buffer[];
  readonly updates: Buffer[];
}

/**
 * The plan as one UPDATE: every RRset it replaces or deletes must still hold what was read, and the
 * NS set always must, so a concurrent change to the delegation fails the whole update (YXRRSET /
 * NXRRSET) instead of being overwritten. Glue for a name the current NS set does not list was
 * invisible to the read (occluded by the delegation), so it is replaced rather than required absent;
 * the NS-set prerequisite still guards it.
 */
export function updateSections(plan: Plan): UpdateSections {
  const zone = plan.zone;
  const ns = plan.current.find((r) => r.name === zone && r.type === 'NS');
  const visible = (host: string) => !ns || ns.values.includes(host);
  const prerequisites: Buffer[] = ns ? exactly(ns) : [absent(zone, 'NS')];
  const updates: Buffer[] = [];
  for (const c of plan.changes) {
    if (c.before && c.type !== 'NS') prerequisites.push(...exactly(c.before));
    if (c.action === 'create' && c.type !== 'NS' && (c.type === 'DS' || visible(c.name))) prerequisites.push(absent(c.name, c.type));
    updates.push(deleteSet(c.name, c.type));
    if (c.after) updates.push(...add(c.after));
  }
  return { prerequisites, updates };
}

/** RFC 2136 §2.2: header (ZOCOUNT 1, PRCOUNT, UPCOUNT, ADCOUNT 0), then the zone section: the parent's SOA. */
export function encodeUpdate(id: number, parentZone: string, sections: UpdateSections): Buffer {
  const head = Buffer.alloc(HEADER_LEN);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(Opcode.UPDATE << 11, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(sections.prerequisites.length, 6);
  head.writeUInt16BE(sections.updates.length, 8);
  const zone = Buffer.alloc(4);
  zone.writeUInt16BE(Type.SOA, 0);
  zone.writeUInt16BE(Class.IN, 2);
  return Buffer.concat([head, nameToWire(parentZone), zone, ...sections.prerequisites, ...sections.updates]);
}
