import { encodeQuery, udpExchange } from './dns';
import type { Started } from './proc';

/**
 * Config files for the real name servers the integration tests run on loopback (NSD as root and
 * parent, unbound as the resolver), each in its own directory, in the foreground, with no chroot,
 * no privilege drop and no control socket. Shared by test/check/world.ts, test/dnssec/world.ts and
 * the tests that put unbound in front of the agents.
 */

/** nsd.conf serving one zone from `zonefile` on `address`:`port`. */
export function nsdConf(dir: string, address: string, zone: string, zonefile: string, port = 53): string {
  return `server:
  ip-address: ${address}
  port: ${port}
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  pidfile: "${dir}/nsd.pid"
  xfrdfile: "${dir}/xfrd.state"
  zonelistfile: "${dir}/zone.list"
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: "${zone}"
  zonefile: "${zonefile}"
`;
}

/**
 * unbound.conf listening on `address`:`port` for 127.0.0.0/8; `server` adds lines to the server
 * clause (modules, hints, trust anchor, cache limits), `tail` adds clauses such as a stub-zone.
 */
export function unboundConf(o: { dir: string; address: string; port?: number; server: string[]; tail?: string }): string {
  return `server:
  interface: ${o.address}
  port: ${o.port ?? 53}
  do-ip6: no
  do-not-query-localhost: no
${o.server.map((l) => `  ${l}\n`).join('')}  username: ""
  chroot: ""
  directory: "${o.dir}"
  pidfile: "${o.dir}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  # test. is a special-use name (RFC 6761) that unbound answers itself unless told not to.
  local-zone: "test." nodefault
${o.tail ?? ''}remote-control:
  control-enable: no
`;
}

/** Resolves when `host` answers a query on port 53, or throws after `ms` or when the server exits. */
export async function waitForDns(host: string, name: string, started: Started, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (started.child.exitCode !== null) throw new Error(`server on ${host} exited (${started.child.exitCode}):\n${started.stdout}\n${started.stderr}`);
    if (await udpExchange(host, 53, encodeQuery(name, 'SOA'), 200)) return;
  }
  throw new Error(`nothing answers on ${host}:53 after ${ms} ms:\n${started.stdout}\n${started.stderr}`);
}

/**
 * named.conf for a test's own BIND 9 on `address`:`port` (IPv4 only, no control channel, files in
 * `dir`): `options` are the statements that test needs inside options { }, `rest` its zones and includes.
 */
export function namedConf(dir: string, address: string, port: number, options: readonly string[], rest: string): string {
  return `options {
  directory "${dir}";
  pid-file none;
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { ${address}; };
  listen-on-v6 { none; };
${options.map((o) => `  ${o}\n`).join('')}};
controls { };
${rest}`;
}
