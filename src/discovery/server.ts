import { isIPv6 } from 'node:net';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { ClusterConfig, DiscoveryTls, NodeConfig } from '../config/types';
import { ClusterDnsError } from '../errors';
import type { ZoneInputs } from '../zone/inputs';
import { scopeFor } from './addresses';
import { type NodeLink, type Publication, SentinelEvents } from './events';
import { knownMasters, type Master } from './masters';
import { DEFAULT_SUBSCRIPTION_LIMITS, type SubscriptionLimits, type SubscriptionPool, Subscriptions } from './pubsub';
import { encode, encodeInto, error, type Reply, RequestParser, type RequestLimits } from './resp';
import { authRequired, COMMAND_NAMES, type Context, execute, type Session } from './sentinel';
import { TurnBudget } from './turn-budget';

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
  /** Open connections from one address: the rest of maxConnections stays for the others. */
  readonly maxConnectionsPerSource: number;
  /** A connection that has not authenticated (when a password is set) and is not subscribed is
   * closed after this long without a request: it holds a slot and can do nothing. */
  readonly unauthenticatedIdleMs: number;
  /** Any connection that is not subscribed is closed after this long without a request (clients
   * reconnect; subscribers wait for pushes for hours and are never timed out). */
  readonly idleMs: number;
  readonly subscriptions: SubscriptionLimits;
  /** Main-thread milliseconds all connections together may take per event-loop turn (accepts,
   * parsing, commands, replies, pushes, closes); the rest waits for the next turn, sockets paused. */
  readonly turnBudgetMs: number;
}

const DEFAULT_LIMITS: DiscoveryLimits = {
  maxInline: 64 * 1024,
  maxArgs: 1024,
  maxBulk: 64 * 1024,
  maxConnections: 1024,
  maxRequest: 1024 * 1024,
  maxOutput: 1024 * 1024,
  requestTimeoutMs: 5000,
  maxConnectionsPerSource: 128,
  unauthenticatedIdleMs: 10_000,
  idleMs: 300_000,
  subscriptions: DEFAULT_SUBSCRIPTION_LIMITS,
  turnBudgetMs: 5,
};

const WITH_SUBCOMMANDS = new Set(['sentinel', 'client', 'command', 'acl']);

/** How often idle connections are looked for. */
const IDLE_SWEEP_MS = 1000;
/** Subscribers written to per turn of the event loop when a publication goes out. */
const PUSH_BATCH = 256;

/** Counters the metrics read at scrape time; the connection path only increments integers. */
export class DiscoveryStats {
  connections = 0;
  /** The cap on `connections` (limits.maxConnections), for an alert before it is reached. */
  maxConnections = 0;
  connectionsTotal = 0;
  /** Command name (lowercase, known ones only; the rest are `unknown`) → count. */
  readonly commands = new Map<string, number>();
  /** Why connections were closed or replies were errors. */
  readonly errors = { reply: 0, protocol: 0, 'output-limit': 0, timeout: 0, 'max-clients': 0, 'max-clients-per-source': 0, idle: 0, internal: 0 };
  switchMessages = 0;
  /** Messages published, by channel (`+switch-master`, `+sdown`, …). */
  readonly published = new Map<string, number>();
}

