import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parseDuration } from './duration';

/**
 * The config file's schema. Every field carries a message that says how to fix it, because the
 * message is all the user sees (`config check`, or the agent refusing to start).
 */

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const label = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .transform((s) => s.toLowerCase())
    .refine((s) => LABEL.test(s), {
      message: `${what} must be one DNS label: letters, digits and '-', 1–63 characters, not starting or ending with '-'`,
    });

const zoneName = z
  .string({ error: 'zone must be a domain name such as cluster.example.com' })
  .transform((s) => s.toLowerCase().replace(/\.$/, ''))
  .refine((s) => s.length > 0 && s.length <= 240 && s.split('.').every((l) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(l)), {
    message: 'zone must be a domain name such as cluster.example.com (labels of letters, digits and -, total ≤ 240 characters)',
  });

const ipv4 = z.string({ error: 'must be an IPv4 address such as 203.0.113.11' }).refine((s) => isIPv4(s), {
  message: 'must be an IPv4 address such as 203.0.113.11',
});
const ipv6 = z.string({ error: 'must be an IPv6 address such as 2001:db8::11' }).refine((s) => isIPv6(s), {
  message: 'must be an IPv6 address such as 2001:db8::11',
});

const port = z
  .number({ error: 'must be a port number (1–65535)' })
  .int({ message: 'must be a whole port number (1–65535)' })
  .min(1, { message: 'must be a port number (1–65535)' })
  .max(65535, { message: 'must be a port number (1–65535)' });

const ttl = (max: number) =>
  z
    .number({ error: `must be a TTL in seconds (0–${max})` })
    .int({ message: `must be a whole number of seconds (0–${max})` })
    .min(0, { message: `must be a TTL in seconds (0–${max})` })
    .max(max, { message: `must be a TTL in seconds (0–${max})` });

const duration = (min: number, max: number) =>
  z
    .union([z.number(), z.string()], { error: 'must be a duration such as 250ms, 1s or 1.5s' })
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: write 250ms, 1s or 1.5s (a bare number is milliseconds)` });
        return z.NEVER;
      }
      if (ms < min || ms > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} ms and ${max} ms (got ${ms} ms)` });
        return z.NEVER;
      }
      return ms;
    });

const count = z.number().int().min(1, { message: 'must be a whole number ≥ 1' }).max(100, { message: 'must be ≤ 100' });

export const checkSchema = z
  .object({
    type: z.enum(['tcp', 'redis', 'http', 'exec'], { error: 'type must be one of tcp, redis, http, exec' }),
    host: z.string().min(1).optional(),
    port: port.optional(),
    path: z.string().startsWith('/', { message: 'path must start with /' }).optional(),
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    command: z.array(z.string().min(1)).min(1, { message: 'command must be a non-empty list: [program, arg, …]' }).optional(),
    password: z.string().optional(),
    interval: duration(50, 3_600_000).default(1000),
    timeout: duration(10, 60_000).default(500),
    rise: count.default(2),
    fall: count.default(2),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.type === 'exec' && !c.command) ctx.addIssue({ code: 'custom', path: ['command'], message: 'an exec check needs command: [program, arg, …]' });
    if (c.timeout > c.interval) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'timeout must not be longer than interval' });
  });

/** 0.0.0.0 and :: in any spelling (`::0`, `0:0::0`). */
function isWildcard(s: string): boolean {
  if (isIPv4(s)) return s === '0.0.0.0';
  return isIPv6(s) && new URL(`http://[${s}]/`).hostname === '[::]';
}

const listenAddress = z
  .string()
  .refine((s) => isIPv4(s) || isIPv6(s), { message: 'must be an IPv4 or IPv6 address' })
  .refine((s) => !isWildcard(s), {
    // A UDP answer must leave from the address the query was sent to, or resolvers drop it. On a
    // wildcard socket the kernel picks the source by route, which on a multi-homed host is often
    // another address; fixing that needs IP_PKTINFO, which Node's dgram does not offer.
    message:
      'a wildcard address answers UDP from whichever address the kernel picks, not the one queried, and resolvers drop such answers on multi-homed hosts — list the addresses the node answers on',
  });

