import { isIPv4, isIPv6 } from 'node:net';
import { isUnspecified } from '../net/address';
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
const ipv6 = z
  .string({ error: 'must be an IPv6 address such as 2001:db8::11' })
  .refine((s) => isIPv6(s), { message: 'must be an IPv6 address such as 2001:db8::11' })
  // Node's isIPv6 takes fe80::1%eth0; an AAAA record has no room for the interface.
  .refine((s) => !s.includes('%'), { message: 'goes into AAAA records, where a zone index (%eth0) has no meaning — write the address without it' });

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

const secretString = z
  .string({ error: 'secret must be a string' })
  .refine((v) => v.length >= 32, { message: 'needs at least 32 characters — generate one with: openssl rand -base64 33' });

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
    role: z.enum(['master', 'replica'], { error: 'role must be master or replica' }).optional(),
    interval: duration(50, 3_600_000).default(1000),
    timeout: duration(10, 60_000).default(500),
    rise: count.default(2),
    fall: count.default(2),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.type === 'exec' && !c.command) ctx.addIssue({ code: 'custom', path: ['command'], message: 'an exec check needs command: [program, arg, …]' });
    if (c.role !== undefined && c.type !== 'redis') ctx.addIssue({ code: 'custom', path: ['role'], message: 'role is for redis checks (healthy only while ROLE says master, or replica)' });
    if (c.timeout > c.interval) ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'timeout must not be longer than interval' });
  });


