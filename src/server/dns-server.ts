import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ClusterDnsError } from '../errors';
import type { AnswerTable } from '../zone/compile';
import { Responder } from './responder';
import { LATENCY_SAMPLE_EVERY, type QueryStats } from './stats';

export interface DnsServerOptions {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly identity: string;
  readonly tcpIdleTimeoutMs: number;
  readonly tcpMaxConnections: number;
  readonly stats?: QueryStats;
}

/** Pause reading a TCP client that does not read its answers past this many buffered bytes. */
const TCP_WRITE_HIGH_WATER = 1 << 20;
const MAX_TCP_MESSAGE = 65535;

/**
 * UDP and TCP (RFC 7766) listeners on each of the node's addresses, sharing one Responder per
 * transport. The answer table is swapped by one assignment (`setTable`).
 */
export class DnsServer {
  private readonly udpResponder: Responder;
  private readonly tcpResponder: Responder;
  private readonly udp: dgram.Socket[] = [];
  private readonly tcp: net.Server[] = [];
  private readonly connections = new Set<net.Socket>();
  readonly stats: QueryStats;
  sendErrors = 0;

  constructor(
    table: AnswerTable,
    private readonly opts: DnsServerOptions,
  ) {
    this.udpResponder = new Responder(table, { identity: opts.identity, stats: opts.stats });
    this.stats = this.udpResponder.stats;
    this.tcpResponder = new Responder(table, { identity: opts.identity, stats: this.stats });
  }

  setTable(table: AnswerTable): void {
    this.udpResponder.table = table;
    this.tcpResponder.table = table;
  }

  get table(): AnswerTable {
    return this.udpResponder.table;
  }

  async listen(): Promise<void> {
    for (const address of this.opts.addresses) {
      try {
        await this.listenUdp(address);
        await this.listenTcp(address);
      } catch (e) {
        await this.close();
        throw listenError(e as NodeJS.ErrnoException, address, this.opts.port);
      }
    }
  }

  private listenUdp(address: string): Promise<void> {
    const sock = dgram.createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', ipv6Only: isIPv6(address), lookup: literalLookup });
    this.udp.push(sock);
    let n = 0;
    sock.on('message', (msg, rinfo) => {
      const timed = ++n % LATENCY_SAMPLE_EVERY === 0;
      const t0 = timed ? performance.now() : 0;
      const out = this.udpResponder.respond(msg, 'udp');
      // No callback: a failed send surfaces as the socket's 'error' event (counted below).
      if (out) sock.send(out, rinfo.port, rinfo.address);
      if (timed) this.stats.observeLatency((performance.now() - t0) / 1000);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address, port: this.opts.port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', () => this.sendErrors++);
        resolve();
      });
    });
  }

  private listenTcp(address: string): Promise<void> {
    const server = net.createServer({ noDelay: true }, (sock) => this.serveTcp(sock));
    server.maxConnections = this.opts.tcpMaxConnections;
    this.tcp.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port: this.opts.port, ipv6Only: isIPv6(address) }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Length-prefixed messages, answered in order as they arrive (pipelining), idle timeout. */
  private serveTcp(sock: net.Socket): void {
    this.connections.add(sock);
    sock.setTimeout(this.opts.tcpIdleTimeoutMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.connections.delete(sock));
    let pending: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const out = this.tcpResponder.respond(msg, 'tcp');
        if (out && out.length <= MAX_TCP_MESSAGE) {
          const frame = Buffer.allocUnsafe(2 + out.length);
          frame.writeUInt16BE(out.length, 0);
          out.copy(frame, 2);
          sock.write(frame);
        }
      }
      if (sock.writableLength > TCP_WRITE_HIGH_WATER) {
        sock.pause();
        sock.once('drain', () => sock.resume());
      }
    });
  }

  /** Stops answering: closes listeners, lets TCP clients finish what they sent, then closes them. */
  async close(drainMs = 1000): Promise<void> {
    for (const s of this.udp) {
      try {
        s.close();
      } catch {
        /* not bound yet */
      }
    }
    this.udp.length = 0;
    const closing = this.tcp.map((s) => new Promise<void>((r) => s.close(() => r())));
    this.tcp.length = 0;
    for (const c of this.connections) c.end();
    const timer = setTimeout(() => {
      for (const c of this.connections) c.destroy();
    }, drainMs);
    await Promise.all(closing);
    clearTimeout(timer);
  }
}

/**
 * Replies go to the address a query came from, always an IP literal: answering the lookup at once
 * saves the default lookup's deferred callback on every send.
 */
function literalLookup(address: string, _opts: unknown, cb: (err: null, address: string, family: number) => void): void {
  cb(null, address, isIPv6(address) ? 6 : 4);
}

function listenError(err: NodeJS.ErrnoException, address: string, port: number): ClusterDnsError {
  const hint =
    err.code === 'EADDRINUSE'
      ? 'another process already listens there: stop it, or change dns.port'
      : err.code === 'EACCES'
        ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE (see deploy/clusterdns.service)'
        : err.code === 'EADDRNOTAVAIL'
          ? "this machine does not have that address: check the node's address in the config, and --node"
          : 'check the address and port';
  return new ClusterDnsError('LISTEN_FAILED', `cannot listen for DNS on ${address} port ${port}: ${err.code ?? err.message} — ${hint}`);
}
