import { isInZone } from '../wire/name';
import { agreed, nodeAt, type Model, type NameView } from './model';
import type { Finding, Observations } from './types';

export interface FailedOver {
  readonly name: string;
  readonly owner?: string;
  readonly answer: string;
  /** The node(s) whose addresses the name is answered with now. */
  readonly to: readonly string[];
}

/** Names the cluster answers with another node's address than their own: their node is down. */
export function failedOverNames(obs: Observations, model: Model): FailedOver[] {
  const out: FailedOver[] = [];
  for (const n of model.names) {
    const answer = agreed(n.answers);
    if (answer === undefined || n.expected.length === 0) continue;
    const addrs = answer.split(' ');
    if (!addrs.every((a) => /[.:]/.test(a))) continue;
    if (addrs.some((a) => n.expected.includes(a))) continue;
    const to = [...new Set(addrs.map((a) => nodeAt(obs, model, a) ?? a))];
    out.push({ name: n.name, owner: n.owner, answer, to });
  }
  return out;
}

function disagreement(n: NameView): string {
  return [...n.answers].map(([server, a]) => `${server}: ${a}`).join('; ');
}

/** Every name answered alike by every serving name server, and which names are failed over. */
export function checkNames(obs: Observations, model: Model): Finding[] {
  const out: Finding[] = [];
  // dns.internalFrom may refuse internal names to the machine running check: that is the setting
  // working, not a broken name. Said once; the names are then not judged.
  const iz = obs.expected?.internalZone;
  const refused = model.names.filter((n) => iz && isInZone(n.name, iz) && n.answers.size > 0 && [...n.answers.values()].every((a) => a === 'REFUSED'));
  if (iz && refused.length > 0) {
    out.push({
      severity: 'ok',
      code: 'internal-refused',
      subject: iz,
      message: `the name servers refuse ${iz} names to this machine (dns.internalFrom): private addresses are not shown outside`,
      fix: `run check from a client inside dns.internalFrom to see the ${iz} answers`,
    });
  }
  for (const n of model.names) {
    if (refused.includes(n)) continue;
    const distinct = new Set(n.answers.values());
    if (distinct.size > 1) {
      out.push({
        severity: 'broken',
        code: 'answers-disagree',
        subject: n.name,
        message: `name servers answer ${n.name} differently (${disagreement(n)})`,
        fix: 'the agents do not share one view: check that every node runs the same config (config hash in the agent log) and that peers reach each other on the peer port',
        transient: true,
      });
      continue;
    }
    const answer = agreed(n.answers);
    if (answer !== undefined && !/[.:]/.test(answer) && n.expected.length > 0) {
      out.push({
        severity: 'broken',
        code: 'name-missing',
        subject: n.name,
        message: `the cluster answers ${n.name} with ${answer}, no address`,
        fix: answer === 'NXDOMAIN' ? 'the agents run a config without this node: roll out the same config to every node' : 'no node is up to answer for it: start the agents',
      });
    }
  }
  for (const f of failedOverNames(obs, model)) {
    out.push({
      severity: 'degraded',
      code: 'failed-over',
      subject: f.name,
      message: `${f.name} is failed over to ${f.to.join(', ')} (${f.answer})${f.owner ? `: ${f.owner} is down` : ''}`,
      fix: f.owner ? `bring ${f.owner} back (or its health checks); its name returns after peer.upAfter` : 'bring the node back',
    });
  }
  return out;
}
