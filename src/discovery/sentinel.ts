import { createHash } from 'node:crypto';
import { nameServerNodes, type ClusterConfig, type NodeConfig } from '../config/types';
import { addressOf, type AddressScope } from './addresses';
import type { Master } from './masters';
import { commandReply } from './command';
import { auth, client, hello, REDIS_VERSION } from './connection';
import { compileGlob } from './glob';
import { arity, err, help, integer, one, type Context, type Outcome, type Session } from './session';
import { array, bulk, bulks, error, fields, int, NULL_ARRAY, OK, simple, type Reply } from './resp';

/**
 * The Sentinel commands, as a function of the published zone inputs: no sockets, no clocks. Reply
 * texts and field lists follow Redis 7.0's Sentinel byte for byte where a command exists there
 * (test/discovery/conformance.test.ts compares them with a running `redis-server --sentinel`).
 * The connection's own commands (CLIENT, AUTH, HELLO) are in connection.ts, COMMAND in command.ts.
 */

export type { Context, Outcome, Session } from './session';
export { authRequired } from './connection';

const NO_SUCH_MASTER = err('No such master with that name');

/** Redis arity: n > 0 exactly n words, n < 0 at least -n (the command counts). */
type Arity = number;
// Maps, never plain objects: a client's `constructor` or `__proto__` must not find anything.
const COMMANDS = new Map<string, Arity>([
  ['ping', -1],
  ['role', 1],
  ['sentinel', -2],
  ['client', -2],
  ['info', -1],
  ['auth', -2],
  ['hello', -1],
  ['quit', -1],
  ['subscribe', -2],
  ['psubscribe', -2],
  ['unsubscribe', -1],
  ['punsubscribe', -1],
  ['command', -1],
  ['acl', -2],
  // In Sentinel's command table (COMMAND lists them); refused here.
  ['publish', 3],
  ['shutdown', -1],
]);
/** The command names metrics count by (any other is `unknown`). */
export const COMMAND_NAMES: ReadonlySet<string> = new Set(COMMANDS.keys());
const SENTINEL_SUBCOMMANDS = new Map<string, Arity>([
  ['get-master-addr-by-name', 3],
  ['masters', 2],
  ['master', 3],
  ['replicas', 3],
  ['slaves', 3],
  ['sentinels', 3],
  ['myid', 2],
  ['ckquorum', 3],
  ['reset', 3],
  ['config', -3],
  ['help', 2],
  ['is-master-down-by-addr', 6],
]);
/** Real Sentinel subcommands this service does not offer: failover follows the cluster's checks. */
const SENTINEL_UNSUPPORTED = new Set(['debug', 'failover', 'flushconfig', 'info-cache', 'monitor', 'pending-scripts', 'remove', 'set', 'simulate-failure']);
/** SETINFO and ID because current clients (go-redis 9, redis-py 5) send them on connect. */
const CLIENT_SUBCOMMANDS = new Map<string, Arity>([
  ['getname', 2],
  ['setname', 3],
  ['setinfo', 4],
  ['id', 2],
  ['info', 2],
  ['list', -2],
  ['kill', -3],
  ['no-evict', 3],
  ['reply', 3],
  ['help', 2],
]);
const COMMAND_SUBCOMMANDS = new Map<string, Arity>([
  ['count', 2],
  ['list', -2],
  ['info', -2],
  ['docs', -2],
  ['getkeys', -3],
  ['getkeysandflags', -3],
  ['help', 2],
]);
const ACL_SUBCOMMANDS = new Map<string, Arity>([
  ['whoami', 2],
  ['help', 2],
  ['cat', -2],
  ['deluser', -3],
  ['dryrun', -4],
  ['genpass', -2],
  ['getuser', 3],
  ['list', 2],
  ['load', 2],
  ['log', -2],
  ['save', 2],
  ['setuser', -3],
  ['users', 2],
]);
const SUBCOMMANDS = new Map([
  ['sentinel', SENTINEL_SUBCOMMANDS],
  ['client', CLIENT_SUBCOMMANDS],
  ['command', COMMAND_SUBCOMMANDS],
  ['acl', ACL_SUBCOMMANDS],
]);
const BEFORE_AUTH = new Set(['auth', 'hello', 'quit']);
const IN_SUBSCRIBE = new Set(['ping', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'quit']);

const fits = (a: Arity, n: number) => (a > 0 ? n === a : n >= -a);

