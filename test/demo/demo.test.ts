import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cluster';
import { run } from '../helpers/proc';

/** `clusterdns demo` as a new user runs it, without a terminal. Block: 127.0.9.0/24. */

/** Agents still running from a demo config (the demo writes it under a clusterdns-demo-* dir). */
function demoAgents(): string[] {
  try {
    return execFileSync('pgrep', ['-f', 'agent --config .*clusterdns-demo-']).toString().trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('clusterdns demo', () => {
  it('tells the failover story in plain lines, measures it, stops everything, exits 0', async () => {
    const { code, stdout, stderr } = await run(process.execPath, [CLI, 'demo', '--base', '127.0.9.11', '--port', '5309'], { timeoutMs: 60_000 });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/\x1b\[/); // no terminal escapes in a pipe
    expect(stdout).toMatch(/node2\.cluster\.test +127\.0\.9\.12 +127\.0\.9\.12 +127\.0\.9\.12/);
    const failover = /failover in (\d+\.\d+) s after the kill/.exec(stdout);
    expect(failover).not.toBeNull();
    expect(Number(failover![1])).toBeLessThan(5);
    expect(stdout).toMatch(/node2\.cluster\.test +127\.0\.9\.1[13] \(→ node[13]\) +no answer \(down\) +127\.0\.9\.1[13] \(→ node[13]\)/);
    expect(stdout).toMatch(/answers 127\.0\.9\.12 again everywhere/);
    // Node states come from the cluster's own verdicts, with the reason.
    expect(stdout).toMatch(/nodes \(as node[13] sees them\): .*node2 127\.0\.9\.12: DOWN \(not heard by node1, node3 for 1\.\d s\), agent killed/);
    // SIGTERM lets them drain; give them a moment, bounded.
    const end = Date.now() + 3000;
    while (demoAgents().length && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(demoAgents()).toEqual([]);
  });

  it('rejects a bad --base with a clear error', async () => {
    const { code, stderr } = await run(process.execPath, [CLI, 'demo', '--base', 'localhost']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--base localhost: give an IPv4 address/);
  });
});
