import { agreed, type Model, type ServerView } from './model';
import { failedOverNames } from './names';
import type { Finding, Observations } from './types';

function who(s: ServerView): string {
  const names = [s.node ?? s.identity, ...s.glueNames].filter((x): x is string => !!x);
  return names.length ? `${s.label} (${[...new Set(names)].join(', ')})` : s.label;
}

/** Names that lead resolvers or clients to this server: its node's names and the NS names glued to it. */
function namesOf(obs: Observations, s: ServerView): string[] {
  const node = obs.expected?.nodes.find((n) => n.name === s.node);
  return [...new Set([...(node ? [`${node.name}.${obs.zone}`, node.nsName] : []), ...s.glueNames])];
}

/** Every cluster name server over UDP and TCP: reachable, authoritative, EDNS, and agreeing. */
export function checkServers(obs: Observations, model: Model): Finding[] {
  const out: Finding[] = [];
  const zone = model.zone;
  if (model.servers.length === 0) {
    return [{ severity: 'broken', code: 'no-servers', subject: zone, message: `found no name server address for ${zone} (no glue, no config)`, fix: 'pass --config, or write the delegation with `clusterdns delegate`' }];
  }
  const serving = model.servers.filter((s) => s.serving);
  if (serving.length === 0) {
    out.push({
      severity: 'broken',
      code: 'nothing-answers',
      subject: zone,
      message: `no name server answers ${zone} authoritatively (${model.servers.map((s) => `${s.label}: ${s.udp}/${s.tcp}`).join('; ')})`,
      fix: 'start the agents (clusterdns agent) and check that UDP and TCP port 53 reach them',
    });
  }
  const failed = new Set(failedOverNames(obs, model).map((f) => f.name));

  for (const s of model.servers) {
    const names = namesOf(obs, s);
    const coveredByFailover = serving.length > 0 && names.length > 0 && names.every((n) => failed.has(n));
    if (!s.serving) {
      const what = s.reachable ? `answers ${s.rcode}${s.rcode === 'NOERROR' ? ' without the AA flag' : ''} for ${zone}` : `does not answer (UDP ${s.udp}, TCP ${s.tcp})`;
      const minority = s.reachable && (s.rcode === 'REFUSED' || s.rcode === 'SERVFAIL');
      if (coveredByFailover) {
        out.push({
          severity: 'degraded',
          code: minority ? 'server-minority' : 'server-down',
          subject: s.label,
          message: `${who(s)} ${what}; the other name servers answer its names with a live node${minority ? ' (it cannot hear a majority of the cluster)' : ''}`,
          fix: minority ? 'check the network between this node and its peers (peer port) and that every node has the same config' : 'bring the node and its agent back, or remove it from the config and run `clusterdns delegate`',
        });
      } else if (serving.length > 0) {
        const why = s.node
          ? 'yet the other name servers still answer its names with its address'
          : `yet the parent's glue sends resolvers there for ${s.glueNames.join(', ')}`;
        out.push({
          severity: 'broken',
          code: 'lame',
          subject: s.label,
          message: `${who(s)} ${what} ${why}: lame delegation`,
          fix: names.length ? 'start its agent, or fix the address in the config / the parent glue and run `clusterdns delegate`' : 'remove this address from the parent or the config',
          transient: !s.reachable,
        });
      }
      continue;
    }
    if (s.tcp !== 'ok' || s.tcpSerial === undefined) {
      out.push({
        severity: 'broken',
        code: 'tcp-failed',
        subject: s.label,
        message: `${who(s)} answers over UDP but not over TCP (${s.tcp}): truncated answers and some resolvers fail`,
        fix: 'open TCP port 53 to the node (firewall, security group)',
      });
    }
    if (!s.edns) {
      out.push({ severity: 'warn', code: 'no-edns', subject: s.label, message: `${who(s)} does not answer EDNS (RFC 6891)`, fix: 'check for a middlebox that strips OPT records' });
    }
    if (obs.expected && s.node && s.identity && s.identity !== s.node) {
      out.push({
        severity: 'broken',
        code: 'wrong-node',
        subject: s.label,
        message: `${s.label} is ${s.node}'s address in the config but is answered by ${s.identity}'s agent`,
        fix: `fix ${s.node}'s address in the config (and run \`clusterdns delegate\`), or run the right agent there`,
      });
    }
  }

  const serials = new Map(serving.map((s) => [s.label, String(s.serial)]));
  if (new Set(serials.values()).size > 1) {
    // Agents adopt the highest serial a peer serves, within a heartbeat or so: a difference that
    // outlasts asking again means they do not hear each other, even if today's answers agree.
    const dataAgrees = model.names.every((n) => new Set(n.answers.values()).size <= 1) && new Set(serving.map((s) => s.ns?.join(' '))).size <= 1;
    out.push({
      severity: 'broken',
      code: 'serial-mismatch',
      subject: zone,
      message: `SOA serials differ: ${[...serials].map(([l, v]) => `${l}: ${v}`).join(', ')}${dataAgrees ? ' (the answers agree for now)' : ''}`,
      fix: 'the agents do not share one view: check that peers reach each other on the peer port, that every node runs the same config, and the same clusterdns version',
      transient: true,
    });
  }
  const nsSets = new Map(serving.filter((s) => s.ns).map((s) => [s.label, s.ns!.join(' ')]));
  if (new Set(nsSets.values()).size > 1) {
    const common = agreed(nsSets);
    out.push({
      severity: 'broken',
      code: 'ns-disagree',
      subject: zone,
      message: `name servers serve different NS sets: ${[...nsSets].filter(([, v]) => v !== common).map(([l, v]) => `${l}: ${v}`).join('; ')} (most: ${common})`,
      fix: 'roll out the same config to every node',
      transient: true,
    });
  }
  return out;
}
