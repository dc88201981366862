import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load';
import { ClusterDnsError } from '../../src/errors';
import { CLI, SECRET } from '../helpers/cluster';
import { run } from '../helpers/proc';

const BASE = `zone: cluster.test
secret: "${SECRET}"
nodes:
  - { name: node1, address: 127.0.0.21 }
  - { name: node2, address: 127.0.0.22 }
`;

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, { env });
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterDnsError);
    return [(e as ClusterDnsError).message, ...(e as ClusterDnsError).details];
  }
  return [];
}

describe('valid configs normalise', () => {
  it('fills defaults, lowercases names, derives the hash', () => {
    const c = parseConfig(BASE.replace('zone: cluster.test', 'zone: Cluster.TEST.').replace('node2,', 'NODE2,'));
    expect(c.zone).toBe('cluster.test');
    // Answer TTL 5 s: README "What your clients see" says why.
    expect({ ttl: c.ttl, negativeTtl: c.negativeTtl }).toEqual({ ttl: 5, negativeTtl: 5 });
    expect(c.nodes.map((n) => n.name)).toEqual(['node1', 'node2']);
    expect(c.dns).toMatchObject({ port: 53, chaos: true, minority: 'refused' });
    expect(c.peer).toMatchObject({ port: 7946, intervalMs: 250, downAfterMs: 1000, upAfterMs: 3000 });
    expect(c.nodes[0]).toMatchObject({ peerAddress: '127.0.0.21', listen: ['127.0.0.21'], role: 'node' });
    expect(c.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(parseConfig(BASE).hash).toBe(parseConfig(BASE).hash);
    expect(parseConfig(BASE.replace('127.0.0.22', '127.0.0.23')).hash).not.toBe(parseConfig(BASE).hash);
  });

  it('takes durations as 250ms, 1.5s or milliseconds, and ${ENV} values', () => {
    const c = parseConfig(BASE.replace(`secret: "${SECRET}"`, 'secret: ${S}\npeer: { interval: 100, downAfter: 1.5s, upAfter: 2m }'), { env: { S: SECRET } });
    expect(c.peer).toMatchObject({ intervalMs: 100, downAfterMs: 1500, upAfterMs: 120_000 });
    expect(c.secret).toBe(SECRET);
  });

  it('service checks probe the service port unless told otherwise', () => {
    const c = parseConfig(`${BASE}services:\n  - { name: redis-12000, port: 12000, check: { type: redis } }\n  - { name: web, port: 443, check: { type: http, port: 8080 } }\n`);
    expect(c.services[0].check!.port).toBe(12000);
    expect(c.services[1].check!.port).toBe(8080);
    expect(c.services[0].nodes).toEqual(['node1', 'node2']);
  });
});

describe('every bad value names the field and the fix', () => {
  it.each([
    ['an unknown key', BASE + 'dns: { prot: 53 }\n', /dns: unknown key "prot"/],
    ['a bad address', BASE.replace('127.0.0.22', '127.0.0.300'), /nodes\[1\]\.address: must be an IPv4 address/],
    ['a duplicate node name', BASE.replace('node2', 'node1'), /nodes\[1\]\.name: "node1" is also nodes\[0\]\.name/],
    ['a duplicate address', BASE.replace('127.0.0.22', '127.0.0.21'), /address 127\.0\.0\.21 is also used by node1/],
    ['a short secret', BASE.replace(SECRET, 'short'), /secret: needs at least 32 characters — generate one with: openssl rand/],
    ['no secret', BASE.replace(`secret: "${SECRET}"\n`, ''), /secret: is required/],
    ['a missing env var', BASE.replace(`"${SECRET}"`, '${NOPE}'), /secret: environment variable NOPE is not set/],
    ['a bad duration', BASE + 'peer: { interval: fast }\n', /peer\.interval: "fast" is not a duration/],
    ['downAfter under two intervals', BASE + 'peer: { interval: 1s, downAfter: 1s }\n', /peer\.downAfter: must be at least two intervals/],
    ['a port out of range', BASE + 'dns: { port: 70000 }\n', /dns\.port: must be a port number/],
    ['a bad node name', BASE.replace('node2', 'node_2'), /nodes\[1\]\.name: name must be one DNS label/],
    ['a bad zone', BASE.replace('cluster.test', 'bad..zone'), /zone: zone must be a domain name/],
    ['a service on an unknown node', BASE + 'services:\n  - { name: r, port: 1, nodes: [node9] }\n', /services\[0\]\.nodes\[0\]: no node is named "node9"/],
    ['a service named like a node', BASE + 'services:\n  - { name: node1, port: 1 }\n', /services\[0\]\.name: "node1" is already a node/],
    ['a node named like another name server', BASE.replace('node2', 'ns1'), /clashes with the name server name ns1\.cluster\.test/],
    ['only witnesses', BASE.replace(/address: (\S+) \}/g, 'address: $1, role: witness }'), /every node is a witness/],
    ['an exec check without a command', BASE + 'checks:\n  - { type: exec }\n', /checks\[0\]\.command: an exec check needs command/],
    ['a tcp node check without a port', BASE + 'checks:\n  - { type: tcp }\n', /checks\[0\]\.port: a tcp node check needs port/],
    ['not YAML at all', 'zone: [unclosed\n', /is not valid YAML/],
    ['duplicate YAML keys', BASE + 'zone: other.test\n', /is not valid YAML/],
  ])('%s', (_, yaml, message) => {
    const p = problems(yaml);
    expect(p.join('\n')).toMatch(message);
  });
});

