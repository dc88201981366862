import { createSocket } from 'node:dgram';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../src/api/status-types';
import { encodeHeartbeat } from '../../src/membership/messages';
import { CLI, clusterYaml, TestCluster } from '../helpers/cluster';
import { encodeQuery, tcpExchange, udpQuery } from '../helpers/dns';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { converged, eventually, http, parseExposition, type Exposition } from './helpers';

/**
 * Three real agents on 127.0.11.1–3 (block 127.0.11.0/24): their HTTP API read by a real HTTP
 * client, its numbers checked against DNS answers from the same agents, then node3 killed (-9)
 * and node2 after it, so that node1 goes from healthy to degraded to cut off.
 */

const DNS = 5311;
const PEER = 5312;
const HTTP = 5313;
const A = ['127.0.11.1', '127.0.11.2', '127.0.11.3'];
const V6 = '2001:db8::11';
const url = (i: number, path: string) => `http://${A[i]}:${HTTP}${path}`;
const VERSION: string = require('../../package.json').version;

let cluster: TestCluster;
let dig: string;

const status = async (i = 0): Promise<StatusDocument> => {
  const r = await http(url(i, '/v1/status'));
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as StatusDocument;
};
const scrape = async (i = 0): Promise<Exposition> => {
  const r = await http(url(i, '/metrics'));
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(r.body);
};
const statusCli = (...args: string[]) => run(process.execPath, [CLI, 'status', ...args], { timeoutMs: 15_000, env: { ...process.env, NO_COLOR: '1' } });
/** Addresses a name resolves to at an agent, by a real DNS query. */
const resolveAt = async (i: number, name: string, type: 'A' | 'AAAA' = 'A'): Promise<string[]> => {
  const reply = await udpQuery(A[i], DNS, name, type);
  return (reply.answers ?? []).map((a) => String(a.data)).sort();
};

beforeAll(async () => {
  dig = requireTool('dig');
  cluster = new TestCluster(
    clusterYaml({
      dnsPort: DNS,
      peerPort: PEER,
      httpPort: HTTP,
      nodes: [
        { name: 'node1', address: A[0], address6: V6, listen: [A[0]] },
        { name: 'node2', address: A[1] },
        { name: 'node3', address: A[2] },
      ],
      // A service whose check is real: the node's own DNS port over TCP.
      extra: ['services:', `  - { name: web, port: 8443, nodes: [node3, node1], policy: first-healthy, check: { type: tcp, port: ${DNS}, interval: 250ms, timeout: 200ms, rise: 1, fall: 3 } }`].join('\n'),
    }),
  );
  await Promise.all(['node1', 'node2', 'node3'].map((n) => cluster.startAgent(n)));
  await converged([0, 1, 2].map((i) => url(i, '')));
});

afterAll(async () => {
  await cluster?.cleanup();
});

