import { EventEmitter } from 'node:events';
import type { ClusterConfig, NodeConfig } from '../config/types';
import { configWarnings } from '../config/warnings';
import { failoverTarget } from '../failover/rendezvous';
import { discoveryAddresses } from '../discovery/addresses';
import type { NodeLink } from '../discovery/events';
import { DiscoveryServer } from '../discovery/server';
import { zoneInputs } from '../failover/zone-inputs';
import { HealthMonitor } from '../health/monitor';
import { AnswerPool, type AnswerThreadStatus } from '../answer/pool';
import { answerThreads } from '../answer/threads';
import { Detector } from '../detector/detector';
import type { MembershipLogEvent } from '../membership/runtime';
import { majorityOf } from '../membership/verdict';
import type { ClusterView } from '../membership/view';
import { DnsServer } from '../server/dns-server';
import { cookieKeys } from '../server/cookie-keys';
import { QueryStats } from '../server/stats';
import { isSep } from '../dnssec/keys';
import { Signer } from '../dnssec/signer';
import { resignCheckSeconds } from '../dnssec/timing';
import { compile, type AnswerTable } from '../zone/compile';
import type { ZoneInputs } from '../zone/inputs';
import { buildZone } from '../zone/zone';
import type { Logger } from './log';
import { ZoneSerial } from './zone-serial';

/** What happened recently, for the status API and page. */
export interface AgentEvent {
  readonly at: number;
  readonly type: string;
  readonly message: string;
}

const RECENT_EVENTS = 50;
/** The longest the first heartbeat waits for the checks' first results. */
const FIRST_RESULTS_WAIT_MS = 1000;

/**
 * One node's agent: health checks feed the membership protocol, whose view becomes zone inputs,
 * which are compiled into the answer table the DNS listeners serve. The table is replaced whole on
 * every change. Witness nodes run the protocol only: they vote and serve no DNS.
 */
export class Agent extends EventEmitter<{ table: [AnswerTable]; view: [ClusterView] }> {
  readonly node: NodeConfig;
  readonly stats = new QueryStats();
  readonly startedAt = Date.now();
  readonly events: AgentEvent[] = [];
  private config: ClusterConfig;
  /** The answer threads: the main thread's listeners (one thread), or a pool of worker threads. */
  private server: DnsServer | AnswerPool | undefined;
  /** Tables compiled since start (the main thread's; a pool counts its own, the same way). */
  private tableVersion = 0;
  private discovery: DiscoveryServer | undefined;
  /** The failure detector, in its own thread (src/detector/). */
  private membership: Detector | undefined;
  private health: HealthMonitor | undefined;
  private inputs: ZoneInputs;
  private serial: number;
  private stopped = false;
  private readonly zoneSerial: ZoneSerial;
  private signer: Signer | undefined;
  private resignTimer: NodeJS.Timeout | undefined;
  /** No SEP key active at the last look (see watchSigningKeys). */
  private signingLapsed = false;
  /** Nodes declared down since start (each is a failover of its names). */
  failovers = 0;

  constructor(
    config: ClusterConfig,
    nodeName: string,
    private readonly log: Logger,
  ) {
    super();
    this.config = config;
    this.node = config.nodes.find((n) => n.name === nodeName)!;
    this.zoneSerial = new ZoneSerial(Math.floor(Date.now() / 1000), majorityOf(config.nodes.length));
    this.serial = this.zoneSerial.current;
    // Until a majority has been heard the zone is not served: a restarted node never answers from
    // an empty view.
    this.inputs = { nodeTargets: new Map(), upNodes: [], services: new Map(), serving: false, serial: this.serial, failOpen: false };
  }

  get currentConfig(): ClusterConfig {
    return this.config;
  }

  get table(): AnswerTable | undefined {
    return this.server?.table;
  }

  /** What the current answers are compiled from (witnesses keep them too); the status API lists them. */
  get currentInputs(): ZoneInputs {
    return this.inputs;
  }

  view(): ClusterView | undefined {
    return this.membership?.view();
  }

  counters() {
    return this.membership?.counters();
  }

  /** Datagrams on the peer port from addresses that are no node's peerAddress (dropped unread). */
  peerDatagramsFromStrangers(): number {
    return this.membership?.transportStats()?.notPeer ?? 0;
  }

