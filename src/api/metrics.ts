import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { ClusterConfig } from '../config/types';
import type { AnswerThreadStatus } from './status-types';
import type { DiscoveryStats } from '../discovery/server';
import type { HealthDetails } from '../health/monitor';
import { REJECT_REASONS } from '../membership/messages';
import type { Counters } from '../membership/state';
import type { ClusterView } from '../membership/view';
import { LATENCY_BUCKETS, LATENCY_SAMPLE_EVERY, SOCKET_DROP_REASONS, type QueryStats } from '../server/stats';
import type { ZoneInputs } from '../zone/inputs';

/** What the metrics are read from when scraped; the `Agent` is one. */
export interface MetricsSource {
  readonly currentConfig: ClusterConfig;
  readonly currentInputs: ZoneInputs;
  readonly failovers: number;
  readonly stats: Pick<QueryStats, 'entries' | 'truncated' | 'dropped' | 'socketDrops' | 'latencyCounts' | 'latencySum' | 'latencyCount' | 'rateLimited' | 'cookies'>;
  view(): ClusterView | undefined;
  counters(): Counters | undefined;
  peerDatagramsFromStrangers?(): number;
  healthDetails(): HealthDetails | undefined;
  /** Undefined while the discovery service is off. */
  discoveryStats?(): DiscoveryStats | undefined;
  /** Earliest expiration (Unix seconds) of the RRSIGs served; undefined when the zone is unsigned. */
  signatureExpiry?(): number | undefined;
  answerThreads?(): readonly AnswerThreadStatus[];
}

/**
 * One registry per agent (never prom-client's global one, so several agents or tests can share a
 * process). Every value is read from the agent's own counters in `collect`, at scrape time: the DNS
 * path only increments plain integers and never calls into this library.
 */
