import type { StatusDocument } from './status-types';

export type Readiness = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * What `/healthz` tells a load balancer or orchestrator: a node is fit when it answers the zone;
 * a witness, which answers nothing, when it hears a majority (its vote counts).
 */
export function readiness(s: Pick<StatusDocument, 'role' | 'serving' | 'quorum' | 'minority' | 'majority' | 'hears' | 'nodes' | 'zone' | 'unavailableRcode'>): Readiness {
  const hearing = `hears ${s.hears.length} of ${s.nodes.length} nodes (${s.hears.join(', ')}), needs ${s.majority}`;
  if (s.minority) return { ok: false, reason: `minority: ${hearing}${s.role === 'witness' ? '' : `; answering ${s.unavailableRcode} for ${s.zone}`}` };
  if (!s.quorum) return { ok: false, reason: `no quorum yet: waiting to hear a majority (${hearing})` };
  if (s.role === 'witness') return { ok: true };
  if (!s.serving) return { ok: false, reason: `not answering ${s.zone} yet` };
  return { ok: true };
}
