import { nodeAddresses } from '../config/types';
import { agreed, type Model } from './model';
import type { Finding, Observations } from './types';

const DELEGATE = 'run `clusterdns delegate` (route53, rfc2136 or zonefile) with the cluster config to write the delegation';

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'nothing');

/** The parent's NS set and glue against what the cluster serves and what the config says. */
export function checkDelegation(obs: Observations, model: Model): Finding[] {
  const out: Finding[] = [];
  const zone = model.zone;
  if (model.parents.length === 0) {
    return [
      {
        severity: 'broken',
        code: 'parent-not-found',
        subject: zone,
        message: `could not find the parent zone's name servers: ${obs.parentError ?? 'none asked'}`,
        fix: 'give a server of the parent zone with --parent IP, or a working resolver with --resolver IP',
      },
    ];
  }
  for (const p of model.parents.filter((x) => !x.ok)) {
    out.push({
      severity: model.parent ? 'warn' : 'broken',
      code: 'parent-no-referral',
      subject: p.label,
      message: `parent server ${p.label} ${p.problem}`,
      fix: p.problem?.startsWith('gave no answer') ? 'check that the parent server is up and reachable' : DELEGATE,
    });
  }
  const parent = model.parent;
  if (!parent) return out;

  for (const p of model.parents.filter((x) => x.ok && x !== parent)) {
    const glueDiffers = [...parent.glue].some(([n, a]) => !same(a, p.glue.get(n) ?? []));
    if (!same(p.ns, parent.ns) || glueDiffers) {
      out.push({
        severity: 'broken',
        code: 'parents-disagree',
        subject: p.label,
        message: `parent servers disagree: ${parent.label} delegates to ${list(parent.ns)}, ${p.label} to ${list(p.ns)} (or their glue differs)`,
        fix: "wait for the parent zone's secondaries to transfer the change; if it persists, check the parent zone's transfers",
        transient: true,
      });
    }
  }

  const childNs = agreed(new Map(model.servers.filter((s) => s.ns).map((s) => [s.label, s.ns!.join(' ')])));
  if (childNs !== undefined && childNs !== parent.ns.join(' ')) {
    out.push({
      severity: 'broken',
      code: 'ns-mismatch',
      subject: zone,
      message: `the parent delegates ${zone} to ${list(parent.ns)} but the cluster's own NS set is ${list(childNs.split(' '))}`,
      fix: DELEGATE,
    });
  }
  if (obs.expected && !same(parent.ns, obs.expected.parentNs)) {
    out.push({
      severity: 'broken',
      code: 'ns-config-mismatch',
      subject: zone,
      message: `the parent delegates ${zone} to ${list(parent.ns)} but the config's name servers are ${list(obs.expected.parentNs)}`,
      fix: DELEGATE,
    });
  }

  for (const host of parent.ns.filter((n) => n === zone || n.endsWith(`.${zone}`))) {
    const glue = parent.glue.get(host) ?? [];
    if (glue.length === 0) {
      out.push({
        severity: 'broken',
        code: 'glue-missing',
        subject: host,
        message: `the parent has no glue address for ${host}, a name server inside ${zone}: resolvers cannot reach it`,
        fix: DELEGATE,
      });
      continue;
    }
    const node = obs.expected?.nodes.find((n) => n.nsName === host);
    if (node) {
      const want = nodeAddresses(node).sort();
      if (!same(glue, want)) {
        out.push({
          severity: 'broken',
          code: 'glue-mismatch',
          subject: host,
          message: `the parent's glue for ${host} is ${list(glue)} but ${node.name}'s address in the config is ${list(want)}`,
          fix: DELEGATE,
        });
      }
      continue;
    }
    // Without a config, the name's own address is inferred from the cluster's answers (see model.ts).
    const own = model.names.find((n) => n.name === host)?.expected ?? [];
    if (own.length > 0 && !same(glue, [...own].sort())) {
      out.push({
        severity: 'broken',
        code: 'glue-mismatch',
        subject: host,
        message: `the parent's glue for ${host} is ${list(glue)} but the cluster answers ${host} with ${list(own)}`,
        fix: DELEGATE,
      });
    }
  }
  if (obs.expected && parent.nsTtl !== undefined && parent.nsTtl !== obs.expected.parentTtl) {
    out.push({
      severity: 'warn',
      code: 'parent-ttl',
      subject: zone,
      message: `the parent's NS TTL is ${parent.nsTtl} s but parent.ttl in the config is ${obs.expected.parentTtl} s`,
      fix: DELEGATE,
    });
  }
  return out;
}
