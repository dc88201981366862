import { isIPv6 } from 'node:net';
import net from 'node:net';
import type { ClusterConfig, NodeConfig } from '../config/types';
import { ClusterDnsError } from '../errors';
import type { ZoneInputs } from '../zone/inputs';
import { addressOf, discoveryAddresses, scopeFor } from './addresses';
import { encode, error, type Reply, RequestParser, type RequestLimits } from './resp';
import { type Context, execute, knownMasters, type Master, type Session, switchMessages } from './sentinel';

interface DiscoveryLimits extends RequestLimits {
  /** Open connections; the next one gets Redis's "max number of clients" error and is closed. */
  readonly maxConnections: number;
  /** Bytes held for one unfinished request (its arguments so far plus the current one). */
  readonly maxRequest: number;
  /** Replies queued for a client that does not read; past it the connection is closed (Redis's
   * client-output-buffer-limit, hard). */
  readonly maxOutput: number;
  /** A request begun and not finished within this time is an error (a slow or stuck sender). */
  readonly requestTimeoutMs: number;
}

const DEFAULT_LIMITS: DiscoveryLimits = {
  maxInline: 64 * 1024,
  maxArgs: 1024,
  maxBulk: 64 * 1024,
  maxConnections: 1024,
  maxRequest: 1024 * 1024,
  maxOutput: 1024 * 1024,
  requestTimeoutMs: 5000,
};

/** Counters the metrics read at scrape time; the connection path only increments integers. */
export class DiscoveryStats {
  connections = 0;
  /** The cap on `connections` (limits.maxConnections), for an alert before it is reached. */
  maxConnections = 0;
  connectionsTotal = 0;
  /** Command name (lowercase, known ones only; the rest are `unknown`) → count. */
  readonly commands = new Map<string, number>();
  /** Why connections were closed or replies were errors. */
  readonly errors = { reply: 0, protocol: 0, 'output-limit': 0, timeout: 0, 'max-clients': 0 };
  switchMessages = 0;
}