  /** Fresh view and counters from the detector and answer threads, for one status or metrics read. */
  async refresh(): Promise<void> {
    await Promise.all([this.membership?.snapshot(), this.server instanceof AnswerPool ? this.server.snapshot() : undefined]);
  }

  /** Each answer thread's table version, queries and event-loop lag (status API, metrics). */
  answerThreads(): AnswerThreadStatus[] {
    if (this.server instanceof AnswerPool) return this.server.threads();
    if (!this.server) return [];
    return [{ index: 0, where: 'main', state: 'serving', tableVersion: this.tableVersion, tableAppliedMs: null, queries: this.stats.total(), lagMs: null, restarts: 0 }];
  }

  healthDetails() {
    return this.health?.details();
  }

  discoveryStats() {
    return this.discovery?.stats;
  }

  signatureExpiry(): number | undefined {
    return this.signer?.earliestExpiration();
  }

  get serves(): boolean {
    return this.node.role !== 'witness';
  }

  private compileTable(): AnswerTable {
    return compile(buildZone(this.config, this.inputs), {
      identity: this.config.dns.chaos ? this.node.name : undefined,
      unavailable: this.config.dns.minority,
      internalFrom: this.config.dns.internalFrom,
      ...(this.signer ? { dnssec: { signer: this.signer, now: Math.floor(Date.now() / 1000) } } : {}),
    });
  }

  /** A signer for the config's keys: kept across reloads that keep the keys, so its signatures are reused. */
  private updateSigner(config: ClusterConfig): void {
    const d = config.dnssec;
    const same = this.signer && d && JSON.stringify(d) === JSON.stringify(this.config.dnssec);
    if (same) return;
    clearInterval(this.resignTimer);
    this.signer = d ? new Signer(config.zone, d.keys, { validity: d.validity, refresh: d.refresh }) : undefined;
    if (!d) return;
    const keys = d.keys.map((k, i) => `${d.keyPaths[i]} (${isSep(k) ? 'SEP' : 'ZSK'}, algorithm ${k.algorithm})`);
    this.log.info({ event: 'dnssec', keys: d.keyPaths }, `signing ${config.zone} with ${keys.join(', ')}; signatures valid ${d.validity} s, remade at ${d.refresh} s`);
    // Signatures are remade at `refresh` age; a recompile this often finds them due in time.
    this.resignTimer = setInterval(() => {
      this.watchSigningKeys();
      if (this.server) this.setTable(this.compileTable());
    }, resignCheckSeconds(d.refresh) * 1000);
    this.resignTimer.unref();
  }

  /**
   * A key's Inactive or Delete time can pass while the agent runs (`config check` and start only
   * see the keys as they are then): with no SEP key active the zone goes out unsigned, which
   * validating resolvers reject. Said once when it starts and once when it ends.
   */
  private watchSigningKeys(): void {
    const unsigned = this.signer !== undefined && this.signer.secureEntryKeys(Math.floor(Date.now() / 1000)).length === 0;
    if (unsigned === this.signingLapsed) return;
    this.signingLapsed = unsigned;
    const message = unsigned
      ? `no DNSSEC key with the SEP flag is active any more (their Inactive or Delete time has passed): ${this.config.zone} goes out without signatures and validating resolvers will answer SERVFAIL — add an active key to dnssec.keys and send SIGHUP`
      : `a DNSSEC key with the SEP flag is active again: ${this.config.zone} is signed`;
    this.record('dnssec-keys', message, 'warn', { signing: !unsigned });
  }

  /** Checks of `config` for this node; `previous` (a reload) lends the results of unchanged checks. */
  private newHealthMonitor(config: ClusterConfig, previous?: HealthMonitor): HealthMonitor {
    const health = new HealthMonitor({ config, self: this.node.name, previous });
    health.on('change', (c) => {
      this.record('check', `${c.kind} ${c.name} ${c.healthy ? 'healthy' : 'unhealthy'}: ${c.reason}`, c.healthy ? 'info' : 'warn', { ...c });
      this.membership?.refreshHealth();
    });
    return health;
  }

