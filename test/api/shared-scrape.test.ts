import { afterEach, describe, expect, it } from 'vitest';
import type { MetricsSource } from '../../src/api/metrics';
import { type HttpApi, startHttpApi } from '../../src/api/server';
import { createLogger } from '../../src/agent/log';
import { QueryStats } from '../../src/server/stats';
import { config, source, view } from './fixtures';

/**
 * The HTTP API in this process over a fixed source, on 127.0.219.1 (block 127.0.219.0/24): scrapes
 * that come together share one refresh and one rendering (with one answer thread each rendering
 * held DNS answers: 48 scrapers back to back held them 100–300 ms, bench:discovery-attacks).
 */

const HOST = '127.0.219.1';
const PORT = 5219;
const cfg = config();

let api: HttpApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('scrapes that come together', () => {
  it('48 concurrent /metrics requests: every one answered in full, from far fewer refreshes and renderings than requests', async () => {
    const stats = new QueryStats();
    let renders = 0;
    let refreshes = 0;
    const entries = stats.entries.bind(stats);
    // Read once per rendering (clusterdns_dns_queries_total's collect).
    stats.entries = () => {
      renders++;
      return entries();
    };
    const src = {
      ...source(cfg, view(cfg, 1000)),
      node: { ...cfg.nodes[0], apiListen: [HOST] },
      currentConfig: { ...cfg, http: { port: PORT, enabled: true } },
      stats,
      counters: () => undefined,
      // A round trip to the detector and answer threads, as the agent's refresh is.
      refresh: () => {
        refreshes++;
        return new Promise<void>((r) => setTimeout(r, 20));
      },
    } as unknown as Parameters<typeof startHttpApi>[0] & MetricsSource;
    api = await startHttpApi(src, createLogger({ level: 'silent', pretty: false }));
    const bodies = await Promise.all(
      Array.from({ length: 48 }, async () => {
        const r = await fetch(`http://${HOST}:${PORT}/metrics`);
        expect(r.status).toBe(200);
        return r.text();
      }),
    );
    for (const b of bodies) expect(b).toMatch(/^clusterdns_info\{node="node1",.*\} 1$/m);
    console.log(`48 concurrent scrapes: ${refreshes} refreshes, ${renders} renderings`);
    // Each request used to make its own of both: 48 and 48.
    expect(refreshes).toBeLessThanOrEqual(24);
    expect(renders).toBeLessThanOrEqual(24);
    // One after the others: its own refresh and rendering, nothing stale kept.
    const before = renders;
    expect((await fetch(`http://${HOST}:${PORT}/metrics`)).status).toBe(200);
    expect(renders).toBe(before + 1);
  });
});