export function createMetrics(src: MetricsSource, info: { node: string; version: string }): Registry {
  const registry = new Registry();
  const registers = [registry];
  const view = () => src.view();

  new Gauge({
    name: 'clusterdns_info',
    help: 'Always 1; labels say which agent, version, zone and config this is',
    labelNames: ['node', 'version', 'zone', 'config_hash'],
    registers,
    collect() {
      this.reset();
      const c = src.currentConfig;
      this.set({ node: info.node, version: info.version, zone: c.zone, config_hash: c.hash }, 1);
    },
  });

  new Counter({
    name: 'clusterdns_dns_queries_total',
    help: 'DNS queries answered, by transport, question type and response code',
    labelNames: ['transport', 'qtype', 'rcode'],
    registers,
    collect() {
      this.reset();
      for (const e of src.stats.entries()) this.inc({ transport: e.transport, qtype: e.qtype, rcode: e.rcode }, e.value);
    },
  });
  counter(registry, 'clusterdns_dns_truncated_total', 'UDP answers sent truncated (TC) because they exceeded the client\'s size', () => src.stats.truncated);
  counter(registry, 'clusterdns_dns_dropped_total', 'Packets dropped without an answer (not a DNS query, or over a limit)', () => src.stats.dropped);
  new Counter({
    name: 'clusterdns_dns_socket_drops_total',
    help: 'Packets, answers and connections the DNS listeners dropped, by reason (source-port: UDP from port 0; send-error; internal-error: a bug, see the issue tracker; tcp-error: client reset; accept-error; tcp-limit and tcp-source-limit: over the connection caps; tcp-timeout: no complete message within the idle timeout)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const reason of SOCKET_DROP_REASONS) this.inc({ reason }, src.stats.socketDrops[reason]);
    },
  });
  new Counter({
    name: 'clusterdns_dns_rate_limited_total',
    help: 'UDP responses over dns.rateLimit, by action (dropped: not sent; slipped: sent as an empty TC=1 answer, or BADCOOKIE to a client that sent a cookie, so a real client retries)',
    labelNames: ['action'],
    registers,
    collect() {
      this.reset();
      this.inc({ action: 'dropped' }, src.stats.rateLimited.dropped);
      this.inc({ action: 'slipped' }, src.stats.rateLimited.slipped);
    },
  });
  new Counter({
    name: 'clusterdns_dns_cookies_total',
    help: 'Queries with a DNS COOKIE option, by result (valid: a server cookie of this cluster, in date: never rate limited; client-only: none, or not valid, so a fresh one was sent)',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.inc({ result: 'valid' }, src.stats.cookies.valid);
      this.inc({ result: 'client-only' }, src.stats.cookies.clientOnly);
    },
  });
  registry.registerMetric(latencyHistogram(src.stats));

  new Gauge({
    name: 'clusterdns_node_up',
    help: 'Whether this agent counts the node as up (1) or not (0): down or not yet decided',
    labelNames: ['node'],
    registers,
    collect() {
      this.reset();
      for (const n of view()?.nodes ?? []) this.set({ node: n.name }, n.up ? 1 : 0);
    },
  });
  gauge(registry, 'clusterdns_serving', 'Whether this agent answers the zone with data (0 in the minority, before quorum, on witnesses)', () => (src.currentInputs.serving && src.currentConfig.nodes.some((n) => n.name === info.node && n.role !== 'witness') ? 1 : 0));
  gauge(registry, 'clusterdns_fail_open', 'Whether no name server is judged up, so every node\'s names answer with its own address (fail open)', () => (src.currentInputs.failOpen ? 1 : 0));
  gauge(registry, 'clusterdns_minority', 'Whether this agent hears fewer than a majority of the configured nodes', () => (view()?.minority ?? true ? 1 : 0));
  gauge(registry, 'clusterdns_quorum', 'Whether this agent has heard a majority since it started', () => (view()?.quorum ? 1 : 0));
  counter(registry, 'clusterdns_failovers_total', 'Nodes declared down since this agent started (each fails its names over)', () => src.failovers);

  counter(registry, 'clusterdns_heartbeats_sent_total', 'Heartbeats sent to peers', () => src.counters()?.sent ?? 0);
  counter(registry, 'clusterdns_heartbeats_received_total', 'Heartbeats received and accepted', () => src.counters()?.received ?? 0);
  counter(registry, 'clusterdns_heartbeats_unsent_total', 'Heartbeats that could not be encoded (a bug: report it)', () => src.counters()?.unsent ?? 0);
  counter(registry, 'clusterdns_peer_strangers_dropped_total', 'Datagrams on the peer port from addresses that are no configured node\'s peerAddress, dropped before any HMAC work', () => src.peerDatagramsFromStrangers?.() ?? 0);
  new Counter({
    name: 'clusterdns_heartbeats_rejected_total',
    help: 'Peer messages dropped, by reason (hmac: wrong secret; replay: old or repeated; unknown-sender: not in the config)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      const rejected = src.counters()?.rejected;
      for (const reason of REJECT_REASONS) this.inc({ reason }, rejected?.[reason] ?? 0);
    },
  });

  new Gauge({
    name: 'clusterdns_check_healthy',
    help: 'Settled verdict of this node\'s checks: the node itself (kind=node) and each service (kind=service)',
    labelNames: ['kind', 'name'],
    registers,
    collect() {
      this.reset();
      const d = src.healthDetails();
      if (!d) return;
      this.set({ kind: 'node', name: d.node.name }, d.node.healthy ? 1 : 0);
      for (const [name, g] of Object.entries(d.services)) this.set({ kind: 'service', name }, g.healthy ? 1 : 0);
    },
  });
  const eachCheck = (f: (labels: Record<string, string>, c: HealthDetails['node']['checks'][number]) => void) => {
    const d = src.healthDetails();
    if (!d) return;
    for (const c of d.node.checks) f({ kind: 'node', name: d.node.name, type: c.type, target: c.target }, c);
    for (const [name, g] of Object.entries(d.services)) for (const c of g.checks) f({ kind: 'service', name, type: c.type, target: c.target }, c);
  };
  new Gauge({
    name: 'clusterdns_check_last_ok',
    help: 'Result of each check\'s latest probe: 1 passed, 0 failed (absent before the first probe)',
    labelNames: ['kind', 'name', 'type', 'target'],
    registers,
    collect() {
      this.reset();
      eachCheck((labels, c) => c.lastOk !== null && this.set(labels, c.lastOk ? 1 : 0));
    },
  });
  new Gauge({
    name: 'clusterdns_check_latency_seconds',
    help: 'How long each check\'s latest probe took',
    labelNames: ['kind', 'name', 'type', 'target'],
    registers,
    collect() {
      this.reset();
      eachCheck((labels, c) => c.latencyMs !== null && this.set(labels, c.latencyMs / 1000));
    },
  });

  gauge(registry, 'clusterdns_config_mismatch', 'Whether a peer reports a config hash different from this agent\'s', () => {
    const v = view();
    return v && Object.values(v.configHashes).some((h) => h !== v.configHash) ? 1 : 0;
  });
  new Gauge({
    name: 'clusterdns_peer_link_broken',
    help: 'Peer links that drop heartbeats while both ends are alive (1 per broken direction; `to` does not hear `from`)',
    labelNames: ['from', 'to'],
    registers,
    collect() {
      this.reset();
      for (const l of view()?.links ?? []) this.set({ from: l.from, to: l.to }, 1);
    },
  });
  gauge(registry, 'clusterdns_zone_serial', 'SOA serial of the zone this agent answers', () => src.currentInputs.serial);
  // Signatures are remade at `dnssec.refresh`: an expiry that comes near means re-signing stopped
  // (no active key, or a stuck agent), and resolvers will fail the zone when it passes.
  new Gauge({
    name: 'clusterdns_dnssec_signature_expiry_timestamp_seconds',
    help: 'Earliest expiration of the RRSIGs this agent serves, as a Unix time (absent when the zone is unsigned)',
    // A label so that the series is absent when unsigned: a label-less gauge would read 0, an expiry in 1970.
    labelNames: ['zone'],
    registers,
    collect() {
      this.reset();
      const t = src.signatureExpiry?.();
      if (t !== undefined) this.set({ zone: src.currentConfig.zone }, t);
    },
  });

  discoveryMetrics(registry, () => src.discoveryStats?.());
  answerThreadMetrics(registry, () => src.answerThreads?.() ?? []);

  // Node's event-loop delay histogram samples with a libuv timer every `eventLoopMonitoringPrecision`
  // ms; prom-client's default of 10 ms woke an idle agent 100 times a second, more than 17 peers'
  // heartbeats do (issue 10: CPU at rest). 100 ms still catches any stall that long or longer.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return registry;
}