interface Connection {
  readonly sock: net.Socket;
  readonly session: Session;
  readonly parser: RequestParser;
  readonly source: string;
  /** CLIENT REPLY SKIP was the last command: the next reply is dropped. */
  skipOne: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Commands parsed from the last read, run from `next` on. */
  queue: string[][];
  next: number;
  protocolError: string | undefined;
  /** A read that came when the turn's budget was spent: parsed next turn (the socket is paused). */
  unread: Buffer | undefined;
  /** In `DiscoveryServer.waiting`. */
  waiting: boolean;
  /** Replies of this batch, encoded, written at once at its end (one write, not one per reply). */
  out: string[];
  outBytes: number;
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
  private readonly tlsServers: tls.Server[] = [];
  private readonly connections = new Set<Connection>();
  private masters: readonly Master[] = [];
  private upNodes: ReadonlySet<string> = new Set();
  private links: ReadonlyMap<string, NodeLink> = new Map();
  /** What was told per service (its master, s_down, o_down): each event goes out once per change.
   * Kept while the service is unknown, so a minority spell followed by a new master still says
   * where it moved. */
  private readonly events = new SentinelEvents();
  private readonly subscriptions: SubscriptionPool;
  /** Open connections per source address. */
  private readonly perSource = new Map<string, number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly startedAt = Date.now();
  private readonly limits: DiscoveryLimits;
  private readonly budget: TurnBudget;
  /** Connections with work left over from a turn whose budget ran out, oldest first. */
  private waiting: Connection[] = [];
  private resumeScheduled = false;
  /** Sockets whose client closed, to be closed within the turn budget (see closeSoon). */
  private closing: net.Socket[] = [];

  constructor(
    private config: ClusterConfig,
    private readonly self: NodeConfig,
    private readonly opts: {
      addresses: readonly string[];
      limits?: Partial<DiscoveryLimits>;
      /** Told when something went wrong that is not the client's doing (a bug: it is caught, never fatal). */
      onError?: (message: string) => void;
    },
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.stats.maxConnections = this.limits.maxConnections;
    this.subscriptions = { limits: this.limits.subscriptions, held: 0, masks: new Map() };
    this.budget = new TurnBudget(this.limits.turnBudgetMs);
  }

  /**
   * New published inputs, or new links (whether this agent hears each node): swap what is
   * answered, and publish what changed (`+sdown`, `+odown`, `+switch-master`, …). Called from the
   * agent's publish step: the writes happen on later turns, never inside it.
   */
  update(config: ClusterConfig, inputs: ZoneInputs, links?: readonly NodeLink[]): void {
    this.config = config;
    this.masters = knownMasters(config, inputs);
    this.upNodes = new Set(inputs.upNodes);
    if (links) this.links = new Map(links.map((l) => [l.name, l]));
    const quorum = Math.floor(config.nodes.length / 2) + 1;
    this.events.keepOnly(new Set(config.services.map((s) => s.name)));
    const out = this.events.next(this.masters, this.links, quorum);
    if (out.length) setImmediate(() => this.publish(out, [...this.connections].filter((c) => c.session.subs.listening), 0));
  }

  /**
   * Writes publications to subscribers, PUSH_BATCH connections per turn: a thousand subscribers
   * never hold DNS packets. Whatever goes wrong with one connection is that connection's end, never
   * the process's (this runs from setImmediate, where a throw would end the agent).
   */
  private publish(pubs: readonly Publication[], to: readonly Connection[], from: number): void {
    const end = Math.min(to.length, from + PUSH_BATCH);
    let i = from;
    this.budget.begin();
    // At least one subscriber per turn, so a spent budget delays the pushes but never stops them.
    for (; i < end && (i === from || this.budget.left()); i++) {
      const c = to[i];
      try {
        this.pushTo(c, pubs);
      } catch (e) {
        this.stats.errors.internal++;
        this.opts.onError?.(`discovery: a push to client ${c.session.id} failed: ${(e as Error).message}`);
        c.sock.destroy();
      }
    }
    this.budget.end();
    if (i < to.length) setImmediate(() => this.publish(pubs, to, i));
  }

  private pushTo(c: Connection, pubs: readonly Publication[]): void {
    if (c.sock.destroyed || c.session.reply === 'off') return;
    for (const p of pubs) {
      for (const r of c.session.subs.messages(p.channel, p.payload(c.session.scope))) {
        this.stats.published.set(p.channel, (this.stats.published.get(p.channel) ?? 0) + 1);
        if (p.channel === '+switch-master') this.stats.switchMessages++;
        if (!this.send(c, r)) return;
      }
    }
  }

