import { nameServerNodes, type ClusterConfig, type ServiceConfig } from '../config/types';
import type { ClusterView } from '../membership/view';
import type { ZoneInputs } from '../zone/inputs';
import { failoverTarget } from './rendezvous';

/**
 * The view as the answer compiler needs it. Pure: equal views give equal inputs on every agent.
 *
 * Fail open: when the verdicts leave no name server up, node and name-server names (and the apex)
 * answer as if every node were up. An empty answer is cached by resolvers for the negative TTL and
 * helps nobody, whereas a verdict of "all down" is far more often a shared cause — a bad check
 * rolled out everywhere, a dependency every check shares — than every node really being gone;
 * Route53 health checks fail open the same way. Services keep their own `whenAllDown`.
 */
export function zoneInputs(config: ClusterConfig, view: Pick<ClusterView, 'nodes' | 'serving'>, serial: number): ZoneInputs {
  const viewed = new Map(view.nodes.map((n) => [n.name, n]));
  const servers = nameServerNodes(config);
  const judgedUp = servers.filter((n) => viewed.get(n.name)?.up === true).map((n) => n.name);
  const failOpen = judgedUp.length === 0 && servers.length > 0;
  const upNodes = failOpen ? servers.map((n) => n.name) : judgedUp;
  const up = new Set(judgedUp);

  const nodeTargets = new Map<string, string | undefined>(
    servers.map((n) => [n.name, failOpen || up.has(n.name) ? n.name : failoverTarget(n.name, upNodes, config)]),
  );

  // A service with no check reported by its node counts as healthy while the node is up.
  const serves = (node: string, s: ServiceConfig) => up.has(node) && viewed.get(node)?.services[s.name] !== false;
  const services = new Map<string, readonly string[]>(
    config.services.map((s) => {
      const healthy = s.nodes.filter((n) => serves(n, s));
      const chosen = s.policy === 'first-healthy' ? healthy.slice(0, 1) : healthy;
      return [s.name, chosen.length ? chosen : s.whenAllDown === 'all' ? [...s.nodes] : []];
    }),
  );

  return { nodeTargets, upNodes, services, serving: view.serving, serial, failOpen: failOpen && view.serving };
}
