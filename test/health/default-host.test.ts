import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/config/types';
import { HealthMonitor } from '../../src/health/monitor';
import type { Probe } from '../../src/health/result';
import { cluster } from './cluster';
import { check, listen } from './helpers';
import { ManualClock } from './manual-clock';

/**
 * Where checks go by default, and what a monitor hands over on a reload. Real TCP on 127.0.53.0/24.
 */

const monitors: HealthMonitor[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) m.stop();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** node1 as on a cloud: its public address is NAT'd (not on this machine), it listens on a private one. */
function behindNat(base: ClusterConfig, listenOn: string): ClusterConfig {
  return { ...base, nodes: base.nodes.map((n) => (n.name === 'node1' ? { ...n, address: '203.0.113.11', listen: [listenOn] } : n)) };
}

function firstResult(m: HealthMonitor) {
  return new Promise<{ ok: boolean; target: string; reason: string }>((resolve) => m.once('result', resolve));
}

describe('a node check with no host', () => {
  it("probes the address the node listens on, not its public (NAT'd) address", async () => {
    const server = createServer((c) => c.destroy());
    servers.push(server);
    const port = await listen(server, '127.0.53.1');
    const config = behindNat(cluster({ checks: [check({ type: 'tcp', port, timeoutMs: 300 })] }), '127.0.53.1');
    const m = new HealthMonitor({ config, self: 'node1' });
    monitors.push(m);
    const result = firstResult(m);
    m.start();
    expect(await result).toMatchObject({ ok: true, target: `tcp 127.0.53.1:${port}` });
  });

  it('an IPv6-only node probes its IPv6 listen address', async () => {
    const server = createServer((c) => c.destroy());
    servers.push(server);
    const port = await listen(server, '::1');
    const base = cluster({ checks: [check({ type: 'tcp', port, timeoutMs: 300 })] });
    const config = { ...base, nodes: base.nodes.map((n) => (n.name === 'node1' ? { name: 'node1', address6: '::1', peerAddress: '127.0.6.4', listen: ['::1'], apiListen: ['::1'], role: 'node' as const } : n)) };
    const m = new HealthMonitor({ config, self: 'node1' });
    monitors.push(m);
    const result = firstResult(m);
    m.start();
    expect(await result).toMatchObject({ ok: true, target: `tcp [::1]:${port}` });
  });

  it('an explicit host still wins', async () => {
    const config = behindNat(cluster({ checks: [check({ type: 'tcp', port: 1, host: '127.0.53.9' })] }), '127.0.53.1');
    const m = new HealthMonitor({ config, self: 'node1', probe: () => Promise.resolve({ ok: true, reason: 'stub', ms: 0 }) });
    monitors.push(m);
    expect(m.details().node.checks[0].target).toBe('tcp 127.0.53.9:1');
  });
});

describe('a reload hands results over', () => {
  const outcome = (ok: boolean): Probe => () => Promise.resolve({ ok, reason: ok ? 'fine' : 'broken', ms: 1 });

  async function settle(m: HealthMonitor, clock: ManualClock, probes: number) {
    for (let i = 0; i < probes; i++) {
      const r = new Promise((resolve) => m.once('result', resolve));
      if (i === 0) m.start();
      else clock.advance(1000);
      await r;
    }
  }

  it('an unchanged check keeps its verdict; a changed or new one starts unknown (counted healthy until it fails)', async () => {
    const clock = new ManualClock();
    const web = check({ type: 'tcp', port: 80, rise: 2, fall: 2 });
    const old = new HealthMonitor({ config: cluster({ services: [{ name: 'web', check: web }, { name: 'db', check: check({ type: 'tcp', port: 5432 }) }] }), self: 'node1', clock, probe: outcome(false) });
    monitors.push(old);
    await settle(old, clock, 1);
    expect(old.current().services).toEqual({ web: false, db: false });

    const next = new HealthMonitor({
      config: cluster({ services: [{ name: 'web', check: web }, { name: 'db', check: check({ type: 'tcp', port: 5433 }) }, { name: 'new', check: check({ type: 'tcp', port: 1 }) }] }),
      self: 'node1',
      clock,
      probe: outcome(false),
      previous: old,
    });
    monitors.push(next);
    old.stop();
    expect(next.current().services).toEqual({ web: false, db: true, new: true });
    expect(next.details().services.web.checks[0]).toMatchObject({ verdict: 'unhealthy', lastOk: false, failures: 1 });
    expect(next.details().services.db.checks[0]).toMatchObject({ verdict: 'unknown', lastOk: null });
  });

  it('firstResults resolves once every check has run once, and at once without checks', async () => {
    const clock = new ManualClock();
    await new HealthMonitor({ config: cluster({}), self: 'node1', clock }).firstResults();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: Probe = async () => {
      await gate;
      return { ok: false, reason: 'slow', ms: 1 };
    };
    const m = new HealthMonitor({ config: cluster({ checks: [check({ type: 'tcp', port: 1 }), check({ type: 'tcp', port: 2 })] }), self: 'node1', clock, probe: slow });
    monitors.push(m);
    let done = false;
    const first = m.firstResults().then(() => (done = true));
    m.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    expect(m.current().nodeHealthy).toBe(true);
    release();
    await first;
    expect(m.current().nodeHealthy).toBe(false);
  });
});
