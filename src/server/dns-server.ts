import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { ClusterDnsError } from '../errors';
import type { AnswerTable } from '../zone/compile';
import { literalLookup } from '../net/literal-lookup';
import { Guard, type RateLimitConfig } from './guard';
import { Responder, type Transport } from './responder';
import { LATENCY_SAMPLE_EVERY, QueryStats } from './stats';
import { FrameReader } from './tcp-framing';
import { LocalTally, type TcpTally } from './tcp-tally';

/**
 * SO_RCVBUF asked for each UDP socket: what queues while the thread is busy (a GC, a burst) instead
 * of being dropped by the kernel unseen and uncounted. Linux grants at most net.core.rmem_max (often
 * 208 KiB, about 200 small queries); NSD asks for 1 MiB by default (its `so-rcvbuf`).
 */
const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;

export interface DnsServerOptions {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly identity: string;
  readonly tcpIdleTimeoutMs: number;
  /** Over all the node's addresses together, as is the per-source cap. */
  readonly tcpMaxConnections: number;
  readonly tcpMaxConnectionsPerSource: number;
  /** Cookies are made under the first key and accepted under any (guard.ts, cookie-keys.ts). */
  readonly cookieKeys: readonly Uint8Array[];
  readonly rateLimit: RateLimitConfig;
  readonly stats?: QueryStats;
  /**
   * Bind with SO_REUSEPORT, so several answer threads each hold their own sockets on the same
   * address and port and the kernel spreads queries over them (src/answer/). Needs `reusePortWorks()`.
   */
  readonly reusePort?: boolean;
  /** Connection counts shared with the other answer threads (tcp-tally.ts); absent: this server's own. */
  readonly tally?: TcpTally;
}

/**
 * Whether UDP and TCP sockets take `reusePort` here: Linux (SO_REUSEPORT balances between sockets),
 * Node ≥ 22.12 (dgram and net learned the option in 23.1.0 and 22.12.0). Elsewhere one socket per
 * address and so one answer thread: Node 20 ignores the option and a second bind fails.
 */