  async start(): Promise<void> {
    this.warnAbout(this.config);
    this.updateSigner(this.config);
    this.health = this.newHealthMonitor(this.config);
    const detector = await Detector.open({
      config: this.config,
      self: this.node.name,
      getLocalHealth: () => this.health!.current(),
      zoneSerial: this.serial,
    });
    this.membership = detector;
    this.membership.on('event', (e) => this.onMembershipEvent(e));
    // Every name server should show the same SOA serial (see ZoneSerial).
    this.membership.on('serial', () => this.adoptSerial());
    this.membership.on('view', (view) => {
      this.setInputs(zoneInputs(this.config, view, 0));
      this.emit('view', view);
    });

    let threads = 0;
    if (this.serves) {
      const plan = answerThreads(this.config.dns.workers);
      threads = plan.threads;
      if (plan.note) this.log.info({ event: 'answer-threads', threads }, plan.note);
      const options = {
        addresses: this.node.listen,
        port: this.config.dns.port,
        identity: this.node.name,
        tcpIdleTimeoutMs: this.config.dns.tcpIdleTimeoutMs,
        // Over all the threads: they share the counts (server/tcp-tally.ts).
        tcpMaxConnections: this.config.dns.tcpMaxConnections,
        tcpMaxConnectionsPerSource: this.config.dns.tcpMaxConnectionsPerSource,
        cookieKeys: cookieKeys(this.config.secrets),
        rateLimit: this.config.dns.rateLimit,
      };
      try {
        this.tableVersion = 1;
        if (threads === 1) {
          const server = new DnsServer(this.compileTable(), { ...options, stats: this.stats });
          this.server = server;
          await server.listen();
        } else {
          this.server = await AnswerPool.start(threads, this.compileTable(), options, this.stats, (e) => this.record(e.type, e.message, e.level, { thread: e.thread }));
        }
        await this.startDiscovery();
      } catch (e) {
        await detector.stop();
        await this.server?.close();
        this.server = undefined;
        throw e;
      }
    }
    this.health.start();
    // Not-yet-checked counts as healthy; a check that fails at once should still be in the first
    // heartbeat, or every start would announce a node up and take it back a moment later.
    await settledWithin(this.health.firstResults(), FIRST_RESULTS_WAIT_MS);
    if (this.stopped) return;
    this.membership.start();
    const discovery = this.discovery ? `Sentinel discovery on ${discoveryAddresses(this.node).map((a) => `${a}:${this.config.discovery.port}`).join(', ')}, ` : '';
    const how = threads > 1 ? `, ${threads} answer threads` : '';
    const where = this.serves ? `DNS on ${this.node.listen.map((a) => `${a}:${this.config.dns.port}`).join(', ')} (udp+tcp${how}), ${discovery}` : 'witness (no DNS), ';
    this.log.info(
      { event: 'listening', zone: this.config.zone, addresses: this.node.listen, dnsPort: this.config.dns.port, peerPort: this.config.peer.port, hash: this.config.hash, answerThreads: threads },
      `${this.node.name}: ${where}peers on ${this.node.peerAddress}:${this.config.peer.port}; zone ${this.config.zone} is answered once a majority is heard`,
    );
  }

  /**
   * The Sentinel-protocol listener reads the inputs each publish() compiled the table from, and
   * whether this agent hears each node (for Sentinel's s_down/o_down flags and events), derived
   * from the membership view only. Hearing changes between verdicts, so the view is looked at
   * once per heartbeat interval too; the listener hears of it only when it changed.
   */
  private async startDiscovery(): Promise<void> {
    if (!this.config.discovery.enabled) return;
    const discovery = new DiscoveryServer(this.config, this.node, {
      addresses: discoveryAddresses(this.node),
      onError: (message) => this.log.warn({ event: 'discovery-error' }, message),
    });
    await discovery.listen();
    this.discovery = discovery;
    let told = '';
    const links = () => {
      const view = this.membership?.view();
      const l = view ? nodeLinks(view, this.config) : undefined;
      told = JSON.stringify(l);
      return l;
    };
    discovery.update(this.config, this.inputs, links());
    this.on('table', () => discovery.update(this.config, this.inputs, links()));
    // The detector posts a view when a peer turns late or unheard or comes back: links change there.
    this.on('view', () => {
      const before = told;
      const l = links();
      if (told !== before) discovery.update(this.config, this.inputs, l);
    });
  }