const listenAddress = z
  .string()
  .refine((s) => isIPv4(s) || isIPv6(s), { message: 'must be an IPv4 or IPv6 address' })
  .refine((s) => !isUnspecified(s), {
    // A UDP answer must leave from the address the query was sent to, or resolvers drop it. On a
    // wildcard socket the kernel picks the source by route, which on a multi-homed host is often
    // another address; fixing that needs IP_PKTINFO, which Node's dgram does not offer.
    message:
      'a wildcard address answers UDP from whichever address the kernel picks, not the one queried, and resolvers drop such answers on multi-homed hosts — list the addresses the node answers on',
  });

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (one host). Normalised to `address/length`. */
const clientPrefix = z.string({ error: 'must be a prefix such as 10.0.0.0/8' }).transform((v, ctx) => {
  const [address, len, ...rest] = v.trim().split('/');
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
  const bits = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : -1;
  if (max === 0 || rest.length > 0 || bits < 0 || bits > max) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a client prefix: write an address and a length, such as 10.0.0.0/8 or fd00::/8` });
    return z.NEVER;
  }
  return `${address}/${bits}`;
});

const nodeSchema = z
  .object({
    name: label('name'),
    address: ipv4.optional(),
    address6: ipv6.optional(),
    peerAddress: z.string().refine((s) => isIPv4(s) || isIPv6(s), { message: 'must be an IPv4 or IPv6 address' }).optional(),
    privateAddress: ipv4.optional(),
    privateAddress6: ipv6.optional(),
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

/**
 * `peer.profile` sets the heartbeat timings together, as memberlist's DefaultLANConfig and
 * DefaultWANConfig do; an explicit interval, downAfter or upAfter still wins. lan: nodes in one
 * site (sub-millisecond RTT, rare loss): failover in about 1.1 s. wan: nodes in different sites or
 * regions (RTT to 300 ms, a few % loss, jitter): a heartbeat every 500 ms and downAfter of six of
 * them, so a run of lost or late heartbeats is not a failure (0 false failovers in the simulation
 * at 300 ms RTT with 100 ms of jitter and 5 % loss, test/membership/profiles.test.ts), failover in
 * about 3.5 s, and a longer hold-down because a flapping wide-area link flaps slower.
 */
export const PEER_PROFILES = {
  lan: { interval: 250, downAfter: 1000, upAfter: 3000 },
  wan: { interval: 500, downAfter: 3000, upAfter: 10_000 },
} as const;

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

const MAX_SIGNATURE_VALIDITY = 3660 * 86400;

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
    // RRSIG times are 32-bit serial numbers (RFC 4034 §3.1.5): a longer validity wraps the expiration
    // into the past. BIND's sig-validity-interval stops at 3660 days too.
    if (d.validity > MAX_SIGNATURE_VALIDITY)
      ctx.addIssue({ code: 'custom', path: ['validity'], message: `must be at most 3660d (${MAX_SIGNATURE_VALIDITY} s): RRSIG times are 32-bit and a longer validity wraps into the past — 14d is usual` });
    if (d.refresh !== undefined && (d.refresh <= 0 || d.refresh >= d.validity))
      ctx.addIssue({ code: 'custom', path: ['refresh'], message: 'must be shorter than validity (default: half of it)' });
  });

export const configSchema = z
  .object({
    zone: zoneName,
    ttl: ttl(86400).default(5),
    negativeTtl: ttl(86400).default(5),
    // A list during a rotation: the first signs, every one is accepted (README, "Rotating the secret").
    secret: z.union([secretString, z.array(secretString).min(1, { message: 'list at least one secret' })], { error: 'secret must be a string or a list of strings' }).optional(),
    secretFile: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1, { message: 'list at least one file' })], {
        error: 'secretFile must be a file name, or a list of file names during a rotation',
      })
      .optional(),
    dns: z
      .object({
        port: port.default(53),
        chaos: z.boolean().default(true),
        minority: z.enum(['refused', 'servfail'], { error: 'minority must be refused or servfail' }).default('refused'),
        tcpIdleTimeout: duration(100, 600_000).default(10_000),
        tcpMaxConnections: z.number().int().min(1).max(65536).default(256),
        tcpMaxConnectionsPerSource: z.number().int().min(1).max(65536).default(16),
        workers: z
          .union([z.literal('auto'), z.number().int().min(1, { message: 'must be auto or 1–64 answer threads' }).max(64, { message: 'must be auto or 1–64 answer threads' })], {
            error: 'workers must be auto or a number of answer threads from 1 to 64',
          })
          .default('auto'),
        rateLimit: z
          .object({
            responsesPerSecond: z.number().int().min(0, { message: 'must be ≥ 0 (0 turns rate limiting off)' }).max(1_000_000).default(100),
            slip: z.number().int().min(0).max(10, { message: 'must be 0–10 (0: drop every response over the limit)' }).default(2),
            ipv4PrefixLength: z.number().int().min(8).max(32, { message: 'must be 8–32' }).default(24),
            ipv6PrefixLength: z.number().int().min(16).max(128, { message: 'must be 16–128' }).default(56),
            exempt: z.array(z.string()).default([]),
          })
          .strict()
          .prefault({}),
        internalFrom: z
          .array(clientPrefix, { error: 'internalFrom must be a list of client prefixes such as [10.0.0.0/8, 192.168.0.0/16]' })
          .min(1, { message: 'list at least one prefix, or leave internalFrom out to answer internal names to every client' })
          .optional(),
      })
      .strict()
      .prefault({}),
    peer: z
      .object({
        port: port.default(7946),
        profile: z.enum(['lan', 'wan'], { error: 'peer.profile must be lan or wan' }).default('lan'),
        interval: duration(10, 60_000).optional(),
        downAfter: duration(20, 600_000).optional(),
        upAfter: duration(0, 3_600_000).optional(),
        maxUpAfter: duration(0, 3_600_000).default(60_000),
      })
      .strict()
      .transform(({ profile, interval, downAfter, upAfter, ...rest }) => {
        const p = PEER_PROFILES[profile];
        return { ...rest, profile, interval: interval ?? p.interval, downAfter: downAfter ?? p.downAfter, upAfter: upAfter ?? p.upAfter };
      })
      .prefault({}),
    http: z
      .object({
        port: port.default(8053),
        enabled: z.boolean().default(true),
        // Default: each node's peerAddress (the private network), else its listen addresses.
        listen: z.array(z.string().refine((s) => isIPv4(s) || isIPv6(s), { message: 'must be an IPv4 or IPv6 address' })).min(1, { message: 'list at least one address, or leave listen out' }).optional(),
      })
      .strict()
      .prefault({}),
    // Off unless asked for: turning it on opens a new port on every node's addresses (src/discovery/README.md).
    discovery: z
      .object({
        port: port.default(8001),
        enabled: z.boolean().default(false),
        password: z.string().min(1, { message: 'password must not be empty: leave it out for no password' }).optional(),
        // ACL users besides `default` (AUTH <user> <pass>, HELLO 3 AUTH <user> <pass>).
        users: z
          .array(
            z
              .object({
                name: z
                  .string()
                  .regex(/^[!-~]{1,128}$/, { message: 'a user name is 1 to 128 printable characters without spaces' })
                  .refine((n) => n !== 'default', { message: "the default user's password is discovery.password" }),
                password: z.string().min(1, { message: 'password must not be empty' }),
              })
              .strict(),
          )
          .max(64, { message: 'at most 64 users' })
          .refine((us) => new Set(us.map((u) => u.name)).size === us.length, { message: 'each user name once' })
          .optional(),
        // A TLS listener besides the plain one, as Redis's tls-port, tls-cert-file, tls-key-file,
        // tls-ca-cert-file and tls-auth-clients (whose default is yes).
        tls: z
          .object({
            port,
            certFile: z.string().min(1, { message: 'certFile: the PEM certificate (chain) file' }),
            keyFile: z.string().min(1, { message: 'keyFile: the PEM private key file' }),
            caFile: z.string().min(1).optional(),
            authClients: z.enum(['no', 'optional', 'yes'], { error: 'authClients must be no, optional or yes' }).default('yes'),
          })
          .strict()
          .refine((t) => t.authClients === 'no' || t.caFile !== undefined, {
            path: ['caFile'],
            message: 'authClients optional or yes checks client certificates against caFile: give caFile, or set authClients: no',
          })
          .optional(),
      })
      .strict()
      .prefault({}),
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