  async listen(): Promise<void> {
    this.sweepTimer = setInterval(() => this.sweep(), IDLE_SWEEP_MS);
    this.sweepTimer.unref();
    const tlsConfig = this.config.discovery.tls;
    // Read before anything listens: a missing or bad file is a start error that names it.
    const secure = tlsConfig ? secureOptions(tlsConfig) : undefined;
    for (const address of this.opts.addresses) {
      // allowHalfOpen: a client's EOF does not make Node end and close the socket by itself;
      // closeSoon does, within the turn's budget.
      await this.listenOn(net.createServer({ noDelay: true, allowHalfOpen: true }, (sock) => this.accept(sock)), address, this.config.discovery.port);
      if (tlsConfig && secure) {
        const server = tls.createServer({
          ...secure,
          requestCert: tlsConfig.authClients !== 'no',
          rejectUnauthorized: tlsConfig.authClients === 'yes',
          // A handshake begun and not finished holds a socket: no longer than an unfinished request.
          handshakeTimeout: this.limits.requestTimeoutMs,
        });
        server.on('secureConnection', (sock) => {
          // `optional`: no certificate is fine, an invalid one is not (Redis's tls-auth-clients optional).
          if (tlsConfig.authClients === 'optional' && !sock.authorized && Object.keys(sock.getPeerCertificate() ?? {}).length > 0) {
            sock.destroy();
            return;
          }
          this.accept(sock, true);
        });
        // Counted per source from the TCP connection on, handshake included: one address cannot
        // hold the TLS port with handshakes it never finishes.
        server.on('connection', (raw: net.Socket) => {
          const source = sourceOf(raw.remoteAddress);
          raw.on('error', () => raw.destroy());
          if (!this.admit(raw, source, true)) return;
          raw.once('close', () => this.release(source));
        });
        server.on('tlsClientError', () => undefined);
        // Sockets still in their handshake count too: a flood of them cannot exceed the cap.
        server.maxConnections = this.limits.maxConnections;
        this.tlsServers.push(server);
        await this.listenOn(server, address, tlsConfig.port);
      }
    }
  }

