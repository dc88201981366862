import { hasInternalNames, INTERNAL_LABEL, nameServerNodes, privateAddresses, type ClusterConfig } from './types';

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
  if (hasInternalNames(config)) {
    // Legitimate (a node outside the private network), but more often a forgotten field.
    const publicOnly = nameServerNodes(config).filter((n) => privateAddresses(n).length === 0).map((n) => n.name);
    if (publicOnly.length > 0)
      warnings.push(
        `nodes: ${publicOnly.join(', ')} ${publicOnly.length > 1 ? 'have' : 'has'} no privateAddress, so ${INTERNAL_LABEL}.${config.zone} names answer ${publicOnly.length > 1 ? 'their' : 'its'} public address — ` +
          `give ${publicOnly.length > 1 ? 'them' : 'it'} privateAddress (or privateAddress6) if clients inside reach ${publicOnly.length > 1 ? 'them' : 'it'} privately`,
      );
  }
  if (config.dnssec && config.dnssec.refresh < MIN_QUIET_REFRESH_S) {
    // Legitimate in a test, but in production a refresh read as minutes or days (`refresh: 1`)
    // makes the agent re-sign the whole zone about every second.
    warnings.push(
      `dnssec.refresh: signatures are remade every ${config.dnssec.refresh} s, so the agent re-signs the whole zone that often — ` +
        `write a unit (refresh: 7d) or leave refresh out (half of validity)`,
    );
  }
  return warnings;
}

/** Below this, `dnssec.refresh` is worth a warning. */
const MIN_QUIET_REFRESH_S = 3600;
