import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventually, http, parseExposition } from '../api/helpers';
import { CLI } from '../helpers/cluster';
import { fullConfigYaml, makeKey } from '../helpers/full-config';
import { Processes } from '../helpers/proc';
import { exported, metricNames, variableSelector } from './promql';

/**
 * Every metric the shipped alert rules and Grafana dashboard query is one a live agent's /metrics
 * exports: a renamed metric fails here, not silently in an operator's Prometheus. The agent runs with
 * every feature on (discovery, DNSSEC, rate limiting, a check), so every family is declared.
 * Loopback block 127.0.180.0/24.
 */
const ROOT = join(__dirname, '../..');
const ADDRESS = '127.0.180.1';
const PORT = 18530;

const procs = new Processes();
const dir = mkdtempSync(join(tmpdir(), 'clusterdns-metric-names-'));
let types: ReadonlyMap<string, string>;
let samples: ReturnType<typeof parseExposition>['samples'];

beforeAll(async () => {
  const key = await makeKey(dir);
  const config = join(dir, 'cluster.yaml');
  writeFileSync(
    config,
    fullConfigYaml({
      address: ADDRESS,
      privateAddress: ADDRESS,
      dnsPort: PORT,
      peerPort: PORT + 1,
      httpPort: PORT + 2,
      discoveryPort: PORT + 3,
      keys: [key],
      rateLimit: { responsesPerSecond: 10 },
      extra: `checks:\n  - { type: tcp, port: ${PORT + 2}, interval: 1s, timeout: 500ms }`,
    }),
  );
  const agent = procs.start(process.execPath, [CLI, 'agent', '--config', config, '--node', 'solo'], { env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } });
  await agent.waitForOutput(/"event":"listening"/);
  // Scraped once the node is up and signed, so the labelled series carry samples, not only TYPE lines.
  const m = await eventually('the agent to serve a signed zone with its check passed', async () => {
    const e = parseExposition((await http(`http://${ADDRESS}:${PORT + 2}/metrics`)).body);
    const ready = e.value('clusterdns_node_up', { node: 'solo' }) === 1 && e.samples.some((s) => s.name === 'clusterdns_dnssec_signature_expiry_timestamp_seconds');
    return ready ? e : undefined;
  }, 15_000);
  types = m.types;
  samples = m.samples;
}, 60_000);

afterAll(async () => {
  await procs.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

interface RuleFile {
  groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }>;
}

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

function dashboardQueries(): Array<[where: string, expr: string]> {
  const d = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/clusterdns.json'), 'utf8')) as {
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
  };
  const out: Array<[string, string]> = [];
  const walk = (ps: readonly Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) {
        if (typeof t.expr !== 'string' || t.expr.trim() === '') throw new Error(`panel ${p.title}: a target without a query`);
        out.push([`panel ${p.title}`, t.expr]);
      }
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    out.push([`variable ${v.name}`, variableSelector(typeof v.query === 'string' ? v.query : v.query!.query)]);
  }
  return out;
}

describe('metric names in deploy/', () => {
  it('the agent exported the new families with samples (the scrape is a real one)', () => {
    for (const name of ['clusterdns_fail_open', 'clusterdns_discovery_connections_max', 'clusterdns_dnssec_signature_expiry_timestamp_seconds', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(samples.some((s) => s.name === name), name).toBe(true);
    }
  });

  it('every metric the alert rules read is exported', () => {
    const rules = parse(readFileSync(join(ROOT, 'deploy/prometheus/clusterdns.rules.yml'), 'utf8')) as RuleFile;
    const missing: string[] = [];
    let count = 0;
    for (const g of rules.groups) for (const r of g.rules) for (const name of metricNames(r.expr)) {
      count++;
      if (!exported(types, name)) missing.push(`${r.alert ?? r.record}: ${name}`);
    }
    expect(count).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('every metric the Grafana dashboard queries is exported', () => {
    const queries = dashboardQueries();
    const missing: string[] = [];
    const used = new Set<string>();
    for (const [where, expr] of queries) {
      const names = metricNames(expr);
      if (names.length === 0) missing.push(`${where}: no metric in ${expr}`);
      for (const name of names) {
        used.add(name);
        if (!exported(types, name)) missing.push(`${where}: ${name}`);
      }
    }
    expect(queries.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
    // And the other way: every clusterdns family has a panel, so a new metric is not forgotten.
    const unshown = [...types.keys()].filter((f) => f.startsWith('clusterdns_') && ![...used].some((u) => u === f || u.startsWith(`${f}_`)));
    expect(unshown).toEqual([]);
  });
});
