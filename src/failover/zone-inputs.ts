import { nameServerNodes, type ClusterConfig, type ServiceConfig } from '../config/types';
import type { ClusterView } from '../membership/view';
import type { ZoneInputs } from '../zone/inputs';
import { failoverTarget } from './rendezvous';

/** The view as the answer compiler needs it. Pure: equal views give equal inputs on every agent. */
export function zoneInputs(config: ClusterConfig, view: Pick<ClusterView, 'nodes' | 'serving'>, serial: number): ZoneInputs {
  const viewed = new Map(view.nodes.map((n) => [n.name, n]));
  const servers = nameServerNodes(config);
  const upNodes = servers.filter((n) => viewed.get(n.name)?.up === true).map((n) => n.name);
  const up = new Set(upNodes);

  const nodeTargets = new Map<string, string | undefined>(
    servers.map((n) => [n.name, up.has(n.name) ? n.name : failoverTarget(n.name, upNodes, config)]),
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

  return { nodeTargets, upNodes, services, serving: view.serving, serial };
}
