import { createHash } from 'node:crypto';
import type { NodeConfig } from '../config/types';

/**
 * Rendezvous (highest-random-weight) hashing of (failed node, candidate): every agent with the same
 * up set picks the same target, and when several nodes fail their names spread over the survivors
 * instead of piling onto one.
 */
export function rendezvousScore(failed: string, candidate: string): bigint {
  return createHash('sha256').update(`${failed}\u0000${candidate}`).digest().readBigUInt64BE(0);
}

/**
 * The node that answers for `failed`: among the up non-witness nodes other than it, the highest
 * score, restricted to its rack when any candidate shares it. Undefined when nothing is up.
 */
export function failoverTarget(
  failed: string,
  upNodes: readonly string[],
  config: { readonly nodes: readonly Pick<NodeConfig, 'name' | 'rack' | 'role'>[] },
): string | undefined {
  const byName = new Map(config.nodes.map((n) => [n.name, n]));
  const candidates = upNodes.filter((n) => n !== failed && byName.has(n) && byName.get(n)!.role !== 'witness');
  const rack = byName.get(failed)?.rack;
  const sameRack = rack === undefined ? [] : candidates.filter((n) => byName.get(n)!.rack === rack);
  return highest(failed, sameRack.length ? sameRack : candidates);
}

function highest(failed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const c of candidates) {
    const s = rendezvousScore(failed, c);
    if (s > bestScore || (s === bestScore && best !== undefined && c < best)) {
      best = c;
      bestScore = s;
    }
  }
  return best;
}
