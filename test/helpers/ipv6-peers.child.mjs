#!/usr/bin/env node
// Runs inside a network namespace of its own (`unshare --user --map-root-user --net`, started by
// test/agent/ipv6-peers.test.ts): the only place a test without root can give the loopback several
// IPv6 addresses. Starts three real agents whose peers talk only over IPv6 (peerAddress
// 2001:db8:150::K), asks them over UDP, kills one, and prints one JSON line of what it saw:
//   { formed, formedMs, failover: { [agent]: answer }, failoverMs, peerSockets, error? }
// Every agent it started is killed before it exits, whatever happened.
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const packet = require('dns-packet');
const [cli, secret, port] = process.argv.slice(2);
const PORT = Number(port);
const nodes = [1, 2, 3].map((k) => ({ name: `node${k}`, address: `127.0.150.${k}`, peer: `2001:db8:150::${k}` }));
const dir = mkdtempSync(join(tmpdir(), 'clusterdns-ipv6-peers-'));
const agents = new Map();
const out = { formed: false };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ask(address, name) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve('TIMEOUT');
    }, 300);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      const r = packet.decode(m);
      resolve(r.rcode !== 'NOERROR' ? r.rcode : r.answers.filter((a) => a.type === 'A').map((a) => a.data).sort().join(',') || 'NODATA');
    });
    s.send(packet.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: `${name}.cluster.test` }] }), PORT, address);
  });
}

function start(name) {
  const p = spawn(process.execPath, [cli, 'agent', '--config', join(dir, 'cluster.yaml'), '--node', name], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLUSTERDNS_LOG_FORMAT: 'json' } });
  const a = { p, out: '' };
  p.stdout.on('data', (d) => (a.out += d));
  p.stderr.on('data', (d) => (a.out += d));
  agents.set(name, a);
  return a;
}

async function until(what, ok, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

const answers = (servers, names) => Promise.all(servers.flatMap((s) => names.map(async (n) => [s.name, n, await ask(s.address, n)])));

try {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  for (const n of nodes) execFileSync('ip', ['addr', 'add', `${n.peer}/128`, 'dev', 'lo', 'nodad']);
  writeFileSync(
    join(dir, 'cluster.yaml'),
    [
      'zone: cluster.test',
      'ttl: 5',
      `secret: "${secret}"`,
      `dns: { port: ${PORT} }`,
      `peer: { port: ${PORT + 1} }`,
      `http: { port: ${PORT + 2} }`,
      'nodes:',
      ...nodes.map((n) => `  - { name: ${n.name}, address: ${n.address}, peerAddress: "${n.peer}" }`),
      '',
    ].join('\n'),
  );
  const t0 = Date.now();
  for (const n of nodes) start(n.name);
  // Formed: every agent answers every node with its own address (it hears a majority, over IPv6).
  await until(() => answers(nodes, nodes.map((n) => n.name)), (rs) => rs.every(([, n, v]) => v === nodes.find((x) => x.name === n).address), 15_000);
  out.formed = true;
  out.formedMs = Date.now() - t0;
  // The peer sockets the agents hold: UDP on the IPv6 peer addresses only.
  out.peerSockets = execFileSync('ss', ['-H', '-uan', 'sport', `= :${PORT + 1}`], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .filter(Boolean)
    .sort();
  const killedAt = Date.now();
  agents.get('node2').p.kill('SIGKILL');
  const live = nodes.filter((n) => n.name !== 'node2');
  const r = await until(() => answers(live, ['node2']), (rs) => rs.every(([, , v]) => live.some((n) => n.address === v)), 5000);
  out.failoverMs = Date.now() - killedAt;
  out.failover = Object.fromEntries(r.map(([a, , v]) => [a, v]));
} catch (e) {
  out.error = `${e?.message ?? e}\n${[...agents].map(([n, a]) => `--- ${n}\n${a.out.slice(-1500)}`).join('\n')}`;
} finally {
  for (const a of agents.values()) a.p.kill('SIGKILL');
  await sleep(100);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
