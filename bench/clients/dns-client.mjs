#!/usr/bin/env node
// A Redis client that finds its server by name, the way most clients do: resolve the name on every
// (re)connect through the resolver, keep the connection while it works, drop it on any error.
// Every --interval ms it writes a key and reads it back, and prints one JSON line per operation:
//   {"start": ms, "at": ms, "write": bool, "read": bool, "addr": "ip" | null, "err": "..."}
// (wall-clock ms, so the bench can line them up with its kill). bench/clients.mjs runs it; a client
// of another kind (Sentinel) only needs to print the same lines.
//
//   node bench/clients/dns-client.mjs --name redis.cluster.test --resolver 127.0.114.53:5453 --port 6390
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    name: { type: 'string' },
    resolver: { type: 'string' },
    port: { type: 'string', default: '6379' },
    interval: { type: 'string', default: '50' },
    'deadline-ms': { type: 'string', default: '1000' },
    key: { type: 'string', default: `bench:${process.pid}` },
  },
});
if (!args.name || !args.resolver) throw new Error('usage: dns-client.mjs --name NAME --resolver IP:PORT [--port 6379] [--interval 50] [--deadline-ms 1000]');
const PORT = Number(args.port);
const INTERVAL = Number(args.interval);
const DEADLINE = Number(args['deadline-ms']);

// c-ares, asked directly: no cache in the client (as glibc's getaddrinfo), so every reconnect
// asks the resolver, whose cache holds the answer for its TTL. Timeouts like a stub resolver's.
const resolver = new Resolver({ timeout: 1000, tries: 2 });
resolver.setServers([args.resolver]);

/** One connection and its reply queue: RESP2 replies of the kinds SET and GET give. */
class Conn {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.dead = null;
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (let r; this.waiting.length && (r = this.parse()) !== undefined; ) this.waiting.shift().resolve(r);
    });
    const fail = (e) => {
      this.dead = e ?? new Error('closed');
      for (const w of this.waiting.splice(0)) w.reject(this.dead);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('closed by server')));
  }
  parse() {
    const end = this.buf.indexOf('\r\n');
    if (end < 0) return undefined;
    const line = this.buf.subarray(0, end).toString();
    if (line[0] === '$') {
      const n = Number(line.slice(1));
      if (n < 0) return ((this.buf = this.buf.subarray(end + 2)), null);
      if (this.buf.length < end + 2 + n + 2) return undefined;
      const v = this.buf.subarray(end + 2, end + 2 + n).toString();
      this.buf = this.buf.subarray(end + 4 + n);
      return v;
    }
    this.buf = this.buf.subarray(end + 2);
    if (line[0] === '-') return new Error(line.slice(1));
    return line.slice(1);
  }
  command(...parts) {
    if (this.dead) return Promise.reject(this.dead);
    this.sock.write(`*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  close() {
    this.sock.destroy();
  }
}

const within = (p, what) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no reply in ${DEADLINE} ms`)), DEADLINE);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });

async function connect() {
  const [addr] = await within(resolver.resolve4(args.name), 'resolve');
  const sock = net.connect({ host: addr, port: PORT, noDelay: true });
  await within(
    new Promise((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    }),
    `connect ${addr}`,
  ).catch((e) => {
    sock.destroy();
    throw Object.assign(e, { addr });
  });
  return { conn: new Conn(sock), addr };
}

let current = null;
let n = 0;
let stopping = false;
process.on('SIGTERM', () => (stopping = true));

while (!stopping) {
  const start = Date.now();
  const line = { start, at: 0, write: false, read: false, addr: current?.addr ?? null };
  try {
    if (!current) current = await connect();
    line.addr = current.addr;
    const value = String(++n);
    const w = await within(current.conn.command('SET', args.key, value), 'SET');
    if (w instanceof Error) throw w;
    line.write = true;
    line.at = Date.now();
    const r = await within(current.conn.command('GET', args.key), 'GET');
    line.read = r === value;
    if (!line.read) line.err = `GET gave ${r}`;
  } catch (e) {
    line.err = e.code ?? e.message;
    if (e.addr) line.addr = e.addr;
    current?.conn.close();
    current = null;
  }
  if (!line.at) line.at = Date.now();
  process.stdout.write(`${JSON.stringify(line)}\n`);
  const wait = start + INTERVAL - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
current?.conn.close();