/** Per answer thread (dns.workers): the table it answers from, its queries, lag and restarts. */
function answerThreadMetrics(registry: Registry, read: () => readonly AnswerThreadStatus[]): void {
  const registers = [registry];
  const each = (name: string, help: string, value: (t: AnswerThreadStatus) => number | null, type: 'gauge' | 'counter' = 'gauge') => {
    const Kind = type === 'gauge' ? Gauge : Counter;
    new Kind({
      name,
      help,
      labelNames: ['thread', 'where'],
      registers,
      collect(this: Gauge | Counter) {
        this.reset();
        for (const t of read()) {
          const v = value(t);
          if (v === null) continue;
          if (this instanceof Gauge) this.set({ thread: String(t.index), where: t.where }, v);
          else this.inc({ thread: String(t.index), where: t.where }, v);
        }
      },
    });
  };
  each('clusterdns_answer_thread_table_version', 'Version of the answer table each answer thread answers from (the same on every thread once a change has reached them all)', (t) => t.tableVersion);
  each('clusterdns_answer_thread_table_applied_seconds', 'How long the newest answer table took from control to each answer thread', (t) => (t.tableAppliedMs === null ? null : t.tableAppliedMs / 1000));
  each('clusterdns_answer_thread_queries_total', 'DNS queries each answer thread answered since it started', (t) => t.queries, 'counter');
  each('clusterdns_answer_thread_lag_seconds', 'How late each answer thread read the watchdog\'s last ping (its event-loop lag)', (t) => (t.lagMs === null ? null : t.lagMs / 1000));
  each('clusterdns_answer_thread_restarts_total', 'Times an answer thread was replaced after it crashed or wedged', (t) => t.restarts, 'counter');
  each('clusterdns_answer_thread_serving', 'Whether each answer thread is serving (0: being replaced, or failed to start again)', (t) => (t.state === 'serving' ? 1 : 0));
}