const KNOWN = new Set(['ping', 'role', 'sentinel', 'client', 'info', 'auth', 'hello', 'quit', 'subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);

interface Connection {
  readonly sock: net.Socket;
  readonly session: Session;
  readonly parser: RequestParser;
  timer: NodeJS.Timeout | undefined;
  /** Commands parsed from the last read, run from `next` on. */
  queue: string[][];
  next: number;
  protocolError: string | undefined;
}

/** Commands run per turn of the event loop for one connection. */
const BATCH = 64;

/**
 * The Sentinel-protocol listener. It holds the masters derived from the last published zone inputs
 * (`update`, called on every change of answers) and answers from them; it never calls back into the
 * DNS path, and `update` only swaps a reference and schedules the pushes.
 */
export class DiscoveryServer {
  readonly stats = new DiscoveryStats();
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  private masters: readonly Master[] = [];
  private upNodes: ReadonlySet<string> = new Set();
  /** The last master told per service: a `+switch-master` goes out when it changes. Kept while the
   * service is unknown, so a minority spell followed by a new master still says where it moved. */
  private readonly lastMaster = new Map<string, Master>();
  private nextId = 1;
  private readonly startedAt = Date.now();
  private readonly limits: DiscoveryLimits;

  constructor(
    private config: ClusterConfig,
    private readonly self: NodeConfig,
    private readonly opts: { addresses: readonly string[]; limits?: Partial<DiscoveryLimits> },
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.stats.maxConnections = this.limits.maxConnections;
  }

  /** New published inputs: swap what is answered, push `+switch-master` for every moved service. */
  update(config: ClusterConfig, inputs: ZoneInputs): void {
    this.config = config;
    this.masters = knownMasters(config, inputs);
    this.upNodes = new Set(inputs.upNodes);
    const moved: Array<[Master, Master]> = [];
    for (const m of this.masters) {
      const before = this.lastMaster.get(m.name);
      if (before && (before.node.name !== m.node.name || before.port !== m.port)) moved.push([before, m]);
      this.lastMaster.set(m.name, m);
    }
    // The agent emits from its publish step: the writes happen on the next turn, off that path.
    if (moved.length) setImmediate(() => this.pushSwitches(moved));
  }

  private pushSwitches(moved: ReadonlyArray<[Master, Master]>): void {
    for (const c of this.connections) {
      if (c.session.channels.size + c.session.patterns.size === 0) continue;
      for (const [from, to] of moved) {
        const scope = c.session.scope;
        const payload = `${to.name} ${addressOf(from.node, scope)} ${from.port} ${addressOf(to.node, scope)} ${to.port}`;
        for (const r of switchMessages(c.session, payload)) {
          this.stats.switchMessages++;
          if (!this.send(c, r)) break;
        }
      }
    }
  }

  async listen(): Promise<void> {
    for (const address of this.opts.addresses) {
      const server = net.createServer({ noDelay: true }, (sock) => this.accept(sock));
      this.servers.push(server);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: address, port: this.config.discovery.port, ipv6Only: isIPv6(address) }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        await this.close();
        throw listenError(e as NodeJS.ErrnoException, address, this.config.discovery.port);
      }
    }
  }

  private accept(sock: net.Socket): void {
    this.stats.connectionsTotal++;
    sock.on('error', () => sock.destroy());
    if (this.connections.size >= this.limits.maxConnections) {
      this.stats.errors['max-clients']++;
      this.closeWith(sock, error('ERR max number of clients reached'));
      return;
    }
    const session: Session = {
      id: this.nextId++,
      scope: scopeFor(this.self, sock.localAddress),
      proto: 2,
      name: undefined,
      authenticated: this.config.discovery.password === undefined,
      channels: new Set(),
      patterns: new Set(),
    };
    const c: Connection = { sock, session, parser: new RequestParser(this.limits, () => session.authenticated), timer: undefined, queue: [], next: 0, protocolError: undefined };
    this.connections.add(c);
    this.stats.connections++;
    sock.on('close', () => {
      clearTimeout(c.timer);
      if (this.connections.delete(c)) this.stats.connections--;
    });
    sock.on('data', (chunk: Buffer) => this.onData(c, chunk));
  }

  private onData(c: Connection, chunk: Buffer): void {
    const { commands, error: protocolError } = c.parser.feed(chunk);
    c.queue = commands;
    c.next = 0;
    c.protocolError = protocolError;
    this.work(c);
  }

  /**
   * Runs queued commands, at most BATCH per turn of the event loop: a pipelined flood must not keep
   * DNS packets waiting. While a chunk's commands are queued the socket is paused, so the queue
   * never holds more than one read's worth.
   */
  private work(c: Connection): void {
    const ctx = this.context();
    for (let n = 0; c.next < c.queue.length; n++) {
      if (c.sock.destroyed) return;
      if (n === BATCH) {
        c.sock.pause();
        setImmediate(() => this.work(c));
        return;
      }
      const args = c.queue[c.next++];
      const name = args[0].toLowerCase();
      const counted = KNOWN.has(name) ? name : 'unknown';
      this.stats.commands.set(counted, (this.stats.commands.get(counted) ?? 0) + 1);
      const out = execute(args, c.session, ctx);
      for (const r of out.replies) {
        if (r.t === 'error') this.stats.errors.reply++;
        if (!this.send(c, r)) return;
      }
      if (out.close) {
        c.sock.end();
        return;
      }
    }
    const progressed = c.queue.length > 0;
    c.queue = [];
    if (c.sock.destroyed) return;
    if (c.protocolError) {
      this.stats.errors.protocol++;
      this.closeWith(c.sock, error(`ERR ${c.protocolError}`), c.session.proto);
      return;
    }
    if (c.parser.held > this.limits.maxRequest) {
      this.stats.errors.protocol++;
      this.closeWith(c.sock, error('ERR Protocol error: request too large'), c.session.proto);
      return;
    }
    // A request left unfinished must finish in time: the bytes held for it are bounded, the
    // connection slot it holds is not. The clock starts with each request, so a client streaming
    // pipelined commands (a read rarely ends on a boundary) is not cut off.
    if (c.parser.partial && (!c.timer || progressed)) {
      clearTimeout(c.timer);
      c.timer = setTimeout(() => {
        this.stats.errors.timeout++;
        this.closeWith(c.sock, error('ERR Protocol error: request not completed in time'), c.session.proto);
      }, this.limits.requestTimeoutMs);
    } else if (!c.parser.partial && c.timer) {
      clearTimeout(c.timer);
      c.timer = undefined;
    }
    c.sock.resume();
  }

  private context(): Context {
    return {
      config: this.config,
      self: this.self,
      masters: this.masters,
      upNodes: this.upNodes,
      password: this.config.discovery.password,
      connectedClients: this.connections.size,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
    };
  }

  /** Writes a reply; a client whose unread replies pass the output limit is disconnected. */
  private send(c: Connection, r: Reply): boolean {
    if (c.sock.destroyed) return false;
    c.sock.write(encode(r, c.session.proto));
    if (c.sock.writableLength > this.limits.maxOutput) {
      this.stats.errors['output-limit']++;
      c.sock.destroy();
      return false;
    }
    return true;
  }

  /** The last word to a connection that cannot go on; a peer that does not read it is cut off. */
  private closeWith(sock: net.Socket, r: Reply, proto: 2 | 3 = 2): void {
    sock.pause();
    sock.end(encode(r, proto));
    setTimeout(() => sock.destroy(), 1000).unref();
  }

  /** Stops listening and closes every client (subscribers reconnect to another sentinel). */
  async close(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    this.servers.length = 0;
    for (const c of this.connections) c.sock.destroy();
    await Promise.all(closing);
  }
}


function listenError(err: NodeJS.ErrnoException, address: string, port: number): ClusterDnsError {
  const hint =
    err.code === 'EADDRINUSE'
      ? 'another process already listens there: stop it, change discovery.port, or set discovery.enabled: false'
      : err.code === 'EADDRNOTAVAIL'
        ? "this machine does not have that address: check the node's addresses in the config"
        : 'check the address and port';
  return new ClusterDnsError('LISTEN_FAILED', `cannot listen for discovery (Sentinel protocol) on ${address} port ${port}: ${err.code ?? err.message} — ${hint}`);
}

