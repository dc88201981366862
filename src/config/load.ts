import { createHmac, hkdfSync } from 'node:crypto';
import { deepFreeze } from '../freeze';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { core } from 'zod';
import { ClusterDnsError } from '../errors';
import { compile } from '../zone/compile';
import { allUpInputs } from '../zone/inputs';
import { buildZone } from '../zone/zone';
import { configSchema, type RawConfig } from './schema';
import { signatureTimeProblems } from './signature-times';
import { hasInternalNames, INTERNAL_LABEL, nameServerNodes, nodeAddresses, privateAddresses, type CheckConfig, type ClusterConfig, type DnssecConfig } from './types';
import { heartbeatBound } from '../membership/messages';
import { parsePrefix } from '../net/prefix';
import { addressKey, isUnspecified, sameAddress } from '../net/address';
import { isSep, KeyFormatError, parseKeyFiles, type KeyFiles } from '../dnssec/keys';
import { discoveryAddresses } from '../discovery/addresses';
import { Signer } from '../dnssec/signer';

const MIN_SECRET = 32;
/** The generated name-server names (same pattern as parent/records.ts isManagedNameServer). */
const NAME_SERVER_NAME = /^ns[1-9][0-9]*$/;
/** RFC 1035: a name is at most 255 bytes on the wire, i.e. 253 characters written without the final dot. */
const MAX_NAME_CHARS = 253;

/**
 * A file the config names, read only if it is a regular file: a FIFO nobody writes (or a device)
 * would block the reading thread in the kernel for good, where neither a reload nor SIGTERM can end
 * it. Opened without blocking, checked on the open descriptor, then read. Errors carry a `code`.
 */
function readRegularFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'not a regular file' });
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads, interpolates, validates and normalises a config file. Throws ClusterDnsError (exit 2). */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env, opts: { withoutDnssec?: boolean } = {}): ClusterConfig {
  let text: string;
  try {
    text = readRegularFile(path);
  } catch (e) {
    throw new ClusterDnsError('CONFIG_READ', `cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      details: ['give the path of the cluster YAML file with --config'],
    });
  }
  return parseConfig(text, { path, env, ...opts });
}

/**
 * `withoutDnssec`: the config as if it had no `dnssec` section, for `dnssec keygen`, which must
 * run when the listed keys are missing or expired: making the key is how the operator fixes that.
 */
export function parseConfig(text: string, opts: { path?: string; env?: NodeJS.ProcessEnv; withoutDnssec?: boolean } = {}): ClusterConfig {
  const where = opts.path ?? 'config';
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ClusterDnsError('CONFIG_PARSE', `${where} is not valid YAML`, {
      details: doc.errors.map((e) => e.message.split('\n')[0]),
    });
  }
  let raw: unknown;
  try {
    // Aliases are expanded here: the yaml library refuses a document that expands too far.
    raw = doc.toJS();
  } catch (e) {
    throw new ClusterDnsError('CONFIG_PARSE', `${where} is not a usable YAML document`, {
      details: [`${e instanceof Error ? e.message : String(e)} — write the values out instead of through nested aliases (&name / *name)`],
    });
  }
  const problems: string[] = [];
  const interpolated = interpolate(raw, opts.env ?? process.env, [], problems);
  if (problems.length) throw invalid(where, problems);
  if (opts.withoutDnssec && interpolated && typeof interpolated === 'object') delete (interpolated as { dnssec?: unknown }).dnssec;
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) throw invalid(where, parsed.error.issues.map(describeIssue));
  const config = normalise(parsed.data, where, opts.path ? dirname(resolve(opts.path)) : process.cwd());
  assertServable(config, where);
  return config;
}

/**
 * Compiles the zone exactly as the agent does, with every node up and every service answering all
 * its nodes — the largest answers any view can produce — so a config that passes here cannot make
 * the agent fail later. The per-field checks in `normalise` should catch everything first; this
 * is the backstop that turns anything they miss into a config error instead of a crash.
 */
function assertServable(config: ClusterConfig, where: string): void {
  const inputs = { ...allUpInputs(config, 0xffffffff), services: new Map(config.services.map((s) => [s.name, s.nodes])) };
  const longest = nameServerNodes(config).reduce((a, n) => (n.name.length > a.length ? n.name : a), '');
  try {
    compile(buildZone(config, inputs), { identity: config.dns.chaos ? longest : undefined, unavailable: config.dns.minority, internalFrom: config.dns.internalFrom });
  } catch (e) {
    throw invalid(where, [`zone: the cluster zone cannot be built from this config (${e instanceof Error ? e.message : String(e)}) — shorten the zone, node or service names`]);
  }
  if (config.dnssec) assertSignable(config, inputs, longest, where);
}

/**
 * The signed zone as the agent compiles it now: a key set that cannot sign today (every SEP key
 * not yet active, retired or deleted) would serve a zone of unsigned RRsets, which validators
 * reject as bogus, and a key that the crypto library refuses would fail the agent's first compile.
 */
function assertSignable(config: ClusterConfig, inputs: ReturnType<typeof allUpInputs>, identity: string, where: string): void {
  const d = config.dnssec!;
  const now = Math.floor(Date.now() / 1000);
  let signer: Signer;
  try {
    signer = new Signer(config.zone, d.keys, { validity: d.validity, refresh: d.refresh });
    if (signer.secureEntryKeys(now).length === 0)
      throw invalid(where, [
        `dnssec.keys: no SEP key (a CSK or KSK) is active now, so nothing would sign the zone and validators would reject it — list a key whose Activate time has passed and whose Inactive/Delete times have not (clusterdns dnssec keygen makes one)`,
      ]);
    compile(buildZone(config, inputs), {
      identity: config.dns.chaos ? identity : undefined,
      unavailable: config.dns.minority,
      internalFrom: config.dns.internalFrom,
      dnssec: { signer, now },
    });
  } catch (e) {
    if (e instanceof ClusterDnsError) throw e;
    throw invalid(where, [`dnssec.keys: the zone cannot be signed with these keys (${e instanceof Error ? e.message : String(e)}) — make new ones with: clusterdns dnssec keygen --config <file>`]);
  }
}

function invalid(where: string, problems: string[]): ClusterDnsError {
  return new ClusterDnsError('CONFIG_INVALID', `${where} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:`, {
    details: problems,
  });
}

/** `${VAR}` in any string value is replaced by the environment variable; a missing one is an error. */
function interpolate(v: unknown, env: NodeJS.ProcessEnv, path: (string | number)[], problems: string[]): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const value = env[name];
      if (value === undefined) {
        problems.push(`${fieldPath(path)}: environment variable ${name} is not set — export it or write the value`);
        return '';
      }
      return value;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, [...path, i], problems));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x, env, [...path, k], problems)]));
  }
  return v;
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function describeIssue(issue: core.$ZodIssue): string {
  const at = fieldPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return `${at}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} — remove or correct ${issue.keys.length > 1 ? 'them' : 'it'} (check the spelling against the README's configuration reference)`;
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    return `${at}: is required`;
  }
  return `${at}: ${issue.message}`;
}

/**
 * Every owner name the zone will hold must fit in 255 wire bytes. Checked per field so the message
 * can say which one to shorten; `assertServable` then compiles the zone as a backstop.
 */
function tooLongNames(c: RawConfig, nsCount: number): string[] {
  const problems: string[] = [];
  const check = (field: string, name: string, fix: string) => {
    if (name.length > MAX_NAME_CHARS)
      problems.push(`${field}: the zone would hold ${name} — ${name.length + 2} bytes in DNS wire form, over the limit of 255 — ${fix}`);
  };
  check('zone', `hostmaster.${c.zone}`, 'use a shorter zone');
  check('zone', `ns${Math.max(nsCount, 1)}.${c.zone}`, 'use a shorter zone');
  // With private addresses every node and service name is also served under internal.<zone>: the
  // longer of the two is the one that must fit.
  const under = hasInternalNames(c) ? `${INTERNAL_LABEL}.${c.zone}` : c.zone;
  const more = under === c.zone ? '' : ` (their ${INTERNAL_LABEL}. names add ${INTERNAL_LABEL.length + 1} characters)`;
  c.nodes.forEach((n, i) => {
    if (n.role !== 'witness') check(`nodes[${i}].name`, `${n.name}.${under}`, `shorten the node name or the zone${more}`);
  });
  c.services.forEach((s, i) => check(`services[${i}].name`, `_${s.name}._tcp.${under}`, `shorten the service name or the zone${more}`));
  return problems;
}

/** A node's addresses with the field each is written in, the peer address included. */
function ownAddresses(n: RawConfig['nodes'][number]): [string, string][] {
  const fields: [string, string | undefined][] = [
    ['address', n.address],
    ['address6', n.address6],
    ['privateAddress', n.privateAddress],
    ['privateAddress6', n.privateAddress6],
    ['peerAddress', peerAddressOf(n)],
  ];
  return fields.filter((f): f is [string, string] => f[1] !== undefined);
}

/** Heartbeats go over the private network when the node has one. */
function peerAddressOf(n: RawConfig['nodes'][number]): string {
  return n.peerAddress ?? n.privateAddress ?? n.privateAddress6 ?? nodeAddresses(n)[0];
}

function normalise(c: RawConfig, where: string, baseDir: string): ClusterConfig {
  const problems: string[] = [];

  let secrets: string[] | undefined = c.secret === undefined ? undefined : typeof c.secret === 'string' ? [c.secret] : c.secret;
  if (secrets !== undefined && c.secretFile !== undefined) problems.push('secret: give either secret or secretFile, not both');
  if (secrets === undefined && c.secretFile !== undefined) {
    secrets = [];
    for (const file of typeof c.secretFile === 'string' ? [c.secretFile] : c.secretFile) {
      try {
        secrets.push(readRegularFile(resolve(baseDir, file)).trim());
      } catch (e) {
        problems.push(`secretFile: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e}) — give a readable file`);
      }
    }
  }
  if (secrets === undefined && c.secretFile === undefined) {
    problems.push(`secret: is required — peers sign every message with it; generate one with: openssl rand -base64 33`);
  }
  (secrets ?? []).forEach((s, i, all) => {
    const field = all.length > 1 ? `secret[${i}]` : 'secret';
    if (s.length < MIN_SECRET) problems.push(`${field}: is ${s.length} characters, needs at least ${MIN_SECRET} — generate one with: openssl rand -base64 33`);
    if (all.indexOf(s) !== i) problems.push(`${field}: is listed twice — list each secret once`);
  });
  c.dns.rateLimit.exempt.forEach((e, i) => {
    try {
      parsePrefix(e);
    } catch (err) {
      problems.push(`dns.rateLimit.exempt[${i}]: ${(err as Error).message}`);
    }
  });

  const names = new Map<string, number>();
  // By addressKey: fd00::1 and fd00:0::1 are one address.
  const addresses = new Map<string, { node: string; field: string; written: string }>();
  c.nodes.forEach((n, i) => {
    if (names.has(n.name)) problems.push(`nodes[${i}].name: "${n.name}" is also nodes[${names.get(n.name)}].name — node names must be unique`);
    names.set(n.name, i);
    // The peer address too: heartbeats are sent to it and sources are told apart by it.
    const own = new Map<string, { field: string; written: string }>();
    for (const [field, a] of ownAddresses(n)) if (!own.has(addressKey(a)!)) own.set(addressKey(a)!, { field, written: a });
    for (const [key, { field, written }] of own) {
      const other = addresses.get(key);
      if (other) problems.push(`nodes[${i}]: address ${written} is also used by ${other.node}${other.written === written ? '' : ` (written ${other.written})`} — every node needs its own address`);
      else addresses.set(key, { node: n.name, field, written });
    }
  });
  // A node binds its listen addresses: another node's address is not on its machine, and the agent
  // would fail at start with EADDRNOTAVAIL.
  c.nodes.forEach((n, i) =>
    (n.listen ?? []).forEach((a, j) => {
      const owner = addresses.get(addressKey(a)!);
      if (owner && owner.node !== n.name)
        problems.push(
          `nodes[${i}].listen[${j}]: ${a} is ${owner.node}'s address (${owner.field}${owner.written === a ? '' : `, written ${owner.written}`}): ${n.name}'s agent cannot bind it — list ${n.name}'s own addresses, or leave listen out`,
        );
    }),
  );
  const nsCount = nameServerNodes(c).length;
  if (nsCount === 0) problems.push('nodes: every node is a witness — at least one node must serve DNS (role: node)');
  // nsK names are generated, and renumber when nodes are added or removed; the parent tools treat
  // every nsK.<zone> as theirs. A node called ns2 would give ns2.<zone> two A records (as node and
  // as name server), or take over another node's name server name after the next change.
  const clashesWithNs = (name: string) => `"${name}" clashes with the name server name ${name}.${c.zone} (ns1, ns2, … are the names clusterdns generates for the name servers)`;
  c.nodes.forEach((n, i) => {
    if (NAME_SERVER_NAME.test(n.name)) problems.push(`nodes[${i}].name: ${clashesWithNs(n.name)} — rename the node`);
  });

  // internal.<zone> holds the private-address names: a node or service of that name would own it twice.
  const internal = hasInternalNames(c);
  if (internal) {
    c.nodes.forEach((n, i) => {
      if (n.name === INTERNAL_LABEL) problems.push(`nodes[${i}].name: "${INTERNAL_LABEL}" is where ${INTERNAL_LABEL}.${c.zone} names with private addresses live — rename the node`);
    });
    c.services.forEach((s, i) => {
      if (s.name === INTERNAL_LABEL) problems.push(`services[${i}].name: "${INTERNAL_LABEL}" is where ${INTERNAL_LABEL}.${c.zone} names with private addresses live — pick another name`);
    });
  } else if (c.dns.internalFrom !== undefined) {
    problems.push(`dns.internalFrom: restricts the ${INTERNAL_LABEL}.${c.zone} names, but no node has privateAddress or privateAddress6 — give the nodes their private addresses, or remove internalFrom`);
  }

  const serviceNames = new Set<string>();
  c.services.forEach((s, i) => {
    if (serviceNames.has(s.name)) problems.push(`services[${i}].name: "${s.name}" is listed twice — service names must be unique`);
    serviceNames.add(s.name);
    if (names.has(s.name)) problems.push(`services[${i}].name: "${s.name}" is already a node name — pick another name`);
    else if (NAME_SERVER_NAME.test(s.name)) problems.push(`services[${i}].name: ${clashesWithNs(s.name)} — pick another name`);
    (s.nodes ?? []).forEach((n, j) => {
      if (!names.has(n)) problems.push(`services[${i}].nodes[${j}]: no node is named "${n}" — use one of ${[...names.keys()].join(', ')}`);
      else if (c.nodes[names.get(n)!].role === 'witness')
        problems.push(`services[${i}].nodes[${j}]: "${n}" is a witness and serves nothing — remove it`);
    });
  });

  // http.listen is one list for every node: an address that belongs to one node cannot be bound on the others.
  (c.http.listen ?? []).forEach((a, i) => {
    const owner = c.nodes.find((n) => [...nodeAddresses(n), ...privateAddresses(n), n.peerAddress, ...(n.listen ?? [])].some((x) => x !== undefined && sameAddress(x, a)));
    if (owner && c.nodes.length > 1)
      problems.push(
        `http.listen[${i}]: ${a} is ${owner.name}'s address, and every node listens on http.listen, so the others cannot start — leave listen out (each node's API then listens on its own private address) or list an address every node has, such as 127.0.0.1`,
      );
  });
  problems.push(...tooLongNames(c, nsCount));
  const dnssec = c.dnssec ? readDnssecKeys(c.dnssec, c.zone, baseDir, problems) : undefined;
  problems.push(...signatureTimeProblems(c));

  // Each agent binds one peer socket, of its own peerAddress's family: it cannot reach a peer of
  // the other family. An IPv6-only node (no `address`) in an IPv4 peer network needs an IPv4 peerAddress.
  const family = (n: RawConfig['nodes'][number]) => (isIPv6(peerAddressOf(n)) ? 'IPv6' : 'IPv4');
  const first = c.nodes[0];
  c.nodes.forEach((n, i) => {
    if (family(n) !== family(first))
      problems.push(
        `nodes[${i}].peerAddress: ${n.name} would exchange heartbeats over ${family(n)} but ${first.name} over ${family(first)} — peers must share one family: give ${n.name} a peerAddress of ${family(first)}`,
      );
  });
  problems.push(...heartbeatBound(c.nodes.map((n) => n.name), c.services.map((s) => s.name)));

  if (c.peer.downAfter < 2 * c.peer.interval)
    problems.push(`peer.downAfter: must be at least two intervals (${2 * c.peer.interval} ms) so one lost heartbeat does not fail a node`);

  if (problems.length) throw invalid(where, problems);

  // A service's check probes the service's own port unless it names another; a node check defaults
  // to the protocol's well-known port.
  const toCheck = (k: RawConfig['checks'][number], servicePort?: number): CheckConfig => ({
    type: k.type,
    host: k.host,
    port: k.port ?? servicePort ?? (k.type === 'redis' ? 6379 : k.type === 'http' ? 80 : undefined),
    path: k.path,
    expectStatus: k.expectStatus,
    command: k.command,
    password: k.password,
    ...(k.role !== undefined ? { role: k.role } : {}),
    intervalMs: k.interval,
    timeoutMs: k.timeout,
    rise: k.rise,
    fall: k.fall,
  });

  const body = {
    zone: c.zone,
    ttl: c.ttl,
    negativeTtl: c.negativeTtl,
    dns: {
      port: c.dns.port,
      chaos: c.dns.chaos,
      minority: c.dns.minority,
      tcpIdleTimeoutMs: c.dns.tcpIdleTimeout,
      tcpMaxConnections: c.dns.tcpMaxConnections,
      tcpMaxConnectionsPerSource: c.dns.tcpMaxConnectionsPerSource,
      workers: c.dns.workers,
      rateLimit: { ...c.dns.rateLimit },
      ...(c.dns.internalFrom ? { internalFrom: c.dns.internalFrom } : {}),
    },
    peer: {
      port: c.peer.port,
      intervalMs: c.peer.interval,
      downAfterMs: c.peer.downAfter,
      upAfterMs: c.peer.upAfter,
      maxUpAfterMs: Math.max(c.peer.maxUpAfter, c.peer.upAfter),
    },
    http: { port: c.http.port, enabled: c.http.enabled, ...(c.http.listen ? { listen: c.http.listen } : {}) },
    discovery: {
      port: c.discovery.port,
      enabled: c.discovery.enabled,
      ...(c.discovery.password !== undefined ? { password: c.discovery.password } : {}),
      ...(c.discovery.users?.length ? { users: c.discovery.users.map((u) => ({ name: u.name, password: u.password })) } : {}),
      ...(c.discovery.tls ? { tls: { ...c.discovery.tls } } : {}),
    },
    parent: { ttl: c.parent.ttl },
    failoverOnCheckFailure: c.failoverOnCheckFailure,
    checks: c.checks.map((k) => toCheck(k)),
    nodes: c.nodes.map((n) => ({
      name: n.name,
      ...(n.address ? { address: n.address } : {}),
      ...(n.address6 ? { address6: n.address6 } : {}),
      ...(n.privateAddress ? { privateAddress: n.privateAddress } : {}),
      ...(n.privateAddress6 ? { privateAddress6: n.privateAddress6 } : {}),
      peerAddress: peerAddressOf(n),
      // The API belongs on the private network: the peer address when the node has a private one.
      apiListen: c.http.listen ?? (n.peerAddress ?? n.privateAddress ?? n.privateAddress6 ? [peerAddressOf(n)] : (n.listen ?? nodeAddresses(n))),
      // Internal clients ask the agent on its private address: listen there too.
      listen: n.listen ?? [...new Set([...nodeAddresses(n), ...privateAddresses(n)])],
      ...(n.rack ? { rack: n.rack } : {}),
      role: n.role,
    })),
    services: c.services.map((s) => ({
      name: s.name,
      port: s.port,
      nodes: s.nodes ?? nameServerNodes(c).map((n) => n.name),
      policy: s.policy,
      whenAllDown: s.whenAllDown,
      ...(s.check ? { check: toCheck(s.check, s.port) } : {}),
    })),
    ...(dnssec ? { dnssec } : {}),
  };
  const clashes = portClashes(body);
  if (clashes.length) throw invalid(where, clashes);
  // dns.workers tunes one machine's threads and changes no answer: a config that differs only there
  // is the same config to peers (and 0.2 agents, which lack the field, hash as before).
  const { workers: _workers, ...hashedDns } = body.dns;
  return deepFreeze({ ...body, secret: secrets![0], secrets: secrets!, hash: configHash({ ...body, dns: hashedDns }, secrets![0]) });
}

/**
 * Two listeners of one agent on the same protocol, port and address: the second bind fails with
 * EADDRINUSE at start, so `config check` must say so first. DNS is UDP and TCP; the peer port UDP;
 * the HTTP API and discovery TCP. Addresses as `normalise` gives them to the agent.
 */
function portClashes(c: Pick<ClusterConfig, 'dns' | 'peer' | 'http' | 'discovery' | 'nodes'>): string[] {
  const problems: string[] = [];
  for (const n of c.nodes) {
    const serves = n.role !== 'witness';
    const listeners: { field: string; proto: 'udp' | 'tcp'; port: number; addresses: readonly string[] }[] = [
      ...(serves ? (['udp', 'tcp'] as const).map((proto) => ({ field: 'dns.port', proto, port: c.dns.port, addresses: n.listen })) : []),
      { field: 'peer.port', proto: 'udp', port: c.peer.port, addresses: [n.peerAddress] },
      ...(c.http.enabled ? [{ field: 'http.port', proto: 'tcp' as const, port: c.http.port, addresses: n.apiListen }] : []),
      ...(serves && c.discovery.enabled ? [{ field: 'discovery.port', proto: 'tcp' as const, port: c.discovery.port, addresses: discoveryAddresses(n) }] : []),
      ...(serves && c.discovery.enabled && c.discovery.tls ? [{ field: 'discovery.tls.port', proto: 'tcp' as const, port: c.discovery.tls.port, addresses: discoveryAddresses(n) }] : []),
    ];
    listeners.forEach((a, i) => {
      for (const b of listeners.slice(0, i)) {
        if (a.proto !== b.proto || a.port !== b.port || a.field === b.field) continue;
        const shared = a.addresses.find((x) => b.addresses.some((y) => sameAddress(x, y) || isUnspecified(x) || isUnspecified(y)));
        if (shared !== undefined && !problems.some((p) => p.startsWith(`${a.field}: ${a.port} is also ${b.field}`)))
          problems.push(`${a.field}: ${a.port} is also ${b.field}, and node ${n.name} would listen on both at ${shared} (${a.proto.toUpperCase()}) — give them different ports`);
      }
    });
  }
  return problems;
}

/**
 * The hash peers compare. The secrets are not in the hashed content: whether peers share one shows
 * already in whether their heartbeats verify. And it is keyed by a key derived from the sending
 * secret, so it is no offline oracle for the secret or for a check's password (issue 9). Changing the
 * sending secret changes it, so a node still sending under the old one shows as a mismatch.
 */
function configHash(body: object, secret: string): string {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'clusterdns config hash v1', 32));
  return createHmac('sha256', key).update(JSON.stringify(body)).digest('hex').slice(0, 16);
}