/** The Sentinel-protocol service (src/discovery/): absent unless it runs. */
function discoveryMetrics(registry: Registry, read: () => DiscoveryStats | undefined): void {
  const registers = [registry];
  new Gauge({
    name: 'clusterdns_discovery_connections',
    help: 'Open connections to the Sentinel-protocol discovery service',
    registers,
    collect() {
      this.reset();
      const d = read();
      if (d) this.set(d.connections);
    },
  });
  new Gauge({
    name: 'clusterdns_discovery_connections_max',
    help: 'Connections the discovery service accepts at once; more are refused (errors kind=max-clients)',
    registers,
    collect() {
      this.reset();
      const d = read();
      if (d) this.set(d.maxConnections);
    },
  });
  new Counter({
    name: 'clusterdns_discovery_connections_total',
    help: 'Connections accepted by the discovery service since start',
    registers,
    collect() {
      this.reset();
      const d = read();
      if (d) this.inc(d.connectionsTotal);
    },
  });
  new Counter({
    name: 'clusterdns_discovery_commands_total',
    help: 'Discovery commands received, by command (unknown: any command the service does not offer)',
    labelNames: ['command'],
    registers,
    collect() {
      this.reset();
      for (const [command, n] of read()?.commands ?? []) this.inc({ command }, n);
    },
  });
  new Counter({
    name: 'clusterdns_discovery_errors_total',
    help: 'Discovery errors by kind: reply (an error answer), protocol (malformed or oversized request, connection closed), output-limit (client did not read its replies), timeout (request left unfinished), max-clients, max-clients-per-source, idle (closed doing nothing), internal (a bug, caught)',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      const d = read();
      if (d) for (const [kind, n] of Object.entries(d.errors)) this.inc({ kind }, n);
    },
  });
  new Counter({
    name: 'clusterdns_discovery_switch_messages_total',
    help: '+switch-master messages sent to subscribers',
    registers,
    collect() {
      this.reset();
      const d = read();
      if (d) this.inc(d.switchMessages);
    },
  });
  new Counter({
    name: 'clusterdns_discovery_published_total',
    help: 'Messages sent to subscribers, by channel (+switch-master, +sdown, -sdown, +odown, -odown, +slave)',
    labelNames: ['channel'],
    registers,
    collect() {
      this.reset();
      for (const [channel, n] of read()?.published ?? []) this.inc({ channel }, n);
    },
  });
}

function counter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * The server already keeps sampled latency in fixed buckets (stats.ts); prom-client's Histogram can
 * only be fed one observation at a time, so this metric hands the registry those buckets as they are.
 */
function latencyHistogram(stats: MetricsSource['stats']): Metric {
  const name = 'clusterdns_dns_answer_latency_seconds';
  const metric = {
    name,
    help: `Time from receiving a query to sending its answer; one query in ${LATENCY_SAMPLE_EVERY} is timed`,
    type: 'histogram',
    aggregator: 'sum',
    collect: () => undefined,
    reset: () => undefined,
    get: async () => {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += stats.latencyCounts[i];
        values.push({ metricName: `${name}_bucket`, labels: { le }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: stats.latencyCount });
      values.push({ metricName: `${name}_sum`, labels: {}, value: stats.latencySum });
      values.push({ metricName: `${name}_count`, labels: {}, value: stats.latencyCount });
      return { name, help: metric.help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  return metric as unknown as Metric;
}
