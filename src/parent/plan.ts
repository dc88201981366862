import { byName, isManagedNameServer, rrsetKey, sameRecords, type DesiredDelegation, type RRset } from './records';

export type Action = 'create' | 'update' | 'delete';

export interface Change {
  readonly action: Action;
  readonly name: string;
  readonly type: RRset['type'];
  /** What the parent holds now (update, delete) … */
  readonly before?: RRset;
  /** … and what it will hold (create, update). */
  readonly after?: RRset;
  readonly why: string;
}

export interface Plan {
  readonly zone: string;
  /** Deletes first: a removed node is what an operator most needs to notice. */
  readonly changes: readonly Change[];
  /** The parent's RRsets the plan was computed from, in scope only; providers use them as prerequisites. */
  readonly current: readonly RRset[];
  readonly desired: readonly RRset[];
}

/**
 * The RRsets of the parent that belong to the delegation: the NS set at the zone and the addresses
 * of every name server host below the zone that either clusterdns owns (`nsK.<zone>`) or the
 * current NS set points at. Anything else a backend returns is left alone.
 */
function inScope(zone: string, current: readonly RRset[]): RRset[] {
  const ns = current.find((r) => r.name === zone && r.type === 'NS');
  const listed = new Set((ns?.values ?? []).filter((v) => v.endsWith(`.${zone}`)));
  return current.filter(
    (r) =>
      (r.name === zone && (r.type === 'NS' || r.type === 'DS')) ||
      ((r.type === 'A' || r.type === 'AAAA') && (isManagedNameServer(zone, r.name) || listed.has(r.name))),
  );
}

const ORDER: Record<Action, number> = { delete: 0, update: 1, create: 2 };

export function planDelegation(desired: DesiredDelegation, currentAll: readonly RRset[]): Plan {
  const zone = desired.zone;
  const current = inScope(zone, currentAll);
  const have = new Map(current.map((r) => [rrsetKey(r), r]));
  const want = new Map(desired.rrsets.map((r) => [rrsetKey(r), r]));
  const changes: Change[] = [];
  for (const after of desired.rrsets) {
    const before = have.get(rrsetKey(after));
    if (!before) changes.push({ action: 'create', name: after.name, type: after.type, after, why: createReason(desired, after) });
    else if (before.ttl !== after.ttl || !sameRecords(before, after))
      changes.push({ action: 'update', name: after.name, type: after.type, before, after, why: updateReason(desired, before, after) });
  }
  for (const before of current) {
    if (!want.has(rrsetKey(before)))
      changes.push({ action: 'delete', name: before.name, type: before.type, before, why: deleteReason(desired, before) });
  }
  changes.sort(
    (a, b) =>
      ORDER[a.action] - ORDER[b.action] ||
      Number(b.type === 'NS') - Number(a.type === 'NS') ||
      byName(a.name, b.name) ||
      a.type.localeCompare(b.type),
  );
  return { zone, changes, current, desired: desired.rrsets };
}

function host(desired: DesiredDelegation, name: string): string {
  return name.slice(0, -(desired.zone.length + 1));
}

function createReason(desired: DesiredDelegation, r: RRset): string {
  if (r.type === 'DS') return `DNSSEC: the chain of trust to ${desired.zone}'s key${r.values.length > 1 ? 's' : ''} (tag ${r.values.map(dsTag).join(', ')})`;
  if (r.type === 'NS') return `delegate ${desired.zone} to its ${r.values.length} name server${r.values.length > 1 ? 's' : ''}`;
  return `glue: ${host(desired, r.name)} is node ${desired.nodeOf.get(r.name)}`;
}

function updateReason(desired: DesiredDelegation, before: RRset, after: RRset): string {
  const parts: string[] = [];
  if (!sameRecords(before, after)) {
    const added = after.values.filter((v) => !before.values.includes(v));
    const removed = before.values.filter((v) => !after.values.includes(v));
    if (before.type === 'DS') {
      if (added.length) parts.push(`adds the DS of key ${added.map(dsTag).join(', ')}`);
      if (removed.length) parts.push(`drops the DS of key ${removed.map(dsTag).join(', ')} (no longer in dnssec.keys)`);
    } else if (before.type === 'NS') {
      if (added.length) parts.push(`adds ${added.join(', ')}`);
      if (removed.length) parts.push(`drops ${removed.join(', ')} (no longer a name server)`);
    } else {
      parts.push(`node ${desired.nodeOf.get(after.name)} address ${before.values.join(', ')} → ${after.values.join(', ')}`);
    }
  }
  if (before.ttl !== after.ttl) parts.push(`TTL ${before.ttl} → ${after.ttl} (parent.ttl)`);
  return parts.join('; ');
}

function dsTag(value: string): string {
  return value.split(' ')[0];
}

function deleteReason(desired: DesiredDelegation, r: RRset): string {
  if (r.type === 'DS') return 'dnssec is not set in the config: the cluster zone is served unsigned, and a DS would make resolvers reject it';
  if (r.type === 'NS') return 'no name server left in the config';
  if (isManagedNameServer(desired.zone, r.name)) {
    return desired.nodeOf.has(r.name)
      ? `node ${desired.nodeOf.get(r.name)} has no ${r.type === 'A' ? 'IPv4' : 'IPv6'} address in the config`
      : `${host(desired, r.name)} is no longer a name server (its node was removed or is a witness)`;
  }
  return `glue of ${r.name}, which the delegation no longer lists`;
}
