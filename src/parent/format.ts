import type { Change, Plan } from './plan';
import type { RRset } from './records';

const SIGN = { create: '+', update: '~', delete: '-' } as const;

function fqdn(name: string): string {
  return `${name}.`;
}

function show(r: RRset): string {
  return `${r.ttl} ${r.type} ${r.values.map((v) => (r.type === 'NS' ? fqdn(v) : v)).join(', ')}`;
}

function line(c: Change): string[] {
  const head = `  ${SIGN[c.action]} ${c.action.padEnd(6)} ${fqdn(c.name)}`;
  const out = [head];
  if (c.before && c.action !== 'create') out.push(`      ${c.action === 'update' ? 'was ' : ''}${show(c.before)}`);
  if (c.after) out.push(`      ${c.action === 'update' ? 'now ' : ''}${show(c.after)}`);
  out.push(`      why: ${c.why}`);
  return out;
}

/** The plan as a person reads it: one block per RRset, what changes and why. */
export function formatPlan(plan: Plan, where: string): string {
  if (plan.changes.length === 0) {
    return `No changes: ${where} already delegates ${plan.zone} as the config says (${plan.desired.length} RRsets).\n`;
  }
  const count = (a: Change['action']) => plan.changes.filter((c) => c.action === a).length;
  const lines = [
    `Plan for the delegation of ${plan.zone} in ${where}: ${count('delete')} to delete, ${count('update')} to update, ${count('create')} to create`,
    ...plan.changes.flatMap(line),
  ];
  return `${lines.join('\n')}\n`;
}

/** The same plan for programs: stable keys, names with the trailing dot as in zone files. */
export function planToJson(plan: Plan, where: string, applied: boolean): unknown {
  const rr = (r?: RRset) => r && { name: fqdn(r.name), type: r.type, ttl: r.ttl, values: r.values.map((v) => (r.type === 'NS' ? fqdn(v) : v)) };
  return {
    zone: fqdn(plan.zone),
    parent: where,
    applied,
    changes: plan.changes.map((c) => ({ action: c.action, name: fqdn(c.name), type: c.type, before: rr(c.before), after: rr(c.after), why: c.why })),
    desired: plan.desired.map(rr),
  };
}
