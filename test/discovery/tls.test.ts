import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import Redis from 'ioredis';
import { createClient } from 'redis6';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../helpers/cluster';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { command, discoveryCluster, exchange, until } from './helpers';

/**
 * The discovery service over TLS (discovery.tls, as Redis's tls-port …), with certificates made
 * here by openssl: redis-cli --tls and redis-py ssl=True find the master, client certificates are
 * required (authClients: yes), and SIGHUP reads renewed certificate files. Block: 127.0.176.0/24.
 */

const HOST = '127.0.176.1';
const DNS_PORT = 6671;
const PORT = 6674;
const TLS_PORT = 6675;
const dir = mkdtempSync(join(tmpdir(), 'clusterdns-tls-'));
const f = (n: string) => join(dir, n);
let cluster: TestCluster | undefined;

async function openssl(...args: string[]): Promise<void> {
  const r = await run(requireTool('openssl'), args, { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, a server certificate for HOST (serial `serial`) and a client certificate, all signed by the CA. */
async function makeCerts(serial: string): Promise<void> {
  await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=clusterdns test CA');
  writeFileSync(f('server.ext'), `subjectAltName=IP:${HOST}\n`);
  for (const who of ['server', 'client']) {
    await openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`);
    await openssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-set_serial', serial, '-days', '2', '-out', f(`${who}.pem`), ...(who === 'server' ? ['-extfile', f('server.ext')] : []));
  }
}

const cli = (extra: string[]) =>
  run(requireTool('redis-cli'), ['-h', HOST, '-p', String(TLS_PORT), '--tls', '--cacert', f('ca.pem'), ...extra, 'SENTINEL', 'get-master-addr-by-name', 'cache'], { timeoutMs: 5000 });

beforeAll(async () => {
  await makeCerts('0x1001');
  cluster = discoveryCluster({
    nodes: [{ name: 'node1', address: HOST }],
    dnsPort: DNS_PORT,
    discoveryPort: PORT,
    discovery: `tls: { port: ${TLS_PORT}, certFile: ${f('server.pem')}, keyFile: ${f('server.key')}, caFile: ${f('ca.pem')}, authClients: yes }`,
    services: ['{ name: cache, port: 6379 }'],
  });
  await cluster.startAgent('node1');
  await until('serving', () => exchange(HOST, PORT, [command('SENTINEL', 'get-master-addr-by-name', 'cache')]), (r) => r.text.startsWith('*2'), 10_000);
}, 60_000);

afterAll(async () => {
  await cluster?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The serial number of the certificate the TLS port presents now. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port: TLS_PORT, ca: readFile('ca.pem'), cert: readFile('client.pem'), key: readFile('client.key') }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.on('error', reject);
  });
}
const readFile = (n: string) => readFileSync(f(n));

describe('discovery over TLS', () => {
  it('redis-cli --tls with a client certificate finds the master; without one the handshake is refused', async () => {
    const ok = await cli(['--cert', f('client.pem'), '--key', f('client.key')]);
    expect(ok.stdout.trim().split('\n')).toEqual([HOST, '6379']);
    const refused = await cli([]);
    expect(refused.stdout).not.toContain(HOST);
  });

  it('redis-py Sentinel with ssl=True finds the master', async () => {
    const py = `
from redis.sentinel import Sentinel
s = Sentinel([("${HOST}", ${TLS_PORT})], socket_timeout=2, sentinel_kwargs={"ssl": True, "ssl_ca_certs": "${f('ca.pem')}", "ssl_certfile": "${f('client.pem')}", "ssl_keyfile": "${f('client.key')}", "socket_timeout": 2})
print("%s:%d" % s.discover_master("cache"))
`;
    const r = await run('/usr/bin/python3', ['-c', py], { timeoutMs: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`${HOST}:6379`);
  });

  it('node-redis and ioredis over TLS ask the discovery service', async () => {
    const nr = createClient({ socket: { host: HOST, port: TLS_PORT, tls: true, ca: readFile('ca.pem'), cert: readFile('client.pem'), key: readFile('client.key'), reconnectStrategy: false } });
    nr.on('error', () => undefined);
    await nr.connect();
    try {
      expect(await nr.sendCommand(['SENTINEL', 'get-master-addr-by-name', 'cache'])).toEqual([HOST, '6379']);
    } finally {
      nr.destroy();
    }
    const io = new Redis({ host: HOST, port: TLS_PORT, tls: { ca: readFile('ca.pem'), cert: readFile('client.pem'), key: readFile('client.key') }, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    io.on('error', () => undefined);
    try {
      await io.connect();
      expect(await io.call('SENTINEL', 'get-master-addr-by-name', 'cache')).toEqual([HOST, '6379']);
    } finally {
      io.disconnect();
    }
  });

  it('300 handshakes never finished from one address do not keep another address from the TLS port', async () => {
    const raw: import('node:net').Socket[] = [];
    const net = await import('node:net');
    try {
      for (let i = 0; i < 300; i++) raw.push(net.connect({ host: HOST, port: TLS_PORT, localAddress: '127.0.176.50' }).on('error', () => undefined));
      await new Promise((r) => setTimeout(r, 1000));
      expect(raw.filter((s) => !s.destroyed).length).toBe(128);
      const master = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: HOST, port: TLS_PORT, localAddress: '127.0.176.51', ca: readFile('ca.pem'), cert: readFile('client.pem'), key: readFile('client.key') }, () => s.write(command('SENTINEL', 'get-master-addr-by-name', 'cache')));
        let got = '';
        s.on('data', (d) => {
          got += d.toString();
          if (got.endsWith('6379\r\n')) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        setTimeout(() => resolve(got), 3000);
      });
      expect(master).toBe(`*2\r\n$${HOST.length}\r\n${HOST}\r\n$4\r\n6379\r\n`);
      // Each closed connection gives its slot back: 150 in a row from one address all get in.
      for (let i = 0; i < 150; i++) {
        await new Promise<void>((resolve, reject) => {
          const s = tls.connect({ host: HOST, port: TLS_PORT, localAddress: '127.0.176.52', ca: readFile('ca.pem'), cert: readFile('client.pem'), key: readFile('client.key') }, () => s.write(command('PING')));
          let answered = false;
          s.on('data', () => {
            answered = true;
            s.end();
          });
          s.on('close', () => (answered ? resolve() : reject(new Error(`connection ${i} closed unanswered`))));
          s.on('error', reject);
        });
      }
    } finally {
      for (const s of raw) s.destroy();
    }
  });

  it('SIGHUP reads renewed certificate files: new connections get the new certificate', async () => {
    expect(await servedSerial()).toBe('1001');
    // Renewed under the same names (a new CA too: clients here trust the files they read).
    await makeCerts('0x2002');
    cluster!.agents.get('node1')!.child.kill('SIGHUP');
    await until('the new certificate is served', () => servedSerial(), (s) => s === '2002', 5000);
    const ok = await cli(['--cert', f('client.pem'), '--key', f('client.key')]);
    expect(ok.stdout.trim().split('\n')).toEqual([HOST, '6379']);
  });
});