describe('a healthy cluster', () => {
  it('GET /v1/status: who this agent is, the verdicts, the matrix and what it answers', async () => {
    const s = await status(0);
    expect(s).toMatchObject({ apiVersion: 1, node: 'node1', role: 'node', version: VERSION, zone: 'cluster.test', serving: true, quorum: true, minority: false, majority: 2, failovers: 0 });
    expect(s.hears).toEqual(['node1', 'node2', 'node3']);
    expect(Date.parse(s.startedAt)).toBeLessThanOrEqual(Date.parse(s.now));
    expect(Math.abs(Date.parse(s.now) - Date.now())).toBeLessThan(5000);

    expect(s.nodes.map((n) => [n.name, n.address, n.state, n.up, n.condition, n.healthy, n.self])).toEqual([
      ['node1', A[0], 'up', true, 'up', true, true],
      ['node2', A[1], 'up', true, 'up', true, false],
      ['node3', A[2], 'up', true, 'up', true, false],
    ]);
    expect(s.nodes[0].address6).toBe(V6);
    for (const n of s.nodes) {
      expect(n.reason).toMatch(new RegExp(`^${n.name} up: heard by `));
      expect(Date.parse(n.since)).toBeGreaterThanOrEqual(Date.parse(s.startedAt) - 1000);
      expect(Date.parse(n.since)).toBeLessThanOrEqual(Date.parse(s.now));
      expect(n.holdDownMs).toBe(3000);
      // Each node reports the services it is listed for.
      expect(n.services).toEqual(n.name === 'node2' ? {} : { web: true });
      expect(n.configHash).toBe(s.configHash);
    }

    // Every observer's row has been heard and hears everyone, recently.
    for (const observer of ['node1', 'node2', 'node3']) {
      const row = s.matrix[observer];
      expect(row, observer).not.toBeNull();
      expect(row!.fresh).toBe(true);
      for (const target of ['node1', 'node2', 'node3']) {
        expect(row!.heard[target].everHeard).toBe(true);
        expect(row!.heard[target].ageMs).toBeLessThan(1000);
      }
    }
    expect(s.config).toEqual({ hashes: { node1: s.configHash, node2: s.configHash, node3: s.configHash }, mismatch: false });

    // The serial is the SOA serial the agent serves (asked again if a peer's higher one was adopted in between).
    await eventually('the status serial to be the served SOA serial', async () => {
      const soa = await udpQuery(A[0], DNS, 'cluster.test', 'SOA');
      return (soa.answers![0].data as packet.SoaData).serial === (await status(0)).serial ? true : undefined;
    }, 3000);

    // The node check ran for real against node1's own DNS port.
    expect(s.checks).toEqual([expect.objectContaining({ kind: 'service', name: 'web', type: 'tcp', target: `tcp ${A[0]}:${DNS}`, lastOk: true, verdict: 'healthy' })]);
    expect(s.events.some((e) => e.type === 'serving' && e.message === 'answering cluster.test')).toBe(true);
    expect(Date.parse(s.events[0].at)).toBeGreaterThanOrEqual(Date.parse(s.events[s.events.length - 1].at));
  });

  it('the answers listed are the answers served, name by name', async () => {
    const s = await status(0);
    const byName = Object.fromEntries(s.answers.map((a) => [a.name, a]));
    expect(Object.keys(byName)).toEqual(['cluster.test', 'node1.cluster.test', 'ns1.cluster.test', 'node2.cluster.test', 'ns2.cluster.test', 'node3.cluster.test', 'ns3.cluster.test', 'web.cluster.test']);
    expect(byName['cluster.test']).toMatchObject({ kind: 'apex', servedBy: ['node1', 'node2', 'node3'], a: A, aaaa: [V6], failedOver: false });
    expect(byName['node1.cluster.test']).toMatchObject({ kind: 'node', owner: 'node1', servedBy: ['node1'], a: [A[0]], aaaa: [V6], failedOver: false });
    expect(byName['ns3.cluster.test']).toMatchObject({ kind: 'ns', owner: 'node3', servedBy: ['node3'], a: [A[2]], aaaa: [], failedOver: false });
    expect(byName['web.cluster.test']).toMatchObject({ kind: 'service', owner: 'web', servedBy: ['node3'], a: [A[2]], port: 8443 });
    for (const a of s.answers) {
      expect(await resolveAt(0, a.name, 'A'), a.name).toEqual([...a.a].sort());
      expect(await resolveAt(0, a.name, 'AAAA'), a.name).toEqual([...a.aaaa].sort());
    }
  });

  it('every agent has the API on its own address and they agree on the cluster', async () => {
    const docs = await Promise.all([0, 1, 2].map((i) => status(i)));
    expect(docs.map((d) => d.node)).toEqual(['node1', 'node2', 'node3']);
    for (const d of docs) {
      expect(d.configHash).toBe(docs[0].configHash);
      expect(d.nodes.map((n) => n.state)).toEqual(['up', 'up', 'up']);
      expect(d.answers.map((a) => [a.name, a.a])).toEqual(docs[0].answers.map((a) => [a.name, a.a]));
    }
    // Bound to the node's address only: another loopback address of the same machine has nothing.
    await expect(http(`http://127.0.11.99:${HTTP}/v1/status`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('read-only: POST, PUT, DELETE get 405 with Allow; HEAD has headers and no body; unknown paths 404', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await http(url(0, '/v1/status'), method);
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expect(r.body).toMatch(/read-only/);
    }
    const head = await http(url(0, '/v1/status'), 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect(head.body).toBe('');
    const missing = await http(url(0, '/v2/status'));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatch(/\/v1\/status/);
  });

  it('GET /healthz is 200 ok on every serving agent', async () => {
    for (const i of [0, 1, 2]) {
      const r = await http(url(i, '/healthz'));
      expect([r.status, r.body]).toEqual([200, 'ok\n']);
    }
  });

  it('GET / is the page, its script and style are files of this agent, and its CSP admits nothing else', async () => {
    const r = await http(url(0, '/'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toMatch(/^<!doctype html>/);
    // Nothing loaded from elsewhere: no inline or external script or style, no image or font.
    expect(r.body).not.toMatch(/<script>|<style|(?:src|href)="(?:https?:)?\/\/|url\(/);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    const script = /<script type="module" src="([^"]+)"><\/script>/.exec(r.body)![1];
    const style = /<link rel="stylesheet" href="([^"]+)">/.exec(r.body)![1];
    expect([script, style]).toEqual(['/assets/page.js', '/assets/page.css']);
    for (const [path, type, text] of [
      [script, 'text/javascript; charset=utf-8', /fetch\('\/v1\/status'/],
      [style, 'text/css; charset=utf-8', /\.card\[data-state="down"\]/],
    ] as const) {
      const asset = await http(url(0, path));
      expect([asset.status, asset.headers['content-type'], asset.headers['x-content-type-options']]).toEqual([200, type, 'nosniff']);
      expect(asset.body).toMatch(text);
    }
  });

  it('page files: revalidated by ETag (304 when unchanged), HEAD without a body, unknown files 404', async () => {
    for (const path of ['/', '/index.html', '/assets/page.js', '/assets/page.css']) {
      const first = await http(url(0, path));
      expect(first.headers['cache-control']).toBe('no-cache');
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
      expect(Number(first.headers['content-length'])).toBe(Buffer.byteLength(first.body));
      const again = await http(url(0, path), 'GET', 3000, { 'If-None-Match': etag });
      expect([again.status, again.body, again.headers.etag]).toEqual([304, '', etag]);
      const changed = await http(url(0, path), 'GET', 3000, { 'If-None-Match': '"something-else"' });
      expect([changed.status, changed.body]).toEqual([200, first.body]);
      const head = await http(url(0, path), 'HEAD');
      expect([head.status, head.body, head.headers['content-length'], head.headers['content-type']]).toEqual([200, '', first.headers['content-length'], first.headers['content-type']]);
    }
    // Every agent serves the same files.
    expect((await http(url(1, '/assets/page.js'))).headers.etag).toBe((await http(url(0, '/assets/page.js'))).headers.etag);
    for (const path of ['/assets/nope.js', '/assets/', '/assets/page.ts', '/page.js', '/page.css', '/tsconfig.json']) {
      const r = await http(url(0, path));
      expect([path, r.status]).toEqual([path, 404]);
      expect(r.headers['cache-control']).toBe('no-store');
    }
  });

  it('GET /metrics parses and counts the queries sent, by transport, type and rcode', async () => {
    const before = await scrape(0);
    const q = (labels: Record<string, string>, m: Exposition) => m.value('clusterdns_dns_queries_total', labels) ?? 0;
    const udpA = { transport: 'udp', qtype: 'A', rcode: 'NOERROR' };
    const tcpAAAA = { transport: 'tcp', qtype: 'AAAA', rcode: 'NOERROR' };
    const nx = { transport: 'udp', qtype: 'A', rcode: 'NXDOMAIN' };
    const refused = { transport: 'udp', qtype: 'A', rcode: 'REFUSED' };

    for (let i = 0; i < 47; i++) await udpQuery(A[0], DNS, 'node1.cluster.test', 'A');
    const digged = await run(dig, [`@${A[0]}`, '-p', String(DNS), 'node2.cluster.test', 'A', '+norec', '+short', '+time=2', '+tries=1']);
    expect(digged.stdout.trim()).toBe(A[1]);
    expect(await tcpExchange(A[0], DNS, [1, 2, 3, 4, 5].map(() => encodeQuery('ns1.cluster.test', 'AAAA')))).toHaveLength(5);
    for (let i = 0; i < 3; i++) expect((await udpQuery(A[0], DNS, 'nope.cluster.test', 'A')).rcode).toBe('NXDOMAIN');
    for (let i = 0; i < 2; i++) expect((await udpQuery(A[0], DNS, 'example.com', 'A')).rcode).toBe('REFUSED');

    const after = await scrape(0);
    expect(after.types.get('clusterdns_dns_queries_total')).toBe('counter');
    expect(q(udpA, after) - q(udpA, before)).toBe(48);
    expect(q(tcpAAAA, after) - q(tcpAAAA, before)).toBe(5);
    expect(q(nx, after) - q(nx, before)).toBe(3);
    expect(q(refused, after) - q(refused, before)).toBe(2);
    expect(after.value('clusterdns_dns_truncated_total')).toBe(0);
    expect(after.value('clusterdns_dns_dropped_total')).toBe(0);

    // Latency: one UDP query in 16 is timed; 53 UDP queries make at least 3 samples.
    const h = 'clusterdns_dns_answer_latency_seconds';
    expect(after.types.get(h)).toBe('histogram');
    const buckets = after.samples.filter((x) => x.name === `${h}_bucket`);
    expect(buckets.map((b) => b.labels.le)).toEqual(['0.00001', '0.000025', '0.00005', '0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '+Inf']);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(after.value(`${h}_bucket`, { le: '+Inf' })).toBe(after.value(`${h}_count`));
    expect(after.value(`${h}_count`)! - before.value(`${h}_count`)!).toBeGreaterThanOrEqual(3);
    expect(after.value(`${h}_sum`)).toBeGreaterThan(0);
  });

  it('GET /metrics: cluster state, heartbeats, checks, serial, and the process metrics', async () => {
    const s = await status(0);
    const m = await scrape(0);
    for (const n of ['node1', 'node2', 'node3']) expect(m.value('clusterdns_node_up', { node: n })).toBe(1);
    expect(m.types.get('clusterdns_node_up')).toBe('gauge');
    expect(m.value('clusterdns_serving')).toBe(1);
    expect(m.value('clusterdns_minority')).toBe(0);
    expect(m.value('clusterdns_failovers_total')).toBe(0);
    expect(m.value('clusterdns_config_mismatch')).toBe(0);
    // Bracketed by two status reads: a peer's higher serial may be adopted in between.
    expect([s.serial, (await status(0)).serial]).toContain(m.value('clusterdns_zone_serial'));
    expect(m.value('clusterdns_check_healthy', { kind: 'service', name: 'web' })).toBe(1);
    expect(m.value('clusterdns_check_healthy', { kind: 'node', name: 'node1' })).toBe(1);
    expect(m.value('clusterdns_check_last_ok', { kind: 'service', name: 'web', type: 'tcp', target: `tcp ${A[0]}:${DNS}` })).toBe(1);
    expect(m.value('clusterdns_check_latency_seconds', { kind: 'service', name: 'web', type: 'tcp', target: `tcp ${A[0]}:${DNS}` })).toBeLessThan(0.2);
    expect(m.value('clusterdns_info', { node: 'node1', version: VERSION, zone: 'cluster.test', config_hash: s.configHash })).toBe(1);
    expect(m.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(m.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(m.sum('clusterdns_heartbeats_rejected_total')).toBe(0);

    const sent = m.value('clusterdns_heartbeats_sent_total')!;
    const received = m.value('clusterdns_heartbeats_received_total')!;
    expect(sent).toBeGreaterThan(0);
    expect(received).toBeGreaterThan(0);
    // Computed at scrape time: a later scrape sees later heartbeats.
    const later = await eventually('more heartbeats', async () => {
      const x = await scrape(0);
      return x.value('clusterdns_heartbeats_sent_total')! > sent && x.value('clusterdns_heartbeats_received_total')! > received ? x : undefined;
    });
    expect(later.value('clusterdns_heartbeats_sent_total')).toBeGreaterThan(sent);
  });

  it('peer messages that fail authentication are counted by reason; a stranger\'s are dropped before', async () => {
    // From node2's address (another port): the protocol reads and rejects them.
    const sock = createSocket('udp4');
    const stranger = createSocket('udp4');
    try {
      await new Promise<void>((r) => sock.bind(0, A[1], r));
      await new Promise<void>((r) => stranger.bind(0, '127.0.11.50', r));
      const forged = encodeHeartbeat(
        { sender: 'node2', incarnation: 1n, sequence: 1, configHash: 'x', nodeHealthy: true, heard: new Map(), services: new Map() },
        'not-the-cluster-secret-0123456789abcdef',
      );
      for (const msg of [Buffer.from('hello'), forged, forged]) sock.send(msg, PEER, A[0]);
      const m = await eventually('rejections counted', async () => {
        const x = await scrape(0);
        return x.sum('clusterdns_heartbeats_rejected_total') >= 3 ? x : undefined;
      });
      expect(m.value('clusterdns_heartbeats_rejected_total', { reason: 'short' })).toBe(1);
      expect(m.value('clusterdns_heartbeats_rejected_total', { reason: 'hmac' })).toBe(2);
      expect(m.value('clusterdns_heartbeats_rejected_total', { reason: 'replay' })).toBe(0);
      // From an address that is no node's peerAddress: dropped unread, counted apart.
      for (const msg of [Buffer.from('hello'), forged]) stranger.send(msg, PEER, A[0]);
      const after = await eventually('strangers counted', async () => {
        const x = await scrape(0);
        return (x.value('clusterdns_peer_strangers_dropped_total') ?? 0) >= 2 ? x : undefined;
      });
      expect(after.value('clusterdns_peer_strangers_dropped_total')).toBe(2);
      expect(after.sum('clusterdns_heartbeats_rejected_total')).toBe(m.sum('clusterdns_heartbeats_rejected_total'));
    } finally {
      sock.close();
      stranger.close();
    }
  });

  it('clusterdns status: a table of nodes and answers, exit 0; --json and --url give the same cluster', async () => {
    const table = await statusCli('--config', cluster.configPath);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^cluster\.test {2}asked node1 at http:\/\/127\.0\.11\.1:5313\/v1\/status/);
    expect(table.stdout).toMatch(/^NODE\s+STATE\s+ADDRESS\s+HEARD\s+REASON$/m);
    for (const [i, n] of ['node1', 'node2', 'node3'].entries()) expect(table.stdout).toMatch(new RegExp(`^${n}\\s+up\\s+${A[i].replace(/\./g, '\\.')}\\s`, 'm'));
    expect(table.stdout).toMatch(/^node2\.cluster\.test\s+127\.0\.11\.2\s+node2$/m);
    expect(table.stdout).toMatch(/healthy: all 3 nodes up\n$/);
    expect(table.stdout).not.toMatch(/\x1b\[/);

    const json = await statusCli('--config', cluster.configPath, '--node', 'node3', '--json');
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as StatusDocument).node).toBe('node3');

    const byUrl = await statusCli('--url', `${A[1]}:${HTTP}`);
    expect(byUrl.code).toBe(0);
    expect(byUrl.stdout).toMatch(/asked node2 at http:\/\/127\.0\.11\.2:5313\/v1\/status/);
  });
});

describe('node3 killed with SIGKILL', () => {
  beforeAll(() => {
    cluster.agents.get('node3')!.kill('SIGKILL');
  });

  it('the status shows it down with the reason, and its names failed over to a live node', async () => {
    const s = await eventually('node1 to see node3 down and fail it over', async () => {
      const x = await status(0);
      return x.nodes[2].state === 'down' && x.answers.some((a) => a.failedOver) ? x : undefined;
    });
    const node3 = s.nodes[2];
    expect(node3).toMatchObject({ name: 'node3', up: false, condition: 'down' });
    expect(node3.reason).toMatch(/^node3 down: not heard by node1, node2 for \d+\.\d s$/);
    expect(s.failovers).toBe(1);
    expect(s.serving).toBe(true);
    expect(s.matrix.node3!.fresh).toBe(false);

    const n3 = s.answers.find((a) => a.name === 'node3.cluster.test')!;
    const ns3 = s.answers.find((a) => a.name === 'ns3.cluster.test')!;
    expect(n3.failedOver).toBe(true);
    expect(['node1', 'node2']).toContain(n3.servedBy[0]);
    expect(ns3).toMatchObject({ failedOver: true, servedBy: n3.servedBy, a: n3.a });
    expect(s.answers.filter((a) => a.failedOver).map((a) => a.name)).toEqual(['node3.cluster.test', 'ns3.cluster.test']);
    // The service moves to its next healthy node; the apex drops node3.
    expect(s.answers.find((a) => a.name === 'web.cluster.test')).toMatchObject({ servedBy: ['node1'], a: [A[0]] });
    expect(s.answers[0].a).toEqual([A[0], A[1]]);
    // And DNS says the same.
    expect(await resolveAt(0, 'node3.cluster.test')).toEqual(n3.a);
    expect(await resolveAt(0, 'web.cluster.test')).toEqual([A[0]]);
    expect(s.events.find((e) => e.type === 'verdict')!.message).toMatch(/^node3 down/);
  });

  it('the metrics follow, /healthz stays 200, and clusterdns status exits 1 showing the failover', async () => {
    const m = await scrape(0);
    expect(m.value('clusterdns_node_up', { node: 'node3' })).toBe(0);
    expect(m.value('clusterdns_node_up', { node: 'node2' })).toBe(1);
    expect(m.value('clusterdns_failovers_total')).toBe(1);
    expect(m.value('clusterdns_serving')).toBe(1);
    expect((await http(url(0, '/healthz'))).status).toBe(200);

    const out = await statusCli('--config', cluster.configPath);
    expect(out.code, out.stdout + out.stderr).toBe(1);
    expect(out.stdout).toMatch(/^node3\s+DOWN\s+127\.0\.11\.3\s+.*not heard by node1, node2/m);
    expect(out.stdout).toMatch(/^node3\.cluster\.test\s+127\.0\.11\.[12]\s+node[12] \(failed over from node3\)$/m);
    expect(out.stdout).toMatch(/degraded: node3 down; node3 → node[12] failed over\n$/);
  });
});

describe('node2 killed as well: node1 alone is in the minority', () => {
  beforeAll(() => {
    cluster.agents.get('node2')!.kill('SIGKILL');
  });

  it('/healthz turns 503 with the reason; the status says minority and not serving', async () => {
    const r = await eventually('node1 /healthz to fail', async () => {
      const x = await http(url(0, '/healthz'));
      return x.status === 503 ? x : undefined;
    });
    expect(r.body).toBe('minority: hears 1 of 3 nodes (node1), needs 2; answering REFUSED for cluster.test\n');
    const s = await status(0);
    expect(s).toMatchObject({ serving: false, minority: true, hears: ['node1'] });
    expect((await udpQuery(A[0], DNS, 'node1.cluster.test', 'A')).rcode).toBe('REFUSED');
    const m = await scrape(0);
    expect(m.value('clusterdns_serving')).toBe(0);
    expect(m.value('clusterdns_minority')).toBe(1);
  });

  it('clusterdns status exits 2: the only agent that answers does not serve', async () => {
    const out = await statusCli('--config', cluster.configPath);
    expect(out.code, out.stdout + out.stderr).toBe(2);
    expect(out.stdout).toMatch(/node1 is not answering cluster\.test: in the minority: hears node1 \(1 of 3, needs 2\)\n$/);
  });

  it('and exits 2 with every address tried once no agent answers', async () => {
    cluster.agents.get('node1')!.kill('SIGKILL');
    await cluster.agents.get('node1')!.exited;
    const out = await statusCli('--config', cluster.configPath);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^clusterdns: no agent answered on its HTTP API/);
    for (const a of A) expect(out.stderr).toContain(`http://${a}:${HTTP}/v1/status: connection refused`);
    expect(out.stderr).not.toMatch(/\n\s+at /);
  });
});