const nodeSchema = z
  .object({
    name: label('name'),
    address: ipv4.optional(),
    address6: ipv6.optional(),
    peerAddress: z.string().refine((s) => isIPv4(s) || isIPv6(s), { message: 'must be an IPv4 or IPv6 address' }).optional(),
    listen: z.array(listenAddress).min(1, { message: 'list at least one address, or leave listen out' }).optional(),
    rack: z.string().min(1).max(64).optional(),
    role: z.enum(['node', 'witness'], { error: 'role must be node or witness' }).default('node'),
  })
  .strict()
  .superRefine((n, ctx) => {
    if (n.address === undefined && n.address6 === undefined)
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'is required: give address (IPv4), address6 (IPv6) or both — clients reach the node there' });
  });

const serviceSchema = z
  .object({
    // The SRV owner `_<name>._tcp` puts an underscore in front: one character less than a label.
    name: label('name').refine((s) => s.length <= 62, { message: 'a service name is at most 62 characters: its SRV name _<name>._tcp adds one to the label' }),
    port,
    nodes: z.array(label('node name')).min(1, { message: 'list at least one node' }).optional(),
    policy: z.enum(['first-healthy', 'all-healthy'], { error: 'policy must be first-healthy or all-healthy' }).default('all-healthy'),
    whenAllDown: z.enum(['none', 'all'], { error: 'whenAllDown must be none or all' }).default('none'),
    check: checkSchema.optional(),
  })
  .strict();

/** Signature lifetimes: seconds, or a number with s, m, h or d (`14d`). */
const SIGNATURE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const signatureTime = z
  .union([z.number(), z.string()], { error: 'must be a time such as 14d, 36h or 3600 (seconds)' })
  .transform((v, ctx) => {
    const m = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(String(v));
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a time: write 14d, 36h or 3600 (seconds)` });
      return z.NEVER;
    }
    return Number(m[1]) * SIGNATURE_UNITS[m[2] || 's'];
  });

/** DNSSEC: the zone's keys (BIND file base names) and how long signatures live. */
const dnssecSchema = z
  .object({
    keys: z
      .array(z.string().min(1), { error: 'keys must be a list of key files such as /etc/clusterdns/Kcluster.example.com.+013+12345' })
      .min(1, { message: 'list at least one key — make one with: clusterdns dnssec keygen --config <file>' }),
    validity: signatureTime.default(14 * 86400),
    refresh: signatureTime.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.validity < 3 * 3600) ctx.addIssue({ code: 'custom', path: ['validity'], message: 'must be at least 3h: signatures start an hour early for clocks behind' });
    if (d.refresh !== undefined && (d.refresh <= 0 || d.refresh >= d.validity))
      ctx.addIssue({ code: 'custom', path: ['refresh'], message: 'must be shorter than validity (default: half of it)' });
  });

export const configSchema = z
  .object({
    zone: zoneName,
    ttl: ttl(86400).default(30),
    negativeTtl: ttl(86400).default(5),
    secret: z
      .string({ error: 'secret must be a string' })
      .refine((v) => v.length >= 32, { message: 'needs at least 32 characters — generate one with: openssl rand -base64 33' })
      .optional(),
    secretFile: z.string().min(1).optional(),
    dns: z
      .object({
        port: port.default(53),
        chaos: z.boolean().default(true),
        minority: z.enum(['refused', 'servfail'], { error: 'minority must be refused or servfail' }).default('refused'),
        tcpIdleTimeout: duration(100, 600_000).default(10_000),
        tcpMaxConnections: z.number().int().min(1).max(65536).default(256),
        tcpMaxConnectionsPerSource: z.number().int().min(1).max(65536).default(16),
      })
      .strict()
      .prefault({}),
    peer: z
      .object({
        port: port.default(7946),
        interval: duration(10, 60_000).default(250),
        downAfter: duration(20, 600_000).default(1000),
        upAfter: duration(0, 3_600_000).default(3000),
        maxUpAfter: duration(0, 3_600_000).default(60_000),
      })
      .strict()
      .prefault({}),
    http: z.object({ port: port.default(8053), enabled: z.boolean().default(true) }).strict().prefault({}),
    parent: z.object({ ttl: ttl(604800).default(60) }).strict().prefault({}),
    failoverOnCheckFailure: z.boolean().default(true),
    checks: z
      .array(
        checkSchema.refine((c) => c.type !== 'tcp' || c.port !== undefined, {
          path: ['port'],
          message: 'a tcp node check needs port: the port to connect to',
        }),
      )
      .default([]),
    nodes: z.array(nodeSchema, { error: 'nodes must be a list of { name, address }' }).min(1, { message: 'list at least one node' }),
    services: z.array(serviceSchema).default([]),
    dnssec: dnssecSchema.optional(),
  })
  .strict();

export type RawConfig = z.output<typeof configSchema>;
