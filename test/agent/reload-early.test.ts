import { afterEach, describe, expect, it } from 'vitest';
import { CLI, TestCluster } from '../helpers/cluster';
import { fullConfigYaml, makeKey } from '../helpers/full-config';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * A SIGHUP while the agent is still starting (`systemctl reload` just after `start`): SIGHUP's
 * default action ends a process, so until the agent handles it, a reload stops the service (exit
 * 129). The agent's first log line comes from inside its start (the DNSSEC key summary, before any
 * socket is bound), which then waits up to a second for its checks' first results: a node check
 * that takes 1.5 s holds it there. The SIGHUP goes at once after that line, with a new TTL
 * written. Real agent, dig. Block: 127.0.161.0/24.
 */

const A = '127.0.161.1';
const PORT = 6161;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

/** A check that passes after 1.5 s: the start waits (up to 1 s) for the first results. */
const SLOW_CHECK = 'checks:\n  - { type: exec, command: [sleep, "1.5"], interval: 5s, timeout: 3s }';
const yaml = (key: string, ttl: number) =>
  fullConfigYaml({ address: A, privateAddress: '127.0.161.11', dnsPort: PORT, peerPort: PORT + 1, httpPort: PORT + 2, discoveryPort: PORT + 3, keys: [key], extra: SLOW_CHECK }).replace(
    'ttl: 30',
    `ttl: ${ttl}`,
  );

async function ttlOf(dig: string, name: string): Promise<number | undefined> {
  const r = await run(dig, [`@${A}`, '-p', String(PORT), name, 'A', '+noall', '+answer', '+time=1', '+tries=1'], { timeoutMs: 3000 });
  const f = r.stdout.trim().split(/\s+/);
  return f.length >= 5 ? Number(f[1]) : undefined;
}

describe('SIGHUP while the agent starts', () => {
  it('the agent survives, finishes starting, and then applies the new config', { timeout: 30_000 }, async () => {
    const dig = requireTool('dig');
    const c = new TestCluster('');
    cluster = c;
    const key = await makeKey(c.dir);
    c.write(yaml(key, 30));
    const agent = c.procs.start(process.execPath, [CLI, 'agent', '--config', c.configPath, '--node', 'solo'], { env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } });
    c.agents.set('solo', agent);
    // Logged at the start of Agent.start(), before any socket: the config has been read.
    await agent.waitForOutput(/"event":"dnssec"/, 10_000);
    expect(agent.stdout).not.toMatch(/"event":"listening"/);
    c.write(yaml(key, 45));
    agent.kill('SIGHUP');

    const died = agent.exited.then((e) => {
      throw new Error(`the agent ended on the SIGHUP (${e.signal ?? `exit ${e.code}`}):\n${agent.stdout}\n${agent.stderr}`);
    });
    await Promise.race([agent.waitForOutput(/"event":"listening"/, 10_000).then(() => agent.waitForOutput(/"event":"reload"/, 10_000)), died]);
    expect(agent.child.exitCode, agent.stderr).toBeNull();
    expect(agent.child.signalCode).toBeNull();
    const lines = agent.stdout.split('\n');
    const at = (event: string) => lines.findIndex((l) => l.includes(`"event":"${event}"`));
    // Reloaded once the agent had started, not in the middle of it.
    expect(at('reload')).toBeGreaterThan(at('listening'));
    expect(agent.stdout, agent.stdout).toMatch(/SIGHUP arrived while the agent was starting: reloading now/);

    const end = Date.now() + 10_000;
    let ttl: number | undefined;
    while (Date.now() < end && (ttl = await ttlOf(dig, 'solo.cluster.test')) !== 45) await new Promise((r) => setTimeout(r, 100));
    expect(ttl).toBe(45);

    // And a SIGHUP after the start reloads as before.
    c.write(yaml(key, 50));
    agent.kill('SIGHUP');
    await agent.waitForOutput(/"event":"reload"[^\n]*\n[^]*"event":"reload"/, 5000);
    expect(await ttlOf(dig, 'solo.cluster.test')).toBe(50);
  });
});
