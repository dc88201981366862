import { nameServerNodes, type ClusterConfig, type NodeConfig } from '../config/types';
import type { ZoneInputs } from '../zone/inputs';
import type { AnswerStatus } from './status-types';

/**
 * Every answered name with the addresses it gets, read from the same inputs the answer compiler
 * uses (zone/zone.ts), so the list says what the table serves without decoding its bytes.
 */
export function currentAnswers(config: ClusterConfig, inputs: ZoneInputs): AnswerStatus[] {
  const byName = new Map<string, NodeConfig>(config.nodes.map((n) => [n.name, n]));
  const zone = config.zone;
  const entry = (name: string, kind: AnswerStatus['kind'], owner: string, servedBy: readonly string[], failedOver: boolean, port?: number): AnswerStatus => {
    const nodes = servedBy.map((s) => byName.get(s)).filter((n): n is NodeConfig => n !== undefined);
    return {
      name,
      kind,
      owner,
      servedBy: nodes.map((n) => n.name),
      a: nodes.flatMap((n) => (n.address ? [n.address] : [])),
      aaaa: nodes.flatMap((n) => (n.address6 ? [n.address6] : [])),
      failedOver,
      ...(port !== undefined ? { port } : {}),
    };
  };

  const answers: AnswerStatus[] = [entry(zone, 'apex', zone, inputs.upNodes, false)];
  nameServerNodes(config).forEach((n, i) => {
    const target = inputs.nodeTargets.get(n.name);
    const served = target === undefined ? [] : [target];
    // No target at all (nothing up) is not a failover: the name has no answer.
    const failedOver = target !== undefined && target !== n.name;
    answers.push(entry(`${n.name}.${zone}`, 'node', n.name, served, failedOver));
    answers.push(entry(`ns${i + 1}.${zone}`, 'ns', n.name, served, failedOver));
  });
  for (const s of config.services) answers.push(entry(`${s.name}.${zone}`, 'service', s.name, inputs.services.get(s.name) ?? [], false, s.port));
  return answers;
}
