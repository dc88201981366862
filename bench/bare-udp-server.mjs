#!/usr/bin/env node
// The platform's ceiling for `npm run bench -- --threads` (issue 17): a bare Node UDP server that
// answers each query with a pre-built answer, copied and given the query's id. No parsing beyond
// finding the end of the question, no guard, no counters, no address lookup: what any Node DNS server
// pays per datagram at the least (receive, one Map lookup, one copy, send), to compare the agent's
// answer path with.
//
//   node bench/bare-udp-server.mjs --address 127.0.230.3 --port 5399 --threads 2 --answers answers.json
//
// answers.json: [{ "q": hex of the question (name as asked, type, class), "a": hex answer with DO=0,
// "s": hex answer with DO=1 }]. One thread answers on the main thread (as the agent with
// dns.workers: 1); N ≥ 2 threads are worker threads, each with its own socket bound with reusePort
// (SO_REUSEPORT: Node ≥ 22.12 on Linux), as the agent's answer threads. Prints "ready" once every
// socket is bound; a query it has no answer for gets no answer (counted, printed at exit).

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const SO_RCVBUF = 4 * 1024 * 1024; // as the agent's sockets (src/server/dns-server.ts)

function parse(argv) {
  const o = { address: '', port: 0, threads: 1, answers: '' };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (v === undefined) fail(`${argv[i]} needs a value`);
    if (argv[i] === '--address') o.address = v;
    else if (argv[i] === '--port') o.port = Number(v);
    else if (argv[i] === '--threads') o.threads = Number(v);
    else if (argv[i] === '--answers') o.answers = v;
    else fail(`unknown option ${argv[i]}`);
    i++;
  }
  if (!o.address || !o.answers || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535 || !Number.isInteger(o.threads) || o.threads < 1)
    fail('usage: bare-udp-server.mjs --address ADDR --port N --threads N --answers FILE');
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (o.threads > 1 && !(process.platform === 'linux' && (major > 22 || (major === 22 && minor >= 12))))
    fail(`--threads ${o.threads} needs SO_REUSEPORT for UDP: Node >= 22.12 on Linux (this is ${process.versions.node} on ${process.platform})`);
  return o;
}

function fail(msg) {
  process.stderr.write(`bare-udp-server: ${msg}\n`);
  process.exit(2);
}

/** Binds one socket and answers on it; resolves once bound. */
function serve({ address, port, answers, reusePort }) {
  const plain = new Map();
  const signed = new Map();
  for (const { q, a, s } of answers) {
    const key = Buffer.from(q, 'hex').toString('latin1');
    plain.set(key, Buffer.from(a, 'hex'));
    signed.set(key, Buffer.from(s, 'hex'));
  }
  const stats = { answered: 0, unknown: 0 };
  // The cheapest lookup there is (an IPv4 literal is its own answer): Node's default runs dns.lookup
  // and a process.nextTick per datagram sent, which would lower the ceiling.
  const lookup = (address, _opts, cb) => cb(null, address, 4);
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: SO_RCVBUF, lookup, ...(reusePort ? { reusePort: true } : {}) });
  sock.on('message', (msg, rinfo) => {
    // The question: the name's labels from offset 12, then type and class.
    let i = 12;
    while (i < msg.length && msg[i] !== 0) i += msg[i] + 1;
    const qEnd = i + 5;
    if (qEnd > msg.length || rinfo.port === 0) return;
    // DO is the top bit of the OPT record's flags, the first additional record (dnsperf sends only
    // OPT): name (1 byte, root), type (2), class (2), extended rcode (1), version (1), flags (2).
    const pre = (qEnd + 9 <= msg.length && (msg[qEnd + 7] & 0x80) !== 0 ? signed : plain).get(msg.toString('latin1', 12, qEnd));
    if (!pre) {
      stats.unknown++;
      return;
    }
    const out = Buffer.allocUnsafe(pre.length);
    pre.copy(out);
    out[0] = msg[0];
    out[1] = msg[1];
    stats.answered++;
    sock.send(out, rinfo.port, rinfo.address);
  });
  sock.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address, port, exclusive: true }, () => resolve(stats));
  });
}

if (isMainThread) {
  const o = parse(process.argv.slice(2));
  let answers;
  try {
    answers = JSON.parse(readFileSync(o.answers, 'utf8'));
    if (!Array.isArray(answers) || answers.some((x) => typeof x?.q !== 'string' || typeof x.a !== 'string' || typeof x.s !== 'string')) throw new Error('not a list of {q, a, s} hex strings');
  } catch (e) {
    fail(`cannot read ${o.answers}: ${e.message}`);
  }
  const totals = [];
  const exit = () => {
    const sum = totals.reduce((t, s) => ({ answered: t.answered + s.answered, unknown: t.unknown + s.unknown }), { answered: 0, unknown: 0 });
    process.stdout.write(`answered ${sum.answered}, no answer for ${sum.unknown}\n`);
    process.exit(0);
  };
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
  try {
    if (o.threads === 1) {
      totals.push(await serve({ ...o, answers, reusePort: false }));
    } else {
      await Promise.all(
        Array.from({ length: o.threads }, (_, index) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { ...o, answers, reusePort: true }, name: `bare-${index + 1}` });
          const stats = { answered: 0, unknown: 0 };
          totals.push(stats);
          w.on('message', (m) => Object.assign(stats, m));
          return new Promise((resolve, reject) => {
            w.once('message', resolve);
            w.once('error', reject);
          });
        }),
      );
      // The threads report their counts every second, so the exit line has them.
    }
  } catch (e) {
    fail(`cannot listen on ${o.address}:${o.port}: ${e.message}`);
  }
  process.stdout.write('ready\n');
} else {
  const stats = await serve(workerData);
  parentPort.postMessage({ ...stats });
  setInterval(() => parentPort.postMessage({ ...stats }), 1000);
}
