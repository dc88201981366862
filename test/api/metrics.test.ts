import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics, type MetricsSource } from '../../src/api/metrics';
import type { Counters } from '../../src/membership/state';
import { QueryStats } from '../../src/server/stats';
import { Type } from '../../src/wire/constants';
import { config, source, view } from './fixtures';
import { parseExposition } from './helpers';

/** The metrics registry over a real QueryStats and a fixed view: what a scrape reads. No sockets. */

const cfg = config();

function metricsSource(over: Partial<MetricsSource> = {}): MetricsSource & { stats: QueryStats } {
  const counters: Counters = { sent: 10, received: 8, rejected: { short: 1, version: 0, type: 0, hmac: 2, 'unknown-sender': 0, replay: 0, unproven: 3, malformed: 0 }, unsent: 4 };
  return { ...source(cfg, view(cfg, 1000)), stats: new QueryStats(), counters: () => counters, ...over } as unknown as MetricsSource & { stats: QueryStats };
}
const scrape = async (src: MetricsSource) => parseExposition(await createMetrics(src, { node: 'node1', version: '1.0.0' }).metrics());

describe('createMetrics', () => {
  it('hands the sampled latency buckets to Prometheus as a cumulative histogram', async () => {
    const src = metricsSource();
    for (const s of [0.00002, 0.0003, 0.02]) src.stats.observeLatency(s);
    const m = await scrape(src);
    const h = 'clusterdns_dns_answer_latency_seconds';
    expect(m.samples.filter((s) => s.name === `${h}_bucket`).map((s) => [s.labels.le, s.value])).toEqual([
      ['0.00001', 0],
      ['0.000025', 1],
      ['0.00005', 1],
      ['0.0001', 1],
      ['0.00025', 1],
      ['0.0005', 2],
      ['0.001', 2],
      ['0.0025', 2],
      ['0.005', 2],
      ['0.01', 2],
      ['+Inf', 3],
    ]);
    expect(m.value(`${h}_count`)).toBe(3);
    expect(m.value(`${h}_sum`)).toBeCloseTo(0.02032, 10);
  });

  it('reads the counters at each scrape: a registry made once follows the agent', async () => {
    const src = metricsSource();
    const registry = createMetrics(src, { node: 'node1', version: '1.0.0' });
    src.stats.count('udp', Type.A, 0);
    const first = parseExposition(await registry.metrics());
    src.stats.count('udp', Type.A, 0);
    src.stats.count('tcp', Type.AAAA, 3);
    src.stats.truncated += 4;
    const second = parseExposition(await registry.metrics());
    expect(first.value('clusterdns_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOERROR' })).toBe(1);
    expect(second.value('clusterdns_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOERROR' })).toBe(2);
    expect(second.value('clusterdns_dns_queries_total', { transport: 'tcp', qtype: 'AAAA', rcode: 'NXDOMAIN' })).toBe(1);
    expect(second.value('clusterdns_dns_truncated_total')).toBe(4);
  });

  it('heartbeat counters, every rejection reason (zeros included), node states', async () => {
    const m = await scrape(metricsSource({ view: () => view(cfg, 1000, { node3: { state: 'down', up: false } }) }));
    expect(m.value('clusterdns_heartbeats_sent_total')).toBe(10);
    expect(m.value('clusterdns_heartbeats_received_total')).toBe(8);
    expect(m.samples.filter((s) => s.name === 'clusterdns_heartbeats_rejected_total').map((s) => [s.labels.reason, s.value])).toEqual([
      ['short', 1],
      ['version', 0],
      ['type', 0],
      ['hmac', 2],
      ['unknown-sender', 0],
      ['replay', 0],
      ['unproven', 3],
      ['malformed', 0],
    ]);
    expect(m.value('clusterdns_heartbeats_unsent_total')).toBe(4);
    expect(['node1', 'node2', 'node3'].map((node) => m.value('clusterdns_node_up', { node }))).toEqual([1, 1, 0]);
  });

  it('before membership runs: no node gauges, in the minority, not serving', async () => {
    const m = await scrape(metricsSource({ view: () => undefined, counters: () => undefined, currentInputs: { nodeTargets: new Map(), upNodes: [], services: new Map(), serving: false, serial: 3, failOpen: false } }));
    expect(m.samples.some((s) => s.name === 'clusterdns_node_up')).toBe(false);
    expect(m.value('clusterdns_minority')).toBe(1);
    expect(m.value('clusterdns_serving')).toBe(0);
    expect(m.value('clusterdns_zone_serial')).toBe(3);
    expect(m.value('clusterdns_heartbeats_sent_total')).toBe(0);
  });

  it('fail open, the earliest signature expiry and the discovery cap: what the alerts in deploy/prometheus read', async () => {
    const inputs = { nodeTargets: new Map(), upNodes: [], services: new Map(), serving: true, serial: 3, failOpen: true };
    const stats = { connections: 3, maxConnections: 1024, connectionsTotal: 5, commands: new Map(), errors: { reply: 0, protocol: 0, 'output-limit': 0, timeout: 0, 'max-clients': 0 }, switchMessages: 0 };
    const m = await scrape(metricsSource({ currentInputs: inputs, signatureExpiry: () => 1_900_000_000, discoveryStats: () => stats }));
    expect(m.value('clusterdns_fail_open')).toBe(1);
    expect(m.value('clusterdns_dnssec_signature_expiry_timestamp_seconds', { zone: cfg.zone })).toBe(1_900_000_000);
    expect(m.value('clusterdns_discovery_connections')).toBe(3);
    expect(m.value('clusterdns_discovery_connections_max')).toBe(1024);
    const plain = await scrape(metricsSource());
    expect(plain.value('clusterdns_fail_open')).toBe(0);
    expect(plain.samples.some((s) => s.name === 'clusterdns_dnssec_signature_expiry_timestamp_seconds')).toBe(false);
    // Label-less gauges read 0 while discovery is off: connections / max is then 0 / 0, no alert.
    expect(plain.value('clusterdns_discovery_connections_max')).toBe(0);
  });

  it('one registry per agent: two agents in one process do not collide, and the global registry stays empty', async () => {
    const a = metricsSource();
    const b = metricsSource();
    a.stats.count('udp', Type.A, 0);
    const [ma, mb] = await Promise.all([scrape(a), scrape(b)]);
    expect(ma.sum('clusterdns_dns_queries_total')).toBe(1);
    expect(mb.sum('clusterdns_dns_queries_total')).toBe(0);
    expect(await globalRegistry.metrics()).not.toMatch(/clusterdns_/);
  });
});
