import { createHash, timingSafeEqual } from 'node:crypto';
import { bulk, error, int, map, array, NULL, OK, type Protocol } from './resp';
import { err, help, integer, one, type Context, type Outcome, type Session } from './session';

/** The connection's own commands: CLIENT, AUTH, HELLO (who it is, how it talks, who else is connected). */

/** What HELLO and INFO report: a Redis version clients treat as current (RESP3, HELLO). */
export const REDIS_VERSION = '7.0.15';
const WRONGPASS = one(error('WRONGPASS invalid username-password pair or user is disabled.'));

export function client(sub: string, rest: readonly string[], s: Session, ctx: Context): Outcome {
  if (sub === 'getname') return one(s.name === undefined ? NULL : bulk(s.name));
  if (sub === 'id') return one(int(s.id));
  if (sub === 'help') return help('client');
  if (sub === 'info') return one(bulk(`${clientLine(s, ctx.now)}\n`));
  if (sub === 'list') return clientList(rest, ctx);
  // Killing other clients' connections (their subscriptions) is not for anyone who can connect.
  if (sub === 'kill') return one(error("NOPERM this user has no permissions to run the 'client|kill' command"));
  if (sub === 'no-evict') {
    const v = rest[0].toLowerCase();
    return v === 'on' || v === 'off' ? one(OK) : err('syntax error');
  }
  if (sub === 'reply') {
    const v = rest[0].toLowerCase();
    if (v !== 'on' && v !== 'off' && v !== 'skip') return err('syntax error');
    s.reply = v;
    return one(OK);
  }
  if (sub === 'setinfo') {
    // Redis 7.2's rules: only the library name and version, no spaces or newlines.
    const attr = rest[0].toLowerCase();
    if (attr !== 'lib-name' && attr !== 'lib-ver') return err(`Unrecognized option '${rest[0].slice(0, 128)}'`);
    return validName(rest[1]) ? err(`${attr} cannot contain spaces, newlines or special characters.`) : one(OK);
  }
  const bad = validName(rest[0]);
  if (bad) return bad;
  s.name = rest[0] === '' ? undefined : rest[0];
  return one(OK);
}

/** Redis's CLIENT LIST line; buffer sizes it does not have are 0, `fd` is the socket's. */
function clientLine(s: Session, now: number): string {
  const sub = [...s.subs.channels.keys()].length;
  const psub = s.subs.size - sub;
  return [
    `id=${s.id}`,
    `addr=${s.addr}`,
    `laddr=${s.laddr}`,
    `fd=${s.fd}`,
    `name=${s.name ?? ''}`,
    `age=${Math.floor((now - s.createdAt) / 1000)}`,
    `idle=${Math.floor((now - s.lastActive) / 1000)}`,
    `flags=${s.subs.size > 0 ? 'P' : 'N'}`,
    'db=0',
    `sub=${sub}`,
    `psub=${psub}`,
    'ssub=0',
    'multi=-1',
    'qbuf=0',
    'qbuf-free=0',
    'argv-mem=0',
    'multi-mem=0',
    'rbs=0',
    'rbp=0',
    'obl=0',
    'oll=0',
    `omem=${s.pending()}`,
    'tot-mem=0',
    'events=r',
    `cmd=${s.cmd}`,
    `user=${s.user}`,
    'redir=-1',
    `resp=${s.proto}`,
  ].join(' ');
}

/** CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id …]. */
function clientList(rest: readonly string[], ctx: Context): Outcome {
  let type: string | undefined;
  let ids: Set<number> | undefined;
  for (let i = 0; i < rest.length; i++) {
    const opt = rest[i].toLowerCase();
    if (opt === 'type' && i + 1 < rest.length) {
      type = rest[++i].toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) return err(`Unknown client type '${rest[i].slice(0, 128)}'`);
    } else if (opt === 'id' && i + 1 < rest.length) {
      ids = new Set();
      while (i + 1 < rest.length) {
        const id = integer(rest[++i]);
        if (id === undefined || id <= 0) return err('Invalid client ID');
        ids.add(id);
      }
    } else return err('syntax error');
  }
  const lines: string[] = [];
  for (const c of ctx.clients()) {
    if (ids && !ids.has(c.id)) continue;
    if (type !== undefined && type !== (c.subs.size > 0 ? 'pubsub' : 'normal')) continue;
    lines.push(`${clientLine(c, ctx.now)}\n`);
  }
  return one(bulk(lines.join('')));
}

function validName(name: string): Outcome | undefined {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return err('Client names cannot contain spaces, newlines or special characters.');
  }
  return undefined;
}

function passwordMatches(given: string, password: string): boolean {
  const a = createHash('sha256').update(given, 'latin1').digest();
  const b = createHash('sha256').update(password, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Whether a connection must AUTH first: a default password, or ACL users (then `default` is off). */
export function authRequired(d: { readonly password?: string; readonly users?: readonly unknown[] }): boolean {
  return d.password !== undefined || (d.users?.length ?? 0) > 0;
}

/** AUTH [user] password: `default` with `discovery.password` (as `requirepass`), or one of `discovery.users`. */
function checkAuth(user: string, password: string, ctx: Context): boolean {
  if (user === 'default') return ctx.users.length === 0 ? ctx.password === undefined || passwordMatches(password, ctx.password) : ctx.password !== undefined && passwordMatches(password, ctx.password);
  // Every user is compared, so the time taken does not tell which names exist.
  let ok = false;
  for (const u of ctx.users) if (passwordMatches(password, u.password) && u.name === user) ok = true;
  return ok;
}

export function auth(rest: readonly string[], s: Session, ctx: Context): Outcome {
  if (rest.length > 2) return err('syntax error');
  if (rest.length === 1 && !authRequired(ctx)) {
    return err('AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
  }
  const [user, password] = rest.length === 2 ? rest : ['default', rest[0]];
  if (!checkAuth(user, password, ctx)) return WRONGPASS;
  s.authenticated = true;
  s.user = user;
  return one(OK);
}

export function hello(rest: readonly string[], s: Session, ctx: Context): Outcome {
  let proto: Protocol | undefined;
  if (rest.length >= 1) {
    if (!/^-?\d{1,18}$/.test(rest[0])) return err('Protocol version is not an integer or out of range');
    const v = Number(rest[0]);
    if (v !== 2 && v !== 3) return one(error('NOPROTO unsupported protocol version'));
    proto = v;
  }
  let credentials: [string, string] | undefined;
  let name: string | undefined;
  for (let j = 1; j < rest.length; j++) {
    const more = rest.length - 1 - j;
    const opt = rest[j].toLowerCase();
    if (opt === 'auth' && more >= 2) {
      credentials = [rest[j + 1], rest[j + 2]];
      j += 2;
    } else if (opt === 'setname' && more >= 1) {
      name = rest[j + 1];
      j += 1;
    } else return err(`Syntax error in HELLO option '${rest[j].slice(0, 128)}'`);
  }
  const needsAuth = !s.authenticated;
  if (needsAuth && !credentials) {
    return one(
      error('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time'),
    );
  }
  if (credentials) {
    if (!checkAuth(credentials[0], credentials[1], ctx)) return WRONGPASS;
    s.authenticated = true;
    s.user = credentials[0];
  }
  if (name !== undefined) {
    const bad = validName(name);
    if (bad) return bad;
    s.name = name === '' ? undefined : name;
  }
  if (proto) s.proto = proto;
  return one(
    map([
      ['server', bulk('redis')],
      ['version', bulk(REDIS_VERSION)],
      ['proto', int(s.proto)],
      ['id', int(s.id)],
      ['mode', bulk('sentinel')],
      ['modules', array([])],
    ]),
  );
}