/** Runs one command. Checks in Redis's order: unknown command, arity, authentication, pub/sub context. */
export function execute(args: readonly string[], s: Session, ctx: Context): Outcome {
  const name = args[0].toLowerCase();
  const a = COMMANDS.get(name);
  if (a === undefined) return unknownCommand(args);
  let full = name;
  const table = SUBCOMMANDS.get(name);
  if (table && (name !== 'command' || args.length > 1)) {
    if (!fits(a, args.length)) return arity(name);
    const sub = args[1].toLowerCase();
    const subArity = table.get(sub);
    if (subArity === undefined) {
      if (name === 'sentinel' && SENTINEL_UNSUPPORTED.has(sub))
        return err(`SENTINEL ${sub.toUpperCase()} is not offered by clusterdns discovery: addresses follow the cluster's health checks, nothing is configured through Sentinel`);
      return err(`unknown subcommand '${args[1].slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`);
    }
    full = `${name}|${sub}`;
    if (!fits(subArity, args.length)) return arity(full);
  } else if (!fits(a, args.length)) return arity(name);

  if (!s.authenticated && !BEFORE_AUTH.has(name)) return one(error('NOAUTH Authentication required.'));
  if (s.proto === 2 && s.subs.size > 0 && !IN_SUBSCRIBE.has(name)) {
    return err(`Can't execute '${full}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
  }

  switch (name) {
    case 'ping':
      if (args.length > 2) return arity('ping');
      // In RESP2 a subscribed connection gets PING's answer as a message-shaped array.
      if (s.proto === 2 && s.subs.size > 0) return one(array([bulk('pong'), bulk(args[1] ?? '')]));
      return one(args.length === 2 ? bulk(args[1]) : simple('PONG'));
    case 'role':
      return one(array([bulk('sentinel'), bulks(ctx.masters.map((m) => m.name))]));
    case 'sentinel':
      return sentinel(args[1].toLowerCase(), args.slice(2), s, ctx);
    case 'client':
      return client(args[1].toLowerCase(), args.slice(2), s, ctx);
    case 'command':
      if (args.length > 1 && args[1].toLowerCase() === 'help') return help('command');
      return one(args.length === 1 ? commandReply(undefined, []) : commandReply(args[1].toLowerCase(), args.slice(2)));
    case 'acl': {
      const sub = args[1].toLowerCase();
      if (sub === 'whoami') return one(bulk(s.user));
      if (sub === 'help') return help('acl');
      return err(`ACL ${sub.toUpperCase()} is not offered by clusterdns discovery: its one user is default`);
    }
    case 'publish':
    case 'shutdown':
      return err(`${name.toUpperCase()} is not offered by clusterdns discovery`);
    case 'info':
      return one(bulk(info(args.slice(1), s.scope, ctx)));
    case 'auth':
      return auth(args.slice(1), s, ctx);
    case 'hello':
      return hello(args.slice(1), s, ctx);
    case 'quit':
      return { replies: [OK], close: true };
    case 'subscribe':
    case 'psubscribe':
      return { replies: s.subs.subscribe(name, args.slice(1), ctx.subscriptions) };
    case 'unsubscribe':
    case 'punsubscribe':
      return { replies: s.subs.unsubscribe(name, args.slice(1), ctx.subscriptions) };
  }
  return unknownCommand(args);
}

function unknownCommand(args: readonly string[]): Outcome {
  // Redis quotes the first arguments, up to 128 characters in all.
  let quoted = '';
  for (let i = 1; i < args.length && quoted.length < 128; i++) quoted += `'${args[i].slice(0, 128 - quoted.length)}' `;
  return err(`unknown command '${args[0].slice(0, 128)}', with args beginning with: ${quoted}`);
}

function sentinel(sub: string, rest: readonly string[], s: Session, ctx: Context): Outcome {
  const find = () => ctx.masters.find((m) => m.name === rest[0]);
  switch (sub) {
    case 'get-master-addr-by-name': {
      const m = find();
      return one(m ? bulks([addressOf(m.node, s.scope), String(m.port)]) : NULL_ARRAY);
    }
    case 'masters':
      return one(array(ctx.masters.map((m) => masterFields(m, s.scope, ctx))));
    case 'master': {
      const m = find();
      return m ? one(masterFields(m, s.scope, ctx)) : NO_SUCH_MASTER;
    }
    case 'replicas':
    case 'slaves': {
      const m = find();
      return m ? one(array(m.replicas.map((r) => replicaFields(r, m, s.scope, ctx)))) : NO_SUCH_MASTER;
    }
    case 'sentinels':
      return find() ? one(array(otherSentinels(ctx).map((n) => sentinelFields(n, s.scope, ctx)))) : NO_SUCH_MASTER;
    case 'myid':
      return one(bulk(sentinelId(ctx.config, ctx.self)));
    case 'ckquorum': {
      if (!find()) return NO_SUCH_MASTER;
      // Every node votes: those up are the usable "Sentinels"; the quorum is the majority.
      const usable = ctx.upNodes.size;
      const quorum = Math.floor(ctx.config.nodes.length / 2) + 1;
      if (usable < quorum) return one(error(`NOQUORUM ${usable} usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master`));
      return one(simple(`OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`));
    }
    case 'reset': {
      // Nothing to forget: what a Sentinel would rediscover is rebuilt from the cluster at every change.
      const match = compileGlob(rest[0]);
      return one(int(ctx.masters.filter((m) => match(m.name)).length));
    }
    case 'config':
      return sentinelConfig(rest);
    case 'help':
      return help('sentinel');
    case 'is-master-down-by-addr':
      return isMasterDown(rest, ctx);
  }
  return err(`unknown subcommand '${sub}'. Try SENTINEL HELP.`);
}

/** Every other node that serves: its discovery endpoint is a sentinel a client may fall back to. */
function otherSentinels(ctx: Context): NodeConfig[] {
  return nameServerNodes(ctx.config).filter((n) => n.name !== ctx.self.name);
}

/** A stable 40-hex-digit id per node, as Sentinel's run id (clients only compare it). */
function sentinelId(config: ClusterConfig, node: NodeConfig): string {
  return createHash('sha1').update(`${config.zone}/${node.name}`).digest('hex');
}

/**
 * The fields Sentinel lists for a master, in its order. Link and ping timings describe Sentinel's
 * own connection to the master, which this service does not have: they are 0, never invented.
 */
function masterFields(m: Master, scope: AddressScope, ctx: Context): Reply {
  return fields([
    ['name', m.name],
    ['ip', addressOf(m.node, scope)],
    ['port', String(m.port)],
    ['runid', ''],
    ['flags', masterFlags(m.node, ctx)],
    ['link-pending-commands', '0'],
    ['link-refcount', '1'],
    ['last-ping-sent', '0'],
    ['last-ok-ping-reply', '0'],
    ['last-ping-reply', '0'],
    ['down-after-milliseconds', String(ctx.config.peer.downAfterMs)],
    ['info-refresh', '0'],
    ['role-reported', 'master'],
    ['role-reported-time', '0'],
    ['config-epoch', '0'],
    ['num-slaves', String(m.replicas.length)],
    ['num-other-sentinels', String(otherSentinels(ctx).filter((n) => ctx.upNodes.has(n.name)).length)],
    ['quorum', String(Math.floor(ctx.config.nodes.length / 2) + 1)],
    ['failover-timeout', '180000'],
    ['parallel-syncs', '1'],
  ]);
}

/**
 * Sentinel's flags, in its order (`s_down,o_down,master,disconnected`), from what this agent knows:
 * `disconnected` once heartbeats are missing, `s_down` once it has not heard the node for
 * peer.downAfter, `o_down` once the majority's verdict is down. node-redis takes no address
 * whose flags say s_down or disconnected, so a client that asks while the node is silent waits for
 * the new master instead of reconnecting to the old one.
 */
export function instanceFlags(role: 'master' | 'slave' | 'sentinel', node: NodeConfig, ctx: Pick<Context, 'links'>): string {
  const link = ctx.links.get(node.name);
  const flags: string[] = [];
  if (link && !link.heard) flags.push('s_down');
  if (link && !link.up && role !== 'sentinel') flags.push('o_down');
  flags.push(role);
  if (link && (link.late || !link.heard)) flags.push('disconnected');
  return flags.join(',');
}

const masterFlags = (n: NodeConfig, ctx: Context) => instanceFlags('master', n, ctx);

/** Another agent as a sentinel: by its verdict when nothing is known of the link (as before links). */
function sentinelFlags(n: NodeConfig, ctx: Context): string {
  if (ctx.links.has(n.name)) return instanceFlags('sentinel', n, ctx);
  return ctx.upNodes.has(n.name) ? 'sentinel' : 's_down,sentinel,disconnected';
}

function replicaFields(r: NodeConfig, m: Master, scope: AddressScope, ctx: Context): Reply {
  const ip = addressOf(r, scope);
  return fields([
    ['name', `${ip}:${m.port}`],
    ['ip', ip],
    ['port', String(m.port)],
    ['runid', ''],
    ['flags', instanceFlags('slave', r, ctx)],
    ['link-pending-commands', '0'],
    ['link-refcount', '1'],
    ['last-ping-sent', '0'],
    ['last-ok-ping-reply', '0'],
    ['last-ping-reply', '0'],
    ['down-after-milliseconds', String(ctx.config.peer.downAfterMs)],
    ['info-refresh', '0'],
    ['role-reported', 'slave'],
    ['role-reported-time', '0'],
    ['master-link-down-time', '0'],
    ['master-link-status', 'ok'],
    ['master-host', addressOf(m.node, scope)],
    ['master-port', String(m.port)],
    ['slave-priority', '100'],
    ['slave-repl-offset', '0'],
    ['replica-announced', '1'],
  ]);
}

function sentinelFields(n: NodeConfig, scope: AddressScope, ctx: Context): Reply {
  const id = sentinelId(ctx.config, n);
  return fields([
    ['name', id],
    ['ip', addressOf(n, scope)],
    ['port', String(ctx.config.discovery.port)],
    ['runid', id],
    ['flags', sentinelFlags(n, ctx)],
    ['link-pending-commands', '0'],
    ['link-refcount', '1'],
    ['last-ping-sent', '0'],
    ['last-ok-ping-reply', '0'],
    ['last-ping-reply', '0'],
    ['down-after-milliseconds', String(ctx.config.peer.downAfterMs)],
    ['last-hello-message', '0'],
    ['voted-leader', '?'],
    ['voted-leader-epoch', '0'],
  ]);
}

const INFO_SECTIONS = ['server', 'clients', 'sentinel'] as const;

/** INFO with Redis's section rules: none, `default`, `all` or `everything` is every section. */
function info(args: readonly string[], scope: AddressScope, ctx: Context): string {
  const asked = new Set(args.map((a) => a.toLowerCase()));
  const every = asked.size === 0 || asked.has('default') || asked.has('all') || asked.has('everything');
  const sections: string[] = [];
  for (const name of INFO_SECTIONS) {
    if (!every && !asked.has(name)) continue;
    const lines =
      name === 'server'
        ? [
            `redis_version:${REDIS_VERSION}`,
            'redis_mode:sentinel',
            `run_id:${sentinelId(ctx.config, ctx.self)}`,
            `tcp_port:${ctx.config.discovery.port}`,
            `uptime_in_seconds:${ctx.uptimeSeconds}`,
            `uptime_in_days:${Math.floor(ctx.uptimeSeconds / 86400)}`,
          ]
        : name === 'clients'
          ? [`connected_clients:${ctx.connectedClients}`]
          : [
              `sentinel_masters:${ctx.masters.length}`,
              'sentinel_tilt:0',
              'sentinel_tilt_since_seconds:-1',
              'sentinel_running_scripts:0',
              'sentinel_scripts_queue_length:0',
              'sentinel_simulate_failure_flags:0',
              ...ctx.masters.map(
                (m, i) =>
                  `master${i}:name=${m.name},status=${masterStatus(m, ctx)},address=${addressOf(m.node, scope)}:${m.port},slaves=${m.replicas.length},sentinels=${1 + otherSentinels(ctx).filter((n) => ctx.upNodes.has(n.name)).length}`,
              ),
            ];
    sections.push(`# ${name[0].toUpperCase()}${name.slice(1)}\r\n${lines.map((l) => `${l}\r\n`).join('')}`);
  }
  return sections.join('\r\n');
}

/** INFO's status of a master, as Sentinel's: `odown`, `sdown` or `ok`. */
function masterStatus(m: Master, ctx: Context): string {
  const flags = masterFlags(m.node, ctx);
  return flags.includes('o_down') ? 'odown' : flags.includes('s_down') ? 'sdown' : 'ok';
}

/** Sentinel's global parameters, as this service has them (it announces and resolves nothing). */
const SENTINEL_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['resolve-hostnames', 'no'],
  ['announce-hostnames', 'no'],
  ['announce-ip', ''],
  ['announce-port', '0'],
  ['sentinel-user', ''],
  ['sentinel-pass', ''],
];