/**
 * Reads each key's `.key` and `.private` (a path may name either file or the base name). Problems
 * go into `problems` with the fix, as for every other field.
 */
function readDnssecKeys(d: NonNullable<RawConfig['dnssec']>, zone: string, baseDir: string, problems: string[]): DnssecConfig | undefined {
  const keys: KeyFiles[] = [];
  const seen = new Map<string, number>();
  d.keys.forEach((path, i) => {
    const base = resolve(baseDir, path.replace(/\.(key|private)$/, ''));
    const field = `dnssec.keys[${i}]`;
    let keyText: string;
    let privateText: string;
    try {
      keyText = readRegularFile(`${base}.key`);
      privateText = readRegularFile(`${base}.private`);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      problems.push(`${field}: cannot read ${err.path ?? base} (${err.code ?? err.message}) — give the key's base name (K<zone>.+<alg>+<tag>) with both .key and .private next to it`);
      return;
    }
    try {
      const k = parseKeyFiles(keyText, privateText);
      const twin = seen.get(`${k.algorithm}/${k.publicKey}`);
      if (k.zone !== zone) problems.push(`${field}: ${path} is a key for ${k.zone}, not for ${zone} — make one with: clusterdns dnssec keygen --config <file>`);
      // The DNSKEY set would hold the same record twice, and the key would sign every RRset twice.
      else if (twin !== undefined) problems.push(`${field}: ${path} is the same key as dnssec.keys[${twin}] — list each key once`);
      else {
        seen.set(`${k.algorithm}/${k.publicKey}`, i);
        keys.push(k);
      }
    } catch (e) {
      if (!(e instanceof KeyFormatError)) throw e;
      problems.push(`${field}: ${path}: ${e.message}`);
    }
  });
  if (keys.length !== d.keys.length) return undefined;
  if (!keys.some((k) => isSep(k))) problems.push('dnssec.keys: no key has the SEP flag (257): list a CSK or KSK, the key the parent\'s DS points to');
  return { keyPaths: d.keys, keys, validity: d.validity, refresh: d.refresh ?? Math.floor(d.validity / 2) };
}