  private onMembershipEvent(e: MembershipLogEvent): void {
    const level = e.type === 'verdict' ? (e.up ? 'info' : 'warn') : e.type === 'minority' || e.type === 'config-mismatch' || e.type === 'error' || e.type === 'new-boot' || (e.type === 'link' && e.broken) ? 'warn' : 'info';
    if (e.type === 'verdict' && !e.up) this.failovers++;
    if (e.type === 'verdict' && !e.up && this.config.nodes.find((n) => n.name === e.node)?.role !== 'witness') {
      // Membership decides who is down; where its names go is failover's word, said here.
      const up = this.membership!.view().nodes.filter((n) => n.up && n.role !== 'witness').map((n) => n.name);
      const target = failoverTarget(e.node, up, this.config);
      this.record(e.type, `${e.message}; ${e.node} → ${target ?? 'itself (no node is up: the zone fails open)'}`, level, { ...e, target });
      return;
    }
    this.record(e.type, e.message, level, { ...e });
  }

  private record(type: string, message: string, level: 'info' | 'warn', fields: object): void {
    this.events.push({ at: Date.now(), type, message });
    if (this.events.length > RECENT_EVENTS) this.events.shift();
    // `node` is the logger's own field (this agent); the node an event is about is its `subject`.
    const { node: subject, message: _m, type: _t, ...rest } = fields as { node?: string; message?: string; type?: string };
    this.log[level]({ event: type, ...(subject ? { subject } : {}), ...rest }, message);
  }

  private adoptSerial(): void {
    const announced = Object.values(this.membership?.view().serials ?? {});
    if (this.zoneSerial.observe(announced)) this.publish(this.inputs, this.zoneSerial.current);
  }

  /** New zone inputs from membership: only a change of answers moves the serial and the table. */
  private setInputs(next: ZoneInputs): void {
    if (!sameInputs(next, this.inputs)) this.publish(next, this.zoneSerial.next(next.serving));
  }

  /** The one place the answers change: new inputs and serial, announced to peers, table swapped. */
  private publish(inputs: ZoneInputs, serial: number): void {
    const was = this.inputs;
    this.serial = serial;
    this.inputs = { ...inputs, serial };
    this.membership?.setZoneSerial(serial);
    if (was.failOpen !== this.inputs.failOpen) this.recordFailOpen(this.inputs.failOpen);
    if (!this.server) return;
    const wasServing = this.server.table.serving;
    this.setTable(this.compileTable());
    if (wasServing !== this.inputs.serving) {
      this.record('serving', this.inputs.serving ? `answering ${this.config.zone}` : `not answering ${this.config.zone} (${this.config.dns.minority})`, this.inputs.serving ? 'info' : 'warn', {
        serving: this.inputs.serving,
      });
    }
    this.emit('table', this.server.table);
  }

  private setTable(table: AnswerTable): void {
    this.tableVersion++;
    this.server?.setTable(table);
  }

  private warnAbout(config: ClusterConfig): void {
    for (const w of configWarnings(config)) this.log.warn({ event: 'config-warning' }, w);
  }

  /** Once when the zone starts failing open and once when it stops: both are worth a person's look. */
  private recordFailOpen(open: boolean): void {
    const message = open
      ? `no node is up by the verdicts: failing open — every node and name server name answers with its own node's address until one is up again`
      : this.inputs.serving
        ? `no longer failing open: ${this.inputs.upNodes.join(', ')} up again`
        : `no longer failing open: not answering ${this.config.zone} (${this.config.dns.minority})`;
    this.record('fail-open', message, 'warn', { failOpen: open });
  }

  /**
   * SIGHUP: applies an already validated config. What the bound listeners cannot take (see
   * needsRestart) is returned as a note for the log.
   */
  reloadConfig(config: ClusterConfig): string[] {
    const notes: string[] = [];
    const pending = needsRestart(this.config, config, this.node.name);
    if (pending.length) notes.push(`${pending.join(', ')} changed: takes effect after a restart (the running listeners keep the old values)`);
    if (!config.nodes.some((n) => n.name === this.node.name)) {
      notes.push(`this node (${this.node.name}) is not in the new config: keeping the old one`);
      return notes;
    }
    this.updateSigner(config);
    this.config = config;
    this.warnAbout(config);
    // Checks and services apply in full: a new monitor for the new config, which keeps the results
    // of checks that did not change; the old one's probes are aborted.
    const previous = this.health;
    this.health = this.newHealthMonitor(config, previous);
    previous?.stop();
    this.health.start();
    this.membership?.updateConfig(config);
    // Discovery's TLS certificates are read again (renewed files under the same names).
    const tlsNote = this.discovery?.reloadTls(config);
    if (tlsNote) notes.push(tlsNote);
    // Secrets (a rotation step) and rate limits apply to cookies and RRL at once too.
    this.server?.setGuard(cookieKeys(config.secrets), config.dns.rateLimit);
    this.membership?.refreshHealth();
    const view = this.membership?.view();
    // TTLs, services and the SOA may change even when the view does not: always recompile.
    const inputs = view ? zoneInputs(config, view, 0) : this.inputs;
    this.publish(inputs, this.zoneSerial.next(inputs.serving));
    return notes;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resignTimer);
    this.health?.stop();
    await this.membership?.stop();
    await this.discovery?.close();
    this.discovery = undefined;
    await this.server?.close();
    this.server = undefined;
  }
}

