import type { ClusterConfig } from './types';

/**
 * Configs the agent can serve but that defeat the point of running it. Not errors: a two-node lab
 * is legitimate, but nobody should deploy one believing it fails over.
 */
export function configWarnings(config: ClusterConfig): string[] {
  const warnings: string[] = [];
  if (config.nodes.length === 2) {
    // Majority of 2 is 2: when either node fails, the survivor hears only itself and stops
    // answering the zone (`dns.minority`), so one failure is a total outage instead of a failover.
    warnings.push(
      `nodes: a cluster of two voting nodes has no majority once either fails, so the survivor answers ${config.dns.minority.toUpperCase()} for the whole zone — ` +
        `add a third node or a witness on a third machine: - { name: tie, address: <its address>, role: witness }`,
    );
  }
  return warnings;
}
