import { createHash } from 'node:crypto';
import { deepFreeze } from '../freeze';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { core } from 'zod';
import { ClusterDnsError } from '../errors';
import { configSchema, type RawConfig } from './schema';
import { nameServerNodes, type CheckConfig, type ClusterConfig } from './types';

const MIN_SECRET = 32;

/** Reads, interpolates, validates and normalises a config file. Throws ClusterDnsError (exit 2). */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ClusterDnsError('CONFIG_READ', `cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`, {
      details: ['give the path of the cluster YAML file with --config'],
    });
  }
  return parseConfig(text, { path, env });
}

export function parseConfig(text: string, opts: { path?: string; env?: NodeJS.ProcessEnv } = {}): ClusterConfig {
  const where = opts.path ?? 'config';
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ClusterDnsError('CONFIG_PARSE', `${where} is not valid YAML`, {
      details: doc.errors.map((e) => e.message.split('\n')[0]),
    });
  }
  const raw: unknown = doc.toJS();
  const problems: string[] = [];
  const interpolated = interpolate(raw, opts.env ?? process.env, [], problems);
  if (problems.length) throw invalid(where, problems);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) throw invalid(where, parsed.error.issues.map(describeIssue));
  return normalise(parsed.data, where, opts.path ? dirname(resolve(opts.path)) : process.cwd());
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

function normalise(c: RawConfig, where: string, baseDir: string): ClusterConfig {
  const problems: string[] = [];

  let secret = c.secret;
  if (secret !== undefined && c.secretFile !== undefined) problems.push('secret: give either secret or secretFile, not both');
  if (secret === undefined && c.secretFile !== undefined) {
    try {
      secret = readFileSync(resolve(baseDir, c.secretFile), 'utf8').trim();
    } catch (e) {
      problems.push(`secretFile: cannot read ${c.secretFile} (${(e as NodeJS.ErrnoException).code ?? e}) — give a readable file`);
    }
  }
  if (secret === undefined && c.secretFile === undefined) {
    problems.push(`secret: is required — peers sign every message with it; generate one with: openssl rand -base64 33`);
  } else if (secret !== undefined && secret.length < MIN_SECRET) {
    problems.push(`secret: is ${secret.length} characters, needs at least ${MIN_SECRET} — generate one with: openssl rand -base64 33`);
  }

  const names = new Map<string, number>();
  const addresses = new Map<string, string>();
  c.nodes.forEach((n, i) => {
    if (names.has(n.name)) problems.push(`nodes[${i}].name: "${n.name}" is also nodes[${names.get(n.name)}].name — node names must be unique`);
    names.set(n.name, i);
    for (const a of [n.address, n.address6].filter((x): x is string => !!x)) {
      const other = addresses.get(a);
      if (other) problems.push(`nodes[${i}]: address ${a} is also used by ${other} — every node needs its own address`);
      addresses.set(a, n.name);
    }
  });
  const nsCount = nameServerNodes(c).length;
  if (nsCount === 0) problems.push('nodes: every node is a witness — at least one node must serve DNS (role: node)');
  const reserved = new Set(Array.from({ length: nsCount }, (_, i) => `ns${i + 1}`));
  c.nodes.forEach((n, i) => {
    if (reserved.has(n.name)) {
      const k = Number(n.name.slice(2));
      if (nameServerNodes(c)[k - 1]?.name !== n.name)
        problems.push(`nodes[${i}].name: "${n.name}" clashes with the name server name ${n.name}.${c.zone} — rename the node`);
    }
  });

  const serviceNames = new Set<string>();
  c.services.forEach((s, i) => {
    if (serviceNames.has(s.name)) problems.push(`services[${i}].name: "${s.name}" is listed twice — service names must be unique`);
    serviceNames.add(s.name);
    if (names.has(s.name) || reserved.has(s.name))
      problems.push(`services[${i}].name: "${s.name}" is already a node or name server name — pick another name`);
    (s.nodes ?? []).forEach((n, j) => {
      if (!names.has(n)) problems.push(`services[${i}].nodes[${j}]: no node is named "${n}" — use one of ${[...names.keys()].join(', ')}`);
      else if (c.nodes[names.get(n)!].role === 'witness')
        problems.push(`services[${i}].nodes[${j}]: "${n}" is a witness and serves nothing — remove it`);
    });
  });

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
    intervalMs: k.interval,
    timeoutMs: k.timeout,
    rise: k.rise,
    fall: k.fall,
  });

  const body = {
    zone: c.zone,
    ttl: c.ttl,
    negativeTtl: c.negativeTtl,
    secret: secret!,
    dns: {
      port: c.dns.port,
      chaos: c.dns.chaos,
      minority: c.dns.minority,
      tcpIdleTimeoutMs: c.dns.tcpIdleTimeout,
      tcpMaxConnections: c.dns.tcpMaxConnections,
    },
    peer: {
      port: c.peer.port,
      intervalMs: c.peer.interval,
      downAfterMs: c.peer.downAfter,
      upAfterMs: c.peer.upAfter,
      maxUpAfterMs: Math.max(c.peer.maxUpAfter, c.peer.upAfter),
    },
    http: { port: c.http.port, enabled: c.http.enabled },
    discovery: { port: c.discovery.port, enabled: c.discovery.enabled, ...(c.discovery.password !== undefined ? { password: c.discovery.password } : {}) },
    parent: { ttl: c.parent.ttl },
    failoverOnCheckFailure: c.failoverOnCheckFailure,
    checks: c.checks.map((k) => toCheck(k)),
    nodes: c.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      ...(n.address6 ? { address6: n.address6 } : {}),
      peerAddress: n.peerAddress ?? n.address,
      listen: n.listen ?? [n.address, ...(n.address6 ? [n.address6] : [])],
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
  };
  const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return deepFreeze({ ...body, hash });
}