  private async listenOn(server: net.Server, address: string, port: number): Promise<void> {
    this.servers.push(server);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port, ipv6Only: isIPv6(address) }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      await this.close();
      throw listenError(e as NodeJS.ErrnoException, address, port);
    }
  }

  /**
   * SIGHUP: the certificate, key and CA files are read again, so renewed files under the same
   * names apply to new connections. A file that cannot be read keeps the old ones; the note says why.
   */
  reloadTls(config: ClusterConfig): string | undefined {
    const t = config.discovery.tls;
    if (!t || this.tlsServers.length === 0) return undefined;
    try {
      const secure = secureOptions(t);
      for (const s of this.tlsServers) s.setSecureContext(secure);
      return undefined;
    } catch (e) {
      return `discovery TLS certificates not reloaded, the old ones stay in use: ${(e as Error).message}`;
    }
  }

  /** Counts a connection against its source; false (and the socket closed) past the cap. */
  private admit(sock: net.Socket, source: string, tlsRaw = false): boolean {
    const fromSource = this.perSource.get(source) ?? 0;
    if (fromSource >= this.limits.maxConnectionsPerSource) {
      this.stats.errors['max-clients-per-source']++;
      // Before a TLS handshake there is no channel to say why on.
      if (tlsRaw) sock.destroy();
      else this.refuse(sock, error(`ERR max number of clients reached (${this.limits.maxConnectionsPerSource} from one address)`));
      return false;
    }
    this.perSource.set(source, fromSource + 1);
    return true;
  }

  private release(source: string): void {
    const n = (this.perSource.get(source) ?? 1) - 1;
    if (n > 0) this.perSource.set(source, n);
    else this.perSource.delete(source);
  }

  /** `counted`: a TLS socket, already counted against its source from its TCP connection on. */
  private accept(sock: net.Socket, counted = false): void {
    this.budget.begin();
    try {
      this.open(sock, counted);
    } finally {
      this.budget.end();
    }
  }

  private open(sock: net.Socket, counted: boolean): void {
    this.stats.connectionsTotal++;
    sock.on('error', () => sock.destroy());
    const source = sourceOf(sock.remoteAddress);
    if (this.connections.size >= this.limits.maxConnections) {
      this.stats.errors['max-clients']++;
      this.refuse(sock, error('ERR max number of clients reached'));
      return;
    }
    if (!counted && !this.admit(sock, source)) return;
    const now = Date.now();
    const session: Session = {
      id: this.nextId++,
      scope: scopeFor(this.self, sock.localAddress),
      proto: 2,
      name: undefined,
      authenticated: !authRequired(this.config.discovery),
      user: 'default',
      subs: new Subscriptions(),
      reply: 'on',
      addr: endpoint(sock.remoteAddress, sock.remotePort),
      laddr: endpoint(sock.localAddress, sock.localPort),
      fd: (sock as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1,
      createdAt: now,
      lastActive: now,
      cmd: 'NULL',
      pending: () => sock.writableLength,
    };
    const c: Connection = {
      sock,
      session,
      parser: new RequestParser(this.limits, () => session.authenticated),
      source,
      skipOne: false,
      timer: undefined,
      queue: [],
      next: 0,
      protocolError: undefined,
      unread: undefined,
      waiting: false,
      out: [],
      outBytes: 0,
    };
    this.connections.add(c);
    this.stats.connections++;
    sock.on('close', () => {
      clearTimeout(c.timer);
      if (!this.connections.delete(c)) return;
      this.stats.connections--;
      session.subs.release(this.subscriptions);
      if (!counted) this.release(source);
    });
    sock.on('data', (chunk: Buffer) => this.onData(c, chunk));
    sock.on('end', () => this.closeSoon(sock));
  }

  /**
   * Closes connections that hold a slot and do nothing: not subscribed, and idle past idleMs, or
   * past unauthenticatedIdleMs while a password is set and they have not given it. One pass over
   * the connections a second, never a timer per connection.
   */
  private sweep(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (c.session.subs.size > 0 || c.parser.partial) continue;
      const limit = c.session.authenticated ? this.limits.idleMs : this.limits.unauthenticatedIdleMs;
      if (now - c.session.lastActive < limit) continue;
      this.stats.errors.idle++;
      c.sock.destroy();
    }
  }

  private onData(c: Connection, chunk: Buffer): void {
    c.session.lastActive = Date.now();
    if (c.waiting) {
      // Paused, but a read was already on its way: it waits behind the rest.
      c.unread = c.unread ? Buffer.concat([c.unread, chunk]) : chunk;
      return;
    }
    this.budget.begin();
    if (!this.budget.left()) {
      // Not even parsed this turn: the socket waits, paused, with this one read.
      this.budget.end();
      c.unread = chunk;
      this.wait(c);
      return;
    }
    this.parse(c, chunk);
    this.work(c);
    this.budget.end();
  }

  private parse(c: Connection, chunk: Buffer): void {
    const { commands, error: protocolError } = c.parser.feed(chunk);
    c.queue = commands;
    c.next = 0;
    c.protocolError = protocolError;
  }

  /** The connection goes on next turn: its socket is paused until then, so nothing piles up. */
  private wait(c: Connection): void {
    c.sock.pause();
    if (c.waiting) return;
    c.waiting = true;
    this.waiting.push(c);
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    setImmediate(() => this.resumeWaiting());
  }

  /** Next turn: the waiting connections in order, while the budget lasts (at least one). */
  private resumeWaiting(): void {
    this.resumeScheduled = false;
    const list = this.waiting;
    this.waiting = [];
    let i = 0;
    this.budget.begin();
    for (; i < list.length && (i === 0 || this.budget.left()); i++) {
      const c = list[i];
      c.waiting = false;
      if (c.sock.destroyed) continue;
      try {
        if (c.unread && c.next >= c.queue.length) {
          const chunk = c.unread;
          c.unread = undefined;
          this.parse(c, chunk);
        }
        this.work(c);
      } catch (e) {
        this.stats.errors.internal++;
        this.opts.onError?.(`discovery: client ${c.session.id} failed: ${(e as Error).message}`);
        c.sock.destroy();
      }
    }
    this.budget.end();
    // What is left goes first next turn, before what queued meanwhile.
    this.waiting = [...list.slice(i), ...this.waiting];
    if (this.waiting.length > 0 && !this.resumeScheduled) {
      this.resumeScheduled = true;
      setImmediate(() => this.resumeWaiting());
    }
  }

  /**
   * The client closed: so does the connection, as Redis frees a client at EOF (no half-close, no
   * shutdown of our side first), within the turn's budget. The kernel's part of closing a TCP
   * socket is about 40 µs: 1,024 clients that leave together held DNS 40–120 ms, closed in one turn.
   */
  private closeSoon(sock: net.Socket): void {
    this.budget.begin();
    const now = this.budget.left();
    if (now) sock.destroy();
    this.budget.end();
    if (now) return;
    sock.pause();
    this.closing.push(sock);
    if (this.closing.length === 1) setImmediate(() => this.closeWaiting());
  }

  private closeWaiting(): void {
    const list = this.closing;
    this.closing = [];
    let i = 0;
    this.budget.begin();
    for (; i < list.length && (i === 0 || this.budget.left()); i++) list[i].destroy();
    this.budget.end();
    if (i === list.length) return;
    this.closing = [...list.slice(i), ...this.closing];
    setImmediate(() => this.closeWaiting());
  }

  /**
   * Runs queued commands while the turn's budget lasts, and at most BATCH per turn for one
   * connection: a pipelined flood, or a thousand connections each with a few commands, must not
   * keep DNS packets waiting. While a chunk's commands are queued the socket is paused, so the queue
   * never holds more than one read's worth. The replies of a batch go out in one write.
   */
  private work(c: Connection): void {
    const ctx = this.context();
    for (let n = 0; c.next < c.queue.length; n++) {
      if (c.sock.destroyed) return;
      if (n === BATCH || (n > 0 && !this.budget.left())) {
        if (!this.flush(c)) return;
        this.wait(c);
        return;
      }
      const args = c.queue[c.next++];
      const name = args[0].toLowerCase();
      const counted = COMMAND_NAMES.has(name) ? name : 'unknown';
      this.stats.commands.set(counted, (this.stats.commands.get(counted) ?? 0) + 1);
      let out;
      const before = c.session.reply;
      // What CLIENT LIST shows as the last command, this one included (`client|list`).
      c.session.cmd = counted === 'unknown' ? 'NULL' : WITH_SUBCOMMANDS.has(name) && args.length > 1 ? `${name}|${args[1].toLowerCase().slice(0, 64)}` : name;
      try {
        out = execute(args, c.session, ctx);
      } catch (e) {
        // A bug, not the client's doing: said, and this connection ends; the agent goes on.
        this.stats.errors.internal++;
        this.opts.onError?.(`discovery: ${counted} from client ${c.session.id} failed: ${(e as Error).message}`);
        if (this.flush(c)) this.closeWith(c.sock, error('ERR internal error'), c.session.proto);
        return;
      }
      // CLIENT REPLY as Redis: OFF and SKIP are not answered, SKIP drops the next reply too.
      const after = c.session.reply;
      let quiet = c.skipOne || (before === 'off' && after !== 'on') || after === 'off' || after === 'skip';
      c.skipOne = after === 'skip';
      if (after === 'skip') c.session.reply = 'on';
      if (out.close) quiet = false;
      for (const r of out.replies) {
        if (r.t === 'error') this.stats.errors.reply++;
        if (quiet) continue;
        if (!this.queueReply(c, r)) return;
      }
      if (out.close) {
        if (this.flush(c)) c.sock.end();
        return;
      }
    }
    if (!this.flush(c)) return;
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
    if (c.unread) this.wait(c);
    else c.sock.resume();
  }

  private context(): Context {
    return {
      config: this.config,
      self: this.self,
      masters: this.masters,
      upNodes: this.upNodes,
      links: this.links,
      subscriptions: this.subscriptions,
      clients: () => [...this.connections].map((c) => c.session),
      now: Date.now(),
      password: this.config.discovery.password,
      users: this.config.discovery.users ?? [],
      connectedClients: this.connections.size,
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
    };
  }

  /** Writes a reply; a client whose unread replies pass the output limit is disconnected. */
  private send(c: Connection, r: Reply): boolean {
    if (c.sock.destroyed) return false;
    c.sock.write(encode(r, c.session.proto));
    return this.withinOutput(c, 0);
  }

  /** Adds a reply to the batch's one write (see `flush`). */
  private queueReply(c: Connection, r: Reply): boolean {
    const before = c.out.length;
    encodeInto(r, c.session.proto, c.out);
    for (let i = before; i < c.out.length; i++) c.outBytes += c.out[i].length;
    return this.withinOutput(c, c.outBytes);
  }

  /** Writes the batch's replies; false when the connection is gone. */
  private flush(c: Connection): boolean {
    if (c.sock.destroyed) return false;
    if (c.out.length === 0) return true;
    const data = Buffer.from(c.out.length === 1 ? c.out[0] : c.out.join(''), 'latin1');
    c.out = [];
    c.outBytes = 0;
    c.sock.write(data);
    return this.withinOutput(c, 0);
  }

  /** Past the output limit (unread replies plus `pending` not yet written) the client is cut off. */
  private withinOutput(c: Connection, pending: number): boolean {
    if (c.sock.writableLength + pending <= this.limits.maxOutput) return true;
    this.stats.errors['output-limit']++;
    c.out = [];
    c.outBytes = 0;
    c.sock.destroy();
    return false;
  }

  /**
   * A connection over a cap gets Redis's error while the turn's budget lasts; past it (a flood of
   * connections: the kernel hands them over by the hundred in one turn) it is closed without a word,
   * which costs no write and no timer, and leaves the socket no reason to outlive the turn.
   */
  private refuse(sock: net.Socket, r: Reply): void {
    if (this.budget.left()) this.closeWith(sock, r);
    else sock.destroy();
  }

  /** The last word to a connection that cannot go on; a peer that does not read it is cut off. */
  private closeWith(sock: net.Socket, r: Reply, proto: 2 | 3 = 2): void {
    sock.pause();
    sock.end(encode(r, proto));
    setTimeout(() => sock.destroy(), 1000).unref();
  }

  /** Stops listening and closes every client (subscribers reconnect to another sentinel). */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    const closing = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    this.servers.length = 0;
    this.tlsServers.length = 0;
    for (const c of this.connections) c.sock.destroy();
    await Promise.all(closing);
  }
}


/** The TLS files, read now; an error names the file and what to do. */
function secureOptions(t: DiscoveryTls): tls.SecureContextOptions {
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new ClusterDnsError('CONFIG_READ', `discovery.tls.${field}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} — check the path and that the agent's user may read it`);
    }
  };
  const options: tls.SecureContextOptions = { cert: read('certFile', t.certFile), key: read('keyFile', t.keyFile), ...(t.caFile ? { ca: read('caFile', t.caFile) } : {}) };
  try {
    tls.createSecureContext(options);
  } catch (e) {
    throw new ClusterDnsError('CONFIG_READ', `discovery.tls: the certificate, key or CA file is not usable: ${(e as Error).message} — certFile and keyFile must be a PEM certificate and its private key`);
  }
  return options;
}

/** The address a connection counts against: IPv4-mapped IPv6 is the IPv4 address. */
/** `ip:port` as Redis writes it (IPv6 without brackets, as CLIENT LIST does). */
function endpoint(address: string | undefined, port: number | undefined): string {
  const a = address?.startsWith('::ffff:') ? address.slice(7) : (address ?? '?');
  return `${a}:${port ?? 0}`;
}

function sourceOf(remote: string | undefined): string {
  if (!remote) return '?';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
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

