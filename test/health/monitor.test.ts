import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterDnsError } from '../../src/errors';
import { HealthMonitor, type HealthChange, type HealthResult } from '../../src/health/monitor';
import type { ProbeResult } from '../../src/health/result';
import { cluster } from './cluster';
import { check, listen } from './helpers';
import { ManualClock } from './manual-clock';

const SELF = '127.0.6.4';

/** Resolves with the next `result` event, or rejects so a broken monitor fails fast, not at the suite timeout. */
function nextResult(m: HealthMonitor, ms = 2000): Promise<HealthResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      m.off('result', on);
      reject(new Error('no probe result'));
    }, ms);
    const on = (r: HealthResult) => {
      clearTimeout(timer);
      resolve(r);
    };
    m.once('result', on);
  });
}

async function results(m: HealthMonitor, n: number): Promise<HealthResult[]> {
  const out: HealthResult[] = [];
  for (let i = 0; i < n; i++) out.push(await nextResult(m));
  return out;
}

describe('HealthMonitor on a manual clock with real probes', () => {
  let dir: string;
  const monitors: HealthMonitor[] = [];
  const servers: Array<Server | HttpServer> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clusterdns-monitor-'));
  });
  afterEach(async () => {
    for (const m of monitors.splice(0)) m.stop();
    for (const s of servers.splice(0)) {
      if ('closeAllConnections' in s) s.closeAllConnections();
      if (s.listening) await new Promise((r) => s.close(r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (config: ReturnType<typeof cluster>, clock = new ManualClock()) => {
    const m = new HealthMonitor({ config, self: 'node1', clock });
    monitors.push(m);
    const changes: HealthChange[] = [];
    m.on('change', (c) => changes.push(c));
    return { m, clock, changes };
  };

  it('flips a service with rise/fall hysteresis and emits one change per flip', async () => {
    const flag = join(dir, 'up');
    const { m, clock, changes } = make(
      cluster({ services: [{ name: 'web', check: check({ type: 'exec', command: ['test', '-e', flag], intervalMs: 1000, rise: 2, fall: 2 }) }] }),
    );
    // The program only: check arguments may carry credentials (issue 9).
    const target = 'exec test';
    const step = async () => {
      const r = nextResult(m);
      clock.advance(1000);
      return (await r).ok;
    };

    const first = nextResult(m);
    m.start();
    expect((await first).ok).toBe(false);
    expect(m.current()).toEqual({ nodeHealthy: true, services: { web: false } });
    expect(changes).toEqual([{ kind: 'service', name: 'web', healthy: false, reason: `${target}: exit 1` }]);

    writeFileSync(flag, '');
    expect(await step()).toBe(true);
    expect(m.current().services.web).toBe(false); // one success is not rise 2
    expect(await step()).toBe(true);
    expect(m.current().services.web).toBe(true);
    expect(changes.at(-1)).toEqual({ kind: 'service', name: 'web', healthy: true, reason: `${target}: exit 0` });

    rmSync(flag);
    expect(await step()).toBe(false);
    expect(m.current().services.web).toBe(true); // one failure is not fall 2
    expect(await step()).toBe(false);
    expect(m.current().services.web).toBe(false);
    expect(changes.map((c) => c.healthy)).toEqual([false, true, false]);

    const detail = m.details().services.web.checks[0];
    expect(detail).toMatchObject({ type: 'exec', target, verdict: 'unhealthy', lastOk: false, reason: 'exit 1', successes: 0, failures: 2, rise: 2, fall: 2 });
    expect(detail.latencyMs).toBeGreaterThan(0);
    expect(detail.ageMs).toBe(0);
    clock.advance(250);
    expect(m.details().services.web.checks[0].ageMs).toBe(250);
  });

  it('checks the node at its own address and is healthy only while every node check passes', async () => {
    const server = createServer((s) => s.destroy());
    servers.push(server);
    const port = await listen(server, SELF);
    const { m, clock, changes } = make(
      cluster({
        checks: [check({ type: 'tcp', port, rise: 1, fall: 1 }), check({ type: 'exec', command: ['true'], rise: 1, fall: 1 })],
        services: [{ name: 'plain' }, { name: 'elsewhere', nodes: ['node2', 'node3'] }],
      }),
    );
    // Not checked yet is not failed: membership must not publish a cold-started node down.
    expect(m.current()).toEqual({ nodeHealthy: true, services: { plain: true } });
    expect(m.details().node.verdict).toBe('unknown');

    const both = results(m, 2);
    m.start();
    expect((await both).map((r) => [r.kind, r.name, r.ok])).toEqual(
      expect.arrayContaining([
        ['node', 'node1', true],
        ['node', 'node1', true],
      ]),
    );
    expect(m.current()).toEqual({ nodeHealthy: true, services: { plain: true } });
    expect(changes).toEqual([{ kind: 'node', name: 'node1', healthy: true, reason: `tcp ${SELF}:${port}: connected to ${SELF}:${port}; exec true: exit 0` }]);

    await new Promise((r) => server.close(r));
    const next = results(m, 2);
    clock.advance(1000);
    await next;
    expect(m.current().nodeHealthy).toBe(false);
    expect(changes.at(-1)).toEqual({ kind: 'node', name: 'node1', healthy: false, reason: `tcp ${SELF}:${port}: connect ECONNREFUSED ${SELF}:${port}` });
    expect(m.details().node).toMatchObject({ name: 'node1', healthy: false, verdict: 'unhealthy' });
  });

  it('probes a service check without a port on the service port, and honours an explicit host', async () => {
    const http = createHttpServer((_req, res) => res.writeHead(204).end());
    servers.push(http);
    const port = await listen(http, '127.0.6.7');
    const { m } = make(cluster({ services: [{ name: 'api', port, check: check({ type: 'http', host: '127.0.6.7', path: '/ready', rise: 1 }) }] }));
    const r = nextResult(m);
    m.start();
    expect(await r).toMatchObject({ kind: 'service', name: 'api', target: `http http://127.0.6.7:${port}/ready`, ok: true, reason: 'HTTP 204' });
    expect(m.current().services.api).toBe(true);
  });

  it('never shows a password in details', async () => {
    const { m } = make(cluster({ checks: [check({ type: 'redis', port: 1, password: 'hunter2-secret' })] }));
    const r = nextResult(m);
    m.start();
    await r;
    expect(JSON.stringify(m.details())).not.toContain('hunter2-secret');
    expect(m.details().node.checks[0].target).toBe(`redis ${SELF}:1`);
  });

  it('refuses a node name that is not in the config', () => {
    let error: unknown;
    try {
      new HealthMonitor({ config: cluster({}), self: 'node9' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClusterDnsError);
    expect((error as ClusterDnsError).code).toBe('NODE_UNKNOWN');
    expect((error as ClusterDnsError).format()).toContain('use one of node1, node2, node3');
  });
});

describe('HealthMonitor scheduling', () => {
  type Call = { at: number; signal: AbortSignal; settle: (r: ProbeResult) => void };

  function scripted() {
    const clock = new ManualClock();
    const calls: Call[] = [];
    const m = new HealthMonitor({
      config: cluster({ checks: [check({ type: 'tcp', port: 1, intervalMs: 1000, rise: 1, fall: 1 })] }),
      self: 'node1',
      clock,
      probe: (_check, _host, signal) => new Promise((settle) => calls.push({ at: clock.now(), signal: signal!, settle })),
    });
    const events: string[] = [];
    m.on('result', (r) => events.push(`result ${r.ok}`));
    m.on('change', (c) => events.push(`change ${c.healthy}`));
    return { clock, calls, m, events };
  }
  const flush = () => new Promise((r) => setImmediate(r));

  it('starts a probe every interval from the previous start, never two at once', async () => {
    const { clock, calls, m } = scripted();
    m.start();
    m.start(); // idempotent
    expect(calls.map((c) => c.at)).toEqual([0]);

    clock.advance(1500); // the first probe is still running past its interval
    expect(calls).toHaveLength(1);
    calls[0].settle({ ok: true, reason: 'ok', ms: 1500 });
    await flush();
    clock.advance(0); // overdue: runs at once
    expect(calls.map((c) => c.at)).toEqual([0, 1500]);

    clock.advance(100);
    calls[1].settle({ ok: true, reason: 'ok', ms: 100 });
    await flush();
    clock.advance(899);
    expect(calls).toHaveLength(2);
    clock.advance(1);
    expect(calls.map((c) => c.at)).toEqual([0, 1500, 2500]);
    m.stop();
  });

  it('stop() clears timers, aborts the probe in flight and ignores its late result', async () => {
    const { clock, calls, m, events } = scripted();
    m.start();
    calls[0].settle({ ok: true, reason: 'ok', ms: 1 });
    await flush();
    expect(clock.pending).toBe(1);
    clock.advance(1000);
    expect(calls).toHaveLength(2);

    m.stop();
    expect(calls[1].signal.aborted).toBe(true);
    expect(clock.pending).toBe(0);
    calls[1].settle({ ok: false, reason: 'late', ms: 1 });
    await flush();
    expect(events).toEqual(['result true', 'change true']);
    expect(m.current().nodeHealthy).toBe(true);
    clock.advance(10_000);
    expect(calls).toHaveLength(2);
    m.start(); // a stopped monitor stays stopped
    expect(calls).toHaveLength(2);
  });

  it.each([
    ['rejects', () => Promise.reject(new Error('boom'))],
    ['throws', () => {
      throw new Error('boom');
    }],
  ])('keeps running when a probe breaks its promise and %s', async (_how, probe: () => Promise<ProbeResult>) => {
    const clock = new ManualClock();
    const m = new HealthMonitor({
      config: cluster({ checks: [check({ type: 'tcp', port: 1, rise: 1, fall: 1 })] }),
      self: 'node1',
      clock,
      probe,
    });
    const r = nextResult(m);
    m.start();
    expect(await r).toMatchObject({ ok: false, reason: 'probe failed: Error: boom' });
    expect(clock.pending).toBe(1);
    m.stop();
  });
});