/** `count` nodes with the longest names a label allows (63 characters), on 127.0.x.y. */
function cluster(count: number, services = 0): string {
  const name = (i: number) => `n${i}-`.padEnd(63, 'x');
  const nodes = Array.from({ length: count }, (_, i) => `  - { name: ${name(i)}, address: 127.0.${1 + (i >> 8)}.${i & 255} }`);
  const svc = Array.from({ length: services }, (_, i) => `  - { name: ${`s${i}-`.padEnd(62, 'y')}, port: ${1000 + i} }`);
  return `zone: cluster.test\nsecret: "${SECRET}"\nnodes:\n${nodes.join('\n')}\n${services ? `services:\n${svc.join('\n')}\n` : ''}`;
}

describe('the cluster is bounded to what one unfragmented heartbeat carries', () => {
  it.each([
    ['150 nodes with 63-character names and 13 services', 150, 13],
    ['129 nodes and 43 services', 129, 43],
    ['64 nodes and 134 services', 64, 134],
    ['3 nodes and 200 services', 3, 200],
  ])('accepts %s', (_, nodes, services) => {
    expect(problems(cluster(nodes, services))).toEqual([]);
  });

  it.each([
    ['151 nodes', cluster(151), /nodes: 151 nodes, at most 150 — every heartbeat carries one entry per node and per service and must fit one unfragmented UDP datagram \(1200 bytes\)/],
    ['300 nodes (the old encoder threw inside the heartbeat timer)', cluster(300), /nodes: 300 nodes, at most 150/],
    ['150 nodes and 14 services', cluster(150, 14), /services: 14 services with 150 nodes make 1202-byte heartbeats; at most 13 services with 150 nodes/],
    ['129 nodes and 44 services', cluster(129, 44), /services: 44 services with 129 nodes make 1205-byte heartbeats; at most 43 services with 129 nodes/],
    ['two node names with one wire id', BASE.replace('node1', 'node129599').replace('node2', 'node732382'), /nodes: "node732382" and "node129599" have the same wire id \(4035381314\) — rename one of them/],
  ])('refuses %s, naming the limit and why', (_, yaml, message) => {
    expect(problems(yaml).join('\n')).toMatch(message);
  });
});

describe('clusterdns config check', () => {
  it('exits 2 with every problem listed and no stack trace', async () => {
    const { code, stderr } = await run(process.execPath, [CLI, 'config', 'check', '--config', join(__dirname, '../fixtures/config/bad.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/has 3 problems/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('an agent of a 300-node cluster exits 2 naming the limit, before any heartbeat (it used to die in the timer)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterdns-config-'));
    try {
      writeFileSync(join(dir, 'big.yaml'), cluster(300));
      const { code, stderr } = await run(process.execPath, [CLI, 'agent', '--config', join(dir, 'big.yaml'), '--node', 'n1-'.padEnd(63, 'x')], { timeoutMs: 10_000 });
      expect(code).toBe(2);
      expect(stderr).toMatch(/nodes: 300 nodes, at most 150 — every heartbeat carries one entry per node/);
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 for a missing file, naming it', async () => {
    const { code, stderr } = await run(process.execPath, [CLI, 'config', 'check', '--config', '/nonexistent/cluster.yaml']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot read config \/nonexistent\/cluster\.yaml: ENOENT/);
  });

  it('refuses a FIFO as the config or the secretFile at once, naming it (a read would wait for a writer for good)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterdns-fifo-'));
    try {
      execFileSync('mkfifo', [join(dir, 'cluster.yaml'), join(dir, 'secret')]);
      expect(() => loadConfig(join(dir, 'cluster.yaml'))).toThrow(/cannot read config .*cluster\.yaml: not a regular file/);
      writeFileSync(join(dir, 'real.yaml'), 'zone: cluster.test\nsecretFile: secret\nnodes:\n  - { name: node1, address: 127.0.0.1 }\n');
      const problems = (() => {
        try {
          loadConfig(join(dir, 'real.yaml'));
        } catch (e) {
          return (e as ClusterDnsError).details?.join('\n');
        }
      })();
      expect(problems).toMatch(/secretFile: cannot read secret \(not a regular file\)/);
      expect(() => loadConfig(dir)).toThrow(/not a regular file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the README config and the commented example in deploy/', async () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const yaml = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1].replace('"…32+ characters…"', `"${SECRET}"`);
    expect(() => parseConfig(yaml)).not.toThrow();
    const example = await run(process.execPath, [CLI, 'config', 'check', '--config', join(__dirname, '../../deploy/cluster.example.yaml')], {
      env: { ...process.env, CLUSTERDNS_SECRET: SECRET },
    });
    expect(example.stderr).toBe('');
    expect(example.code).toBe(0);
    expect(example.stdout).toMatch(/ok — zone cluster\.example\.com, 3 nodes/);
  });
});

describe('service names fit their SRV owner', () => {
  it('refuses a 63-character service name, naming the field and the reason; takes 62', () => {
    const svc = (len: number) => `${BASE}services:\n  - { name: ${'s'.padEnd(len, 'v')}, port: 6379 }\n`;
    expect(problems(svc(62))).toEqual([]);
    const found = problems(svc(63)).join('\n');
    expect(found).toContain('services[0].name');
    expect(found).toContain('at most 62 characters');
  });
});
