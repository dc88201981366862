import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load';
import { configWarnings } from '../../src/config/warnings';
import { ClusterDnsError } from '../../src/errors';
import { compile } from '../../src/zone/compile';
import { allUpInputs } from '../../src/zone/inputs';
import { buildZone } from '../../src/zone/zone';
import { CLI, SECRET } from '../helpers/cluster';
import { Processes, run } from '../helpers/proc';

/**
 * Configs the agent cannot serve (or should not be deployed) are caught by `config check` and by the
 * agent's own load, with the field named. The agent runs here bind 127.0.54.0/24.
 */

// 240 characters, the longest zone the schema takes.
const LONG_ZONE = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(43)}.test`;
const nodes3 = `nodes:
  - { name: node1, address: 127.0.54.1 }
  - { name: node2, address: 127.0.54.2 }
  - { name: node3, address: 127.0.54.3 }
`;
const yaml = (zone: string, body: string) => `zone: ${zone}\nsecret: "${SECRET}"\ndns: { port: 5380 }\npeer: { port: 5381 }\nhttp: { port: 5382 }\n${body}`;

const dir = mkdtempSync(join(tmpdir(), 'clusterdns-servable-'));
const procs = new Processes();
afterAll(async () => {
  await procs.stopAll();
  rmSync(dir, { recursive: true, force: true });
});
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problems(text: string): string[] {
  try {
    parseConfig(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ClusterDnsError);
    return [(e as ClusterDnsError).message, ...(e as ClusterDnsError).details];
  }
  return [];
}

describe('config check compiles the zone as the agent does', () => {
  it.each([
    ['a long zone and a long service name', yaml(LONG_ZONE, `${nodes3}services:\n  - { name: redis-12000, port: 12000 }\n`), /services\[0\]\.name: the zone would hold _redis-12000\._tcp\.a+.* 260 bytes in DNS wire form, over the limit of 255 — shorten the service name or the zone/],
    ['a long zone and a long node name', yaml(LONG_ZONE, nodes3.replace('node2', 'node-with-a-long-name')), /nodes\[1\]\.name: the zone would hold node-with-a-long-name\.a+.* 264 bytes .* shorten the node name or the zone/],
  ])('%s: a clear error naming the field', (_, text, message) => {
    expect(problems(text).join('\n')).toMatch(message);
  });

  it('a witness name is not in the zone, so it may be long', () => {
    const text = yaml(LONG_ZONE, `${nodes3}  - { name: witness-with-a-long-name, address: 127.0.54.4, role: witness }\n`);
    expect(problems(text)).toEqual([]);
  });

  it('whatever the checks pass, the agent can compile: names up to the limit compile', () => {
    // 246 characters: node1.<240>; every owner and answer at the longest the config allows.
    const c = parseConfig(yaml(LONG_ZONE, `${nodes3}services:\n  - { name: r, port: 1, policy: first-healthy, whenAllDown: all }\n`));
    expect(() => compile(buildZone(c, allUpInputs(c, 1)), { identity: 'node1', unavailable: 'refused' })).not.toThrow();
  });

  it('via the CLI and the agent: exit 2, the field named, no stack trace', async () => {
    const path = file('long.yaml', yaml(LONG_ZONE, `${nodes3}services:\n  - { name: redis-12000, port: 12000 }\n`));
    const check = await run(process.execPath, [CLI, 'config', 'check', '--config', path]);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/services\[0\]\.name: the zone would hold _redis-12000\._tcp\./);
    expect(check.stderr).not.toMatch(/\n\s+at |RangeError/);

    const agent = procs.start(process.execPath, [CLI, 'agent', '--config', path, '--node', 'node1'], { env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } });
    const exit = await Promise.race([agent.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 10_000))]);
    expect(exit).toEqual({ code: 2, signal: null });
    expect(agent.stderr).toMatch(/services\[0\]\.name: the zone would hold _redis-12000\._tcp\./);
    expect(agent.stderr + agent.stdout).not.toMatch(/\n\s+at |RangeError/);
  });
});

describe('node and service names never collide with the generated nsK names', () => {
  it.each([
    ['ns2 in position 2 (would give ns2 A twice)', nodes3.replace('node2', 'ns2'), /nodes\[1\]\.name: "ns2" clashes with the name server name ns2\.cluster\.test .* rename the node/],
    ['ns1 in position 2', nodes3.replace('node2', 'ns1'), /nodes\[1\]\.name: "ns1" clashes with the name server name ns1\.cluster\.test/],
    ['ns7 in a three-node cluster (it would collide once nodes are added)', nodes3.replace('node3', 'ns7'), /nodes\[2\]\.name: "ns7" clashes/],
    ['a service named ns3', `${nodes3}services:\n  - { name: ns3, port: 1 }\n`, /services\[0\]\.name: "ns3" clashes with the name server name ns3\.cluster\.test .* pick another name/],
  ])('%s', (_, body, message) => {
    expect(problems(yaml('cluster.test', body)).join('\n')).toMatch(message);
  });

  it('names that only look alike are fine', () => {
    expect(problems(yaml('cluster.test', nodes3.replace('node1', 'ns').replace('node2', 'ns0').replace('node3', 'nsa')))).toEqual([]);
  });
});

describe('a two-node cluster without a witness', () => {
  const two = yaml('cluster.test', 'nodes:\n  - { name: node1, address: 127.0.54.1 }\n  - { name: node2, address: 127.0.54.2 }\n');

  it.each([
    ['two nodes', 1, two],
    ['two nodes and a witness', 0, `${two}  - { name: tie, address: 127.0.54.3, role: witness }\n`],
    ['three nodes', 0, yaml('cluster.test', nodes3)],
    ['one node', 0, yaml('cluster.test', 'nodes:\n  - { name: node1, address: 127.0.54.1 }\n')],
  ])('%s: %d warning(s)', (_, n, text) => {
    expect(configWarnings(parseConfig(text))).toHaveLength(n);
  });

  it('config check exits 0 with a warning line that says to add a witness', async () => {
    const r = await run(process.execPath, [CLI, 'config', 'check', '--config', file('two.yaml', two)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok — zone cluster\.test, 2 nodes/);
    expect(r.stderr).toMatch(/^clusterdns: warning: nodes: a cluster of two voting nodes has no majority once either fails, .*REFUSED.* add a third node or a witness/m);
  });

  it('the agent warns in its log at start', async () => {
    const a = procs.start(process.execPath, [CLI, 'agent', '--config', file('two-agent.yaml', two), '--node', 'node1'], {
      env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' },
    });
    try {
      await a.waitForOutput(/"event":"listening"/);
      expect(a.stdout).toMatch(/"level":40,[^\n]*"event":"config-warning"[^\n]*add a third node or a witness/);
    } finally {
      a.kill();
    }
  });
});

describe('IPv6-only nodes and listen addresses', () => {
  it('a node with only address6 is valid: peers, listen and checks default to it', () => {
    const c = parseConfig(yaml('cluster.test', 'nodes:\n  - { name: node1, address6: "2001:db8::1" }\n  - { name: node2, address6: "2001:db8::2" }\n  - { name: node3, address6: "2001:db8::3" }\n'));
    expect(c.nodes[0]).toEqual({ name: 'node1', address6: '2001:db8::1', peerAddress: '2001:db8::1', listen: ['2001:db8::1'], apiListen: ['2001:db8::1'], role: 'node' });
  });

  it.each([
    ['no address at all', nodes3.replace('address: 127.0.54.2', 'rack: a'), /nodes\[1\]\.address: is required: give address \(IPv4\), address6 \(IPv6\) or both/],
    ['listen 0.0.0.0', nodes3.replace('address: 127.0.54.2 }', 'address: 127.0.54.2, listen: [0.0.0.0] }'), /nodes\[1\]\.listen\[0\]: a wildcard address answers UDP from whichever address the kernel picks, not the one queried/],
    ['listen ::', nodes3.replace('address: 127.0.54.2 }', 'address: 127.0.54.2, listen: ["::"] }'), /nodes\[1\]\.listen\[0\]: a wildcard address/],
    ['listen ::0', nodes3.replace('address: 127.0.54.2 }', 'address: 127.0.54.2, listen: ["127.0.54.2", "0:0::0"] }'), /nodes\[1\]\.listen\[1\]: a wildcard address/],
    ['an IPv6 peer among IPv4 peers', nodes3.replace('{ name: node3, address: 127.0.54.3 }', '{ name: node3, address6: "::1" }'), /nodes\[2\]\.peerAddress: node3 would exchange heartbeats over IPv6 but node1 over IPv4 — .* give node3 a peerAddress of IPv4/],
  ])('%s: refused with the reason', (_, body, message) => {
    expect(problems(yaml('cluster.test', body)).join('\n')).toMatch(message);
  });
});
