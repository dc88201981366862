import type { ClusterConfig, NodeConfig } from '../config/types';
import type { AddressScope } from './addresses';
import type { NodeLink } from './events';
import type { Master } from './masters';
import type { Subscriptions, SubscriptionPool } from './pubsub';
import { array, error, simple, type Protocol, type Reply } from './resp';
import { HELP } from './sentinel-commands';

// What every command reads and changes: the connection's state (Session) and the published view
// (Context); the small helpers every command file builds its replies with.

/** Per-connection state the commands read and change. */
export interface Session {
  readonly id: number;
  readonly scope: AddressScope;
  proto: Protocol;
  name: string | undefined;
  authenticated: boolean;
  /** The ACL user the connection is authenticated as (`default` until AUTH says otherwise). */
  user: string;
  readonly subs: Subscriptions;
  /** CLIENT REPLY: `skip` drops the next command's reply, `off` every reply until ON. */
  reply: 'on' | 'off' | 'skip';
  /** For CLIENT INFO/LIST. */
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  readonly createdAt: number;
  lastActive: number;
  cmd: string;
  /** Replies queued for the client, in bytes (CLIENT LIST's omem). */
  pending: () => number;
}

export interface Context {
  readonly config: ClusterConfig;
  readonly self: NodeConfig;
  readonly masters: readonly Master[];
  readonly upNodes: ReadonlySet<string>;
  /** Whether this agent hears each node (absent: nothing known yet, taken as heard). */
  readonly links: ReadonlyMap<string, NodeLink>;
  readonly subscriptions: SubscriptionPool;
  /** Every open connection (CLIENT LIST). */
  readonly clients: () => Iterable<Session>;
  readonly now: number;
  /** The default user's password; with `users` and no password the default user is off. */
  readonly password: string | undefined;
  readonly users: ReadonlyArray<{ readonly name: string; readonly password: string }>;
  readonly connectedClients: number;
  readonly uptimeSeconds: number;
}

export interface Outcome {
  readonly replies: readonly Reply[];
  /** Close the connection once the replies are written. */
  readonly close?: boolean;
}

export const one = (r: Reply): Outcome => ({ replies: [r] });
export const err = (msg: string): Outcome => one(error(`ERR ${msg}`));
export const arity = (name: string): Outcome => err(`wrong number of arguments for '${name}' command`);

export function help(of: 'sentinel' | 'client' | 'command' | 'acl'): Outcome {
  return one(array(HELP[of].map(simple)));
}

/** A decimal integer argument as Redis reads one (`value is not an integer or out of range` otherwise). */
export function integer(s: string): number | undefined {
  if (!/^-?\d{1,18}$/.test(s)) return undefined;
  return Number(s);
}
