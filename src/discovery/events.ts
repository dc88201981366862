import { addressOf, type AddressScope } from './addresses';
import type { Channel } from './pubsub';
import type { Master } from './masters';

/**
 * Sentinel's events, in Sentinel's formats, from what this agent knows: whether it hears each node
 * (its own row of the heartbeat matrix) and the majority's verdict. A real Sentinel says `+sdown`
 * when it stops getting replies from a master for down-after-milliseconds, `+odown` when a quorum
 * of Sentinels agree, `+switch-master` when the master moves; here those are "this agent has not
 * heard the node for peer.downAfter", "the majority's verdict is down" and "the service's address
 * moved". Clients that act on them (node-redis resets on `[-+]sdown`, `[-+]odown`, `+slave`; ioredis
 * and redis-py on `+switch-master`) then ask again, and get flags that say the same (masters.ts).
 */

/** One node as this agent sees it: derived by the agent from the membership view. */
export interface NodeLink {
  readonly name: string;
  /** Heard within peer.downAfter (else Sentinel's `s_down`). */
  readonly heard: boolean;
  /** Two heartbeats or more missing (Sentinel's `disconnected`: the link is in doubt). */
  readonly late: boolean;
  /** The majority's verdict (else Sentinel's `o_down`). */
  readonly up: boolean;
}

/** A publication; the payload names addresses, so it is rendered per address scope. */
export interface Publication {
  readonly channel: Channel;
  readonly payload: (scope: AddressScope) => string;
}

interface Told {
  master: Master;
  sdown: boolean;
  odown: boolean;
}

/** The per-service memory of what was told, so each event is said once per change. */
export class SentinelEvents {
  private readonly told = new Map<string, Told>();

  /** A reload removed services: nothing more is said about them. */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.told.keys()) if (!names.has(name)) this.told.delete(name);
  }

  /** What changed since the last call, in the order a Sentinel says it. */
  next(masters: readonly Master[], links: ReadonlyMap<string, NodeLink>, quorum: number): Publication[] {
    const out: Publication[] = [];
    const now = new Map(masters.map((m) => [m.name, m]));
    for (const m of masters) if (!this.told.has(m.name)) this.told.set(m.name, { master: m, sdown: false, odown: false });
    for (const [name, t] of this.told) {
      const old = t.master;
      const link = links.get(old.node.name);
      const heard = link?.heard ?? true;
      const up = link?.up ?? true;
      const at = (scope: AddressScope) => `${name} ${addressOf(old.node, scope)} ${old.port}`;
      if (!heard && !t.sdown) {
        t.sdown = true;
        out.push({ channel: '+sdown', payload: (s) => `master ${at(s)}` });
      }
      if (!up && !t.odown) {
        t.odown = true;
        out.push({ channel: '+odown', payload: (s) => `master ${at(s)} #quorum ${quorum}/${quorum}` });
      }
      const m = now.get(name);
      if (m && (m.node.name !== old.node.name || m.port !== old.port)) {
        out.push({ channel: '+switch-master', payload: (s) => `${at(s)} ${addressOf(m.node, s)} ${m.port}` });
        // Sentinel starts the new master with clean flags; the old one is no longer this service's.
        this.told.set(name, { master: m, sdown: false, odown: false });
        for (const r of m.replicas) out.push(slave(r, m));
        continue;
      }
      if (m) {
        for (const r of m.replicas) if (!old.replicas.some((o) => o.name === r.name)) out.push(slave(r, m));
        t.master = m;
      }
      if (heard && t.sdown) {
        t.sdown = false;
        out.push({ channel: '-sdown', payload: (s) => `master ${at(s)}` });
      }
      if (up && t.odown) {
        t.odown = false;
        out.push({ channel: '-odown', payload: (s) => `master ${at(s)}` });
      }
    }
    return out;
  }
}

/** `+slave slave <ip>:<port> <ip> <port> @ <master> <ip> <port>`, as Sentinel announces a replica it found. */
function slave(r: Master['node'], m: Master): Publication {
  return {
    channel: '+slave',
    payload: (s) => {
      const ip = addressOf(r, s);
      return `slave ${ip}:${m.port} ${ip} ${m.port} @ ${m.name} ${addressOf(m.node, s)} ${m.port}`;
    },
  };
}
