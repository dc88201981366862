#!/usr/bin/env node
// Runs inside the lab's client namespace, whose /etc/resolv.conf (bind-mounted by `ip netns exec`
// from /etc/netns/<ns>/resolv.conf) names the lab's unbound: so every dns.lookup() here goes through
// getaddrinfo and the recursive resolver exactly as an application's would. For each name it keeps
// one Redis connection, writes SET every --every-ms, and on an error or a reply later than
// --timeout-ms drops the connection and resolves the name again (and on SIGUSR2, below). Prints NDJSON on stdout:
// {"t":ms,"n":name,"ok":true,"addr":ip} per successful write, {"t","n","ok":false,"err"} per failure.
//   node client.mjs --zone Z --names node1,node2 [--every-ms 100] [--timeout-ms 500]
import dns from 'node:dns';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    zone: { type: 'string' },
    names: { type: 'string' },
    'every-ms': { type: 'string', default: '100' },
    'timeout-ms': { type: 'string', default: '500' },
    port: { type: 'string', default: '6379' },
  },
});
const every = Number(o['every-ms']);
const timeoutMs = Number(o['timeout-ms']);
const out = (x) => process.stdout.write(`${JSON.stringify(x)}\n`);

function lookup(host) {
  return new Promise((resolve, reject) => dns.lookup(host, { family: 4 }, (err, addr) => (err ? reject(err) : resolve(addr))));
}

function connect(addr) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: addr, port: Number(o.port) });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function setOnce(s, key, value) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error('reply timeout')), timeoutMs);
    const onData = (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+OK') ? null : new Error(`reply ${buf.trim()}`));
    };
    const onErr = (e) => done(e);
    const onClose = () => done(new Error('closed'));
    function done(err) {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('error', onErr);
      s.off('close', onClose);
      err ? reject(err) : resolve();
    }
    s.on('data', onData);
    s.once('error', onErr);
    s.once('close', onClose);
    s.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`);
  });
}

// SIGUSR2: drop every connection and resolve again (the lab does it before each scenario, so the
// client writes to each name's own node, not to where an earlier failover left it).
let generation = 0;
process.on('SIGUSR2', () => generation++);

async function loop(name) {
  const host = `${name}.${o.zone}`;
  let s = null;
  let addr = '';
  let gen = generation;
  for (let i = 0; ; i++) {
    const started = Date.now();
    if (gen !== generation) {
      gen = generation;
      s?.destroy();
      s = null;
    }
    try {
      if (!s) {
        addr = await lookup(host);
        s = await connect(addr);
        s.on('error', () => undefined);
      }
      await setOnce(s, `lab:${name}`, String(i));
      out({ t: Date.now(), n: name, ok: true, addr });
    } catch (e) {
      out({ t: Date.now(), n: name, ok: false, err: String(e.code ?? e.message), addr });
      s?.destroy();
      s = null;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, every - (Date.now() - started))));
  }
}

for (const n of o.names.split(',')) loop(n);
process.on('SIGTERM', () => process.exit(0));