function sentinelConfig(rest: readonly string[]): Outcome {
  const op = rest[0].toLowerCase();
  if (op === 'get' && rest.length === 2) {
    // Sentinel matches the parameter names without case (stringmatch nocase).
    const match = compileGlob(rest[1].toLowerCase());
    return one(fields(SENTINEL_CONFIG.filter(([k]) => match(k))));
  }
  if (op === 'set' && rest.length === 3) return err(`SENTINEL CONFIG SET is not offered by clusterdns discovery: nothing is configured through Sentinel`);
  return err('Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.');
}

/**
 * `IS-MASTER-DOWN-BY-ADDR <ip> <port> <epoch> <runid>`: whether this agent holds that master
 * s_down. Sentinels ask it to count votes and elect a leader; this service never votes, so the
 * leader is always `*` with epoch 0 (a vote request from a real Sentinel gets no vote).
 */
function isMasterDown(rest: readonly string[], ctx: Context): Outcome {
  const port = integer(rest[1]);
  const epoch = integer(rest[2]);
  if (port === undefined || epoch === undefined) return err('value is not an integer or out of range');
  const m = ctx.masters.find((x) => x.port === port && (x.node.address === rest[0] || x.node.peerAddress === rest[0] || x.node.address6 === rest[0]));
  const down = m !== undefined && ctx.links.get(m.node.name)?.heard === false;
  return one(array([int(down ? 1 : 0), bulk('*'), int(0)]));
}