/**
 * What a reload cannot apply: the sockets are bound at start, and the listeners keep their address,
 * port and TCP limits. Everything else (TTLs, services, checks, timings, secrets, rateLimit,
 * internalFrom, DNSSEC keys and times, the discovery password) applies at once.
 */
function needsRestart(old: ClusterConfig, next: ClusterConfig, self: string): string[] {
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  const mine = (c: ClusterConfig) => {
    const n = c.nodes.find((x) => x.name === self);
    return n && { listen: n.listen, peerAddress: n.peerAddress, apiListen: n.apiListen };
  };
  const fields: [string, unknown, unknown][] = [
    ['dns.port', old.dns.port, next.dns.port],
    ['dns.tcpIdleTimeout', old.dns.tcpIdleTimeoutMs, next.dns.tcpIdleTimeoutMs],
    ['dns.tcpMaxConnections', old.dns.tcpMaxConnections, next.dns.tcpMaxConnections],
    ['dns.tcpMaxConnectionsPerSource', old.dns.tcpMaxConnectionsPerSource, next.dns.tcpMaxConnectionsPerSource],
    ['dns.workers', old.dns.workers, next.dns.workers],
    ['peer.port', old.peer.port, next.peer.port],
    ['http.port', old.http.port, next.http.port],
    ['http.enabled', old.http.enabled, next.http.enabled],
    ['http.listen', old.http.listen, next.http.listen],
    ['discovery.port', old.discovery.port, next.discovery.port],
    ['discovery.enabled', old.discovery.enabled, next.discovery.enabled],
    ['discovery.tls', tlsShape(old), tlsShape(next)],
    [`this node's addresses (listen, peerAddress, privateAddress)`, mine(old), mine(next)],
  ];
  return fields.filter(([, a, b]) => differs(a, b)).map(([f, a, b]) => (typeof a === 'object' ? f : `${f} (${String(a)} → ${String(b)})`));
}

/** What of discovery.tls a reload cannot apply: the port and authClients (the files it can). */
function tlsShape(c: ClusterConfig): string {
  const t = c.discovery.tls;
  return t ? `port ${t.port}, authClients ${t.authClients}` : 'off';
}

/**
 * Per node, what Sentinel's flags need: heard within downAfter by this agent (its own row of the
 * view's matrix), two heartbeats or more missing, and the majority's verdict.
 */
/**
 * Whether this agent hears each node, from the detector's newest view: its ages are as of when it
 * was taken, and the detector posts a view whenever a peer turns late (two intervals) or unheard
 * (downAfter), or comes back (Membership 'heard').
 */
export function nodeLinks(view: ClusterView, config: ClusterConfig): NodeLink[] {
  const own = view.matrix[view.self]?.heard ?? {};
  const { intervalMs, downAfterMs } = config.peer;
  return view.nodes.map((n) => {
    const o = own[n.name];
    const age = n.name === view.self ? 0 : o?.everHeard ? o.ageMs : Infinity;
    return { name: n.name, heard: age < downAfterMs, late: age > 2 * intervalMs, up: n.up };
  });
}

function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function sameInputs(a: ZoneInputs, b: ZoneInputs): boolean {
  if (a.serving !== b.serving || a.failOpen !== b.failOpen) return false;
  if (a.upNodes.join() !== b.upNodes.join()) return false;
  if (a.nodeTargets.size !== b.nodeTargets.size) return false;
  for (const [k, v] of a.nodeTargets) if (b.nodeTargets.get(k) !== v) return false;
  if (a.services.size !== b.services.size) return false;
  for (const [k, v] of a.services) if ((b.services.get(k) ?? []).join() !== v.join()) return false;
  return true;
}
