import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { CLI, SECRET } from '../helpers/cluster';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * Heartbeats over IPv6 between real agents (issue 16 §2): three agents whose `peerAddress` is IPv6
 * (2001:db8:150::1–3) form a cluster, and when one is killed the other two fail it over, which they
 * can only learn from heartbeats. test/agent/ipv6-only.test.ts has a node answering on IPv6 but its
 * heartbeats go over IPv4. Several IPv6 loopback addresses need a network namespace: the agents run
 * in one of their own (`unshare --user --map-root-user --net`, no root needed where unprivileged
 * user namespaces are allowed, as on Debian; CI runs as root). The namespace holds 127.0.150.1–3 and
 * ports 5160–5162 (block 127.0.150.0/24, no other test sees them).
 */

const PORT = 5160;
const CHILD = resolve(__dirname, '../helpers/ipv6-peers.child.mjs');

describe('heartbeats over IPv6', () => {
  it('three agents with IPv6 peerAddress form a cluster and fail a killed node over', async () => {
    const unshare = requireTool('unshare');
    requireTool('ip');
    requireTool('ss');
    const r = await run(unshare, ['--user', '--map-root-user', '--net', '--', process.execPath, CHILD, CLI, SECRET, String(PORT)], { timeoutMs: 40_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    expect(line, r.stderr).toMatch(/^\{/);
    const out = JSON.parse(line);
    expect(out.error, out.error).toBeUndefined();
    expect(out.formed).toBe(true);
    // Every agent's peer socket is on its IPv6 peer address; none on IPv4.
    expect(out.peerSockets).toEqual(['[2001:db8:150::1]:5161', '[2001:db8:150::2]:5161', '[2001:db8:150::3]:5161']);
    // node2's name on node1 and node3: a live node's address, the same on both.
    expect(['127.0.150.1', '127.0.150.3']).toContain(out.failover.node1);
    expect(out.failover.node3).toBe(out.failover.node1);
    expect(out.failoverMs).toBeLessThan(3000);
  }, 60_000);
});