export function reusePortWorks(version = process.versions.node, platform = process.platform): boolean {
  if (platform !== 'linux') return false;
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

/**
 * Stop reading a TCP client's queries while this many bytes of answers wait for it to read them:
 * a client pipelining queries it never reads costs about this much, not an answer per query sent.
 */
const TCP_WRITE_HIGH_WATER = 64 * 1024;
const NOTHING = Buffer.alloc(0);
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
  /** Each open connection's frame reader: at close, which ones are still mid-message. */
  private readonly tcpFrames = new Map<net.Socket, FrameReader>();
  private closing = false;
  /** Open TCP connections, in total and per client address (shared between answer threads). */
  private readonly tally: TcpTally;
  readonly stats: QueryStats;

  constructor(
    table: AnswerTable,
    private readonly opts: DnsServerOptions,
  ) {
    this.stats = opts.stats ?? new QueryStats();
    this.tally = opts.tally ?? new LocalTally();
    this.udpResponder = new Responder(table, { identity: opts.identity, stats: this.stats });
    this.tcpResponder = new Responder(table, { identity: opts.identity, stats: this.stats });
    this.setGuard(opts.cookieKeys, opts.rateLimit);
  }

  /**
   * Cookie keys and rate limits (at start, and on SIGHUP): a new guard with an empty rate table.
   * One guard for both transports: it keeps no state between a query and its answer.
   */
  setGuard(keys: readonly Uint8Array[], rateLimit: RateLimitConfig): void {
    const guard = new Guard({ rateLimit, keys }, this.stats);
    this.udpResponder.guard = guard;
    this.tcpResponder.guard = guard;
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
    const reuse = this.opts.reusePort ? { reusePort: true } : {};
    const sock = dgram.createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4', ipv6Only: isIPv6(address), lookup: literalLookup, recvBufferSize: UDP_RECEIVE_BUFFER, ...reuse } as dgram.SocketOptions);
    this.udp.push(sock);
    let n = 0;
    sock.on('message', (msg, rinfo) => {
      // An answer to port 0 cannot be sent (send() throws ERR_SOCKET_BAD_PORT): the source is spoofed
      // or broken, so it gets silence, decided before any DNS work.
      if (rinfo.port === 0) {
        this.stats.socketDrops['source-port']++;
        return;
      }
      const timed = ++n % LATENCY_SAMPLE_EVERY === 0;
      const t0 = timed ? performance.now() : 0;
      const out = this.respond(this.udpResponder, msg, 'udp', rinfo.address);
      if (out) {
        try {
          // No callback: a failed send surfaces as the socket's 'error' event (counted below).
          sock.send(out, rinfo.port, rinfo.address);
        } catch {
          // Synchronous refusals (socket closing under us): the answer is lost, the listener is not.
          this.stats.socketDrops['send-error']++;
        }
      }
      if (timed) this.stats.observeLatency((performance.now() - t0) / 1000);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address, port: this.opts.port, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', () => this.stats.socketDrops['send-error']++);
        resolve();
      });
    });
  }

  /** The Responder never throws on input; should a bug make it, that packet gets silence, not the node. */
  private respond(responder: Responder, msg: Buffer, transport: Transport, source: string): Buffer | undefined {
    try {
      return responder.respond(msg, transport, source);
    } catch {
      this.stats.socketDrops['internal-error']++;
      return undefined;
    }
  }

  private listenTcp(address: string): Promise<void> {
    const server = net.createServer({ noDelay: true }, (sock) => this.serveTcp(sock));
    this.tcp.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const reuse = this.opts.reusePort ? { reusePort: true } : {};
      server.listen({ host: address, port: this.opts.port, ipv6Only: isIPv6(address), ...reuse } as net.ListenOptions, () => {
        server.off('error', reject);
        // After listening, 'error' means a failed accept (EMFILE under a connection flood): without
        // a listener it would end the process; the server keeps accepting once descriptors free up.
        server.on('error', () => this.stats.socketDrops['accept-error']++);
        resolve();
      });
    });
  }

  /**
   * Length-prefixed messages, answered in order as they arrive (pipelining). A connection must
   * deliver a complete message every tcpIdleTimeout: the deadline moves only when one arrives, so
   * a client trickling bytes cannot hold a slot longer than an idle one (issue 9).
   */
  private serveTcp(sock: net.Socket): void {
    const source = sock.remoteAddress;
    const fromSource = source === undefined ? 0 : this.tally.from(source);
    if (source === undefined || this.tally.total() >= this.opts.tcpMaxConnections || fromSource >= this.opts.tcpMaxConnectionsPerSource) {
      if (source !== undefined) this.stats.socketDrops[fromSource >= this.opts.tcpMaxConnectionsPerSource ? 'tcp-source-limit' : 'tcp-limit']++;
      sock.on('error', () => undefined);
      sock.destroy();
      return;
    }
    this.tally.add(source);
    this.connections.add(sock);
    const deadline = setTimeout(() => {
      this.stats.socketDrops['tcp-timeout']++;
      sock.destroy();
    }, this.opts.tcpIdleTimeoutMs);
    sock.on('error', () => {
      this.stats.socketDrops['tcp-error']++;
      sock.destroy();
    });
    sock.on('close', () => {
      clearTimeout(deadline);
      this.connections.delete(sock);
      this.tally.remove(source);
    });
    const frames = new FrameReader();
    this.tcpFrames.set(sock, frames);
    sock.once('close', () => this.tcpFrames.delete(sock));
    let waiting = false;
    // Stopping: a connection is closed once what its client sent has been answered.
    const endIfDone = () => {
      if (this.closing && !waiting && frames.idle) sock.end();
    };
    const drained = () => {
      waiting = false;
      frames.push(NOTHING, answer);
      if (!waiting) sock.resume();
      endIfDone();
    };
    const answer = (msg: Buffer): boolean => {
      // A reset or an earlier failed write destroys the socket: stop answering what is still buffered.
      // While the client has not read what it was sent, its next queries wait (the reader holds them).
      if (sock.destroyed || waiting) return false;
      deadline.refresh();
      const out = this.respond(this.tcpResponder, msg, 'tcp', source);
      if (out && out.length <= MAX_TCP_MESSAGE) {
        const frame = Buffer.allocUnsafe(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        out.copy(frame, 2);
        sock.write(frame);
      }
      if (sock.writableLength > TCP_WRITE_HIGH_WATER) {
        waiting = true;
        sock.pause();
        sock.once('drain', drained);
      }
      return true;
    };
    sock.on('data', (chunk: Buffer) => {
      frames.push(chunk, answer);
      endIfDone();
    });
  }

  /**
   * Stops answering: closes listeners, lets TCP clients finish what they sent (a message partly
   * received is read and answered), then closes them; after `drainMs` whatever is left is cut.
   */
  async close(drainMs = 1000): Promise<void> {
    this.closing = true;
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
    // An idle connection ends now; one with a message partly received, once it is answered (ending
    // it at once made the answer a write after end: lost).
    for (const c of this.connections) if (this.tcpFrames.get(c)?.idle !== false) c.end();
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
