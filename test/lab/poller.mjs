#!/usr/bin/env node
// Runs inside the lab's observer namespace: asks every agent for every node and name-server name
// (A) at a fixed rate over one UDP socket and prints, as NDJSON on stdout, every change of what an
// agent answers for a name: {"t":ms,"a":agent,"n":name,"v":value}. `v` is the sorted addresses
// joined by ",", an rcode name (REFUSED, SERVFAIL, NXDOMAIN), NODATA, TRUNCATED, or TIMEOUT. A round's answers
// are stamped with the round's send time; a late answer never overwrites a newer round's. When every
// query of a round has its answer or has timed out, it prints {"r":t} (t: the round's send time):
// the proof the poller is alive and sampled every (agent, name) pair then (invariant 0).
//   node poller.mjs --zone Z --agents node1=198.51.100.11,... --names node1,ns1,... [--hz 20] [--timeout-ms 250]
import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const packet = require('dns-packet');

const { values: o } = parseArgs({
  options: {
    zone: { type: 'string' },
    agents: { type: 'string' },
    names: { type: 'string' },
    hz: { type: 'string', default: '20' },
    'timeout-ms': { type: 'string', default: '250' },
    port: { type: 'string', default: '53' },
  },
});
const agents = o.agents.split(',').map((s) => s.split('='));
const names = o.names.split(',');
const period = 1000 / Number(o.hz);
const timeoutMs = Number(o['timeout-ms']);
const port = Number(o.port);

const last = new Map(); // key -> { round, v }
const pending = new Map(); // id -> { key, round, t, timer }
const open = new Map(); // round -> { t, left }: queries of the round not yet answered or timed out
let nextId = 1;
let round = 0;

function emit(key, r, t, v) {
  const cur = last.get(key);
  if (cur && cur.round > r) return;
  if (cur && cur.v === v) {
    cur.round = r;
    return;
  }
  last.set(key, { round: r, v });
  const [a, n] = key.split('|');
  process.stdout.write(`${JSON.stringify({ t, a, n, v })}\n`);
}

function valueOf(res) {
  // TC=1 with no records: rate limiting's "retry over TCP" (or a broken agent). The poller has a
  // client prefix of its own (the flood comes from another), so the checker counts it as no answer.
  if (res.flag_tc) return 'TRUNCATED';
  if (res.rcode !== 'NOERROR') return res.rcode;
  const as = res.answers.filter((x) => x.type === 'A').map((x) => x.data).sort();
  return as.length ? as.join(',') : 'NODATA';
}

const sock = dgram.createSocket('udp4');
sock.on('error', () => undefined);
sock.on('message', (m) => {
  let res;
  try {
    res = packet.decode(m);
  } catch {
    return;
  }
  const p = pending.get(res.id);
  if (!p) return;
  pending.delete(res.id);
  clearTimeout(p.timer);
  emit(p.key, p.round, p.t, valueOf(res));
  sampled(p.round);
});

function sampled(r) {
  const o = open.get(r);
  if (!o || --o.left > 0) return;
  open.delete(r);
  process.stdout.write(`${JSON.stringify({ r: o.t })}\n`);
}

function ask(agent, addr, name, r, t) {
  const key = `${agent}|${name}`;
  let id = nextId++ & 0xffff;
  if (id === 0) id = nextId++ & 0xffff;
  const old = pending.get(id);
  if (old) {
    // An id reused while its query is still open (not at 20 Hz: ids wrap after 65,535 queries):
    // that query is never resolved, so its round never counts as sampled.
    clearTimeout(old.timer);
  }
  const timer = setTimeout(() => {
    if (pending.get(id)?.round === r) {
      pending.delete(id);
      emit(key, r, t, 'TIMEOUT');
      sampled(r);
    }
  }, timeoutMs);
  pending.set(id, { key, round: r, t, timer });
  const q = packet.encode({ type: 'query', id, flags: 0, questions: [{ type: 'A', name: `${name}.${o.zone}` }] });
  sock.send(q, port, addr, () => undefined);
}

sock.bind(0, () => {
  process.stdout.write(`${JSON.stringify({ ready: true, t: Date.now() })}\n`);
  // Rounds are scheduled against the monotonic clock so a slow round does not shift the rest.
  const start = performance.now();
  const tick = () => {
    const r = round++;
    const t = Date.now();
    open.set(r, { t, left: agents.length * names.length });
    for (const [agent, addr] of agents) for (const n of names) ask(agent, addr, n, r, t);
    const next = start + round * period;
    setTimeout(tick, Math.max(0, next - performance.now()));
  };
  tick();
});
process.on('SIGTERM', () => process.exit(0));
