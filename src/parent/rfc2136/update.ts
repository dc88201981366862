import * as dnsPacket from 'dns-packet';
import type { Plan } from '../plan';
import type { DelegationType, RRset } from '../records';

/**
 * dns-packet encodes the header and zone section, and RDATA, but not RFC 2136's prerequisite and
 * delete forms: class NONE (254) is unknown to it and it cannot write a record without RDATA.
 * So the RRs of both sections are assembled here from its name and RDATA codecs.
 */
const codec = dnsPacket as unknown as {
  name: { encode(n: string): Buffer };
  a: { encode(v: string): Buffer };
  aaaa: { encode(v: string): Buffer };
  ns: { encode(v: string): Buffer };
};

const TYPE: Record<DelegationType, number> = { A: 1, NS: 2, AAAA: 28 };
const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
const OPCODE_UPDATE = 5 << 11;

/** RDATA with its length prefix, as dns-packet's codecs write it; empty means just a zero length. */
function rdata(type: DelegationType, value: string | undefined): Buffer {
  if (value === undefined) return Buffer.alloc(2);
  if (type === 'A') return codec.a.encode(value);
  if (type === 'AAAA') return codec.aaaa.encode(value);
  return codec.ns.encode(value);
}

function rr(name: string, type: DelegationType, klass: number, ttl: number, value?: string): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16BE(TYPE[type], 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  return Buffer.concat([codec.name.encode(name), fixed, rdata(type, value)]);
}

/** RFC 2136 §2.4.2: the RRset exists with exactly these records (TTL is not compared). */
const exactly = (r: RRset) => r.values.map((v) => rr(r.name, r.type, CLASS.IN, 0, v));
/** §2.4.3: no RRset of this name and type exists. */
const absent = (name: string, type: DelegationType) => rr(name, type, CLASS.NONE, 0);
/** §2.5.2: delete the whole RRset. */
const deleteSet = (name: string, type: DelegationType) => rr(name, type, CLASS.ANY, 0);
const add = (r: RRset) => r.values.map((v) => rr(r.name, r.type, CLASS.IN, r.ttl, v));

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
    if (c.action === 'create' && c.type !== 'NS' && visible(c.name)) prerequisites.push(absent(c.name, c.type));
    updates.push(deleteSet(c.name, c.type));
    if (c.after) updates.push(...add(c.after));
  }
  return { prerequisites, updates };
}

export function encodeUpdate(id: number, parentZone: string, sections: UpdateSections): Buffer {
  const head = dnsPacket.encode({ type: 'query', id, flags: OPCODE_UPDATE, questions: [{ name: parentZone, type: 'SOA', class: 'IN' }] });
  head.writeUInt16BE(sections.prerequisites.length, 6);
  head.writeUInt16BE(sections.updates.length, 8);
  return Buffer.concat([head, ...sections.prerequisites, ...sections.updates]);
}
