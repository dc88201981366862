import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClusterConfig } from '../config/types';
import { ClusterDnsError, type ErrorCode } from '../errors';
import { peerConfigOf } from '../membership/peer-config';
import type { MembershipEvents } from '../membership/runtime';
import { safeHealth, type Counters, type LocalHealth } from '../membership/state';
import type { ClusterView } from '../membership/view';
import { isFromDetector, sharedNow, THREADS_PROTOCOL, type DetectorInit, type FromDetector, type ToDetector, type TransportStats } from '../threads/messages';
import { BUNDLED } from '../bundle';

export interface DetectorOptions {
  readonly config: ClusterConfig;
  readonly self: string;
  /** Read on every change (refreshHealth) and at least every half downAfter, and sent to the thread. */
  readonly getLocalHealth: () => LocalHealth;
  readonly zoneSerial: number;
}

/** How long the HTTP API waits for a fresh snapshot before it serves the last one it has. */
const SNAPSHOT_WAIT_MS = 200;
/** A detector thread that died is started again after this long (its port is free by then). */
const RESTART_DELAY_MS = 200;

/**
 * The failure detector as the control thread sees it: the `Membership` API agent.ts, api/ and
 * cli/ used (view(), counters(), 'view'/'event'/'serial' events, refreshHealth, setZoneSerial,
 * updateConfig, start/stop), carried out by a worker thread (worker.ts) that owns the peer socket,
 * the timers and the reducer. `view()` is the newest view the thread posted: it posts one whenever a
 * verdict, the quorum, a node's health, an announced serial or the set of heard peers changes, and
 * `snapshot()` asks for a fresh one (row ages) for the status API.
 */
export class Detector extends EventEmitter<Omit<MembershipEvents, 'heard'>> {
  private worker: Worker | undefined;
  private latest: ClusterView;
  private lastCounters: Counters | undefined;
  private lastTransport: TransportStats | undefined;
  private config: ClusterConfig;
  private serial: number;
  private started = false;
  private stopping = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  /** Times the thread died and was started again. */
  restarts = 0;

  private constructor(
    private readonly opts: DetectorOptions,
    first: { worker: Worker; view: ClusterView },
  ) {
    super();
    this.config = opts.config;
    this.serial = opts.zoneSerial;
    this.latest = first.view;
    this.adopt(first.worker);
  }

  /** Starts the thread and waits until it has bound the peer port (LISTEN_FAILED when it cannot). */
  static async open(opts: DetectorOptions): Promise<Detector> {
    const first = await spawn(opts.config, opts.self, safeHealth(opts.getLocalHealth), opts.zoneSerial);
    return new Detector(opts, first);
  }

  private adopt(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (m: unknown) => {
      if (isFromDetector(m)) this.receive(m);
    });
    worker.on('error', (e) => this.emit('event', { type: 'error', message: `${this.opts.self}: the failure-detector thread failed: ${e.message}` }));
    worker.once('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      if (this.stopping) return;
      this.emit('event', { type: 'error', message: `${this.opts.self}: the failure-detector thread ended (exit code ${code}): starting it again (peers see a new boot)` });
      setTimeout(() => void this.respawn(), RESTART_DELAY_MS).unref();
    });
  }

  private async respawn(): Promise<void> {
    if (this.stopping) return;
    try {
      const next = await spawn(this.config, this.opts.self, safeHealth(this.opts.getLocalHealth), this.serial);
      if (this.stopping) {
        void next.worker.terminate();
        return;
      }
      this.restarts++;
      this.latest = next.view;
      this.adopt(next.worker);
      if (this.started) this.send({ type: 'start' });
    } catch (e) {
      this.emit('event', { type: 'error', message: `${this.opts.self}: the failure-detector thread could not be started again: ${(e as Error).message}; retrying` });
      setTimeout(() => void this.respawn(), 5 * RESTART_DELAY_MS).unref();
    }
  }

  private receive(m: FromDetector): void {
    switch (m.type) {
      case 'turn': {
        if (m.view) this.latest = m.view;
        let viewed = false;
        for (const item of m.items) {
          if (item.type === 'event') this.emitSafely('event', item.event);
          else if (item.type === 'serial') this.emitSafely('serial', item.serial);
          else {
            viewed = true;
            this.emitSafely('view', this.latest, item.changes);
          }
        }
        // The peers heard changed without a verdict: still a new view for its readers (discovery).
        if (m.view && !viewed) this.emitSafely('view', this.latest, []);
        break;
      }
      case 'snapshot':
        this.latest = m.view;
        this.lastCounters = m.counters;
        this.lastTransport = m.transport;
        this.waiting.get(m.id)?.();
        this.waiting.delete(m.id);
        break;
      default:
        break;
    }
  }

  /** A throwing listener must not stop the other listeners or the next messages. */
  private emitSafely<K extends 'event' | 'serial' | 'view'>(name: K, ...args: Omit<MembershipEvents, 'heard'>[K]): void {
    try {
      (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (e) {
      if (name !== 'event') this.emit('event', { type: 'error', message: `${this.opts.self}: a '${name}' listener threw: ${(e as Error).message}` });
    }
  }

  private send(m: ToDetector): void {
    this.worker?.postMessage(m);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.sendHealth();
    this.send({ type: 'start' });
    this.scheduleKeepAlive();
  }

  /** Check results reach the thread at least every half downAfter, so it can tell old ones (detector/health.ts). */
  private scheduleKeepAlive(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = setInterval(() => this.sendHealth(), Math.max(50, this.config.peer.downAfterMs / 2));
    this.keepAlive.unref();
  }

  private sendHealth(): void {
    this.send({ type: 'local-health', health: safeHealth(this.opts.getLocalHealth), at: sharedNow() });
  }

  /** Stops heartbeats, closes the peer port and ends the thread; the last view stays readable. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.keepAlive);
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(done, 1000);
      worker.on('message', (m: unknown) => {
        if (isFromDetector(m) && m.type === 'stopped') {
          clearTimeout(timer);
          done();
        }
      });
      worker.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      worker.postMessage({ type: 'stop' } satisfies ToDetector);
    });
    await worker.terminate();
    this.worker = undefined;
  }

  view(): ClusterView {
    return this.latest;
  }


  /** The peers heard within downAfter, as of the newest view (it is posted whenever that set changes). */
  heardPeers(): string[] {
    const v = this.latest;
    const own = v.matrix[v.self]?.heard ?? {};
    return v.nodes.filter((n) => n.name !== v.self && own[n.name]?.everHeard === true && own[n.name].ageMs < this.config.peer.downAfterMs).map((n) => n.name);
  }

  counters(): Counters | undefined {
    return this.lastCounters;
  }

  transportStats(): TransportStats | undefined {
    return this.lastTransport;
  }

  /** A fresh view, counters and socket stats from the thread; after SNAPSHOT_WAIT_MS the last ones stand. */
  snapshot(): Promise<void> {
    if (!this.worker) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        done();
      }, SNAPSHOT_WAIT_MS);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        done();
      });
      this.send({ type: 'snapshot', id });
    });
  }

  /** Sends this node's check results now instead of at the next keep-alive (call it when a check flips). */
  refreshHealth(): void {
    if (this.started) this.sendHealth();
  }

  /** The SOA serial this agent serves, announced in its heartbeats. */
  setZoneSerial(serial: number): void {
    this.serial = serial;
    this.send({ type: 'zone-serial', serial });
  }

  /** SIGHUP: the peer slice of the new config (no keys or check passwords) applies from the next heartbeat. */
  updateConfig(config: ClusterConfig): void {
    if (!config.nodes.some((n) => n.name === this.opts.self)) throw new TypeError(`no node named ${this.opts.self} in the new config`);
    this.config = config;
    this.send({ type: 'config', config: peerConfigOf(config) });
    if (this.started) this.scheduleKeepAlive();
  }
}

/** dist/detector/worker.js; from the TypeScript sources (vitest), the built one. */
function workerFile(): string {
  if (BUNDLED) return join(__dirname, 'detector-worker.js');
  const here = join(__dirname, 'worker.js');
  return existsSync(here) ? here : resolve(__dirname, '../../dist/detector/worker.js');
}

function spawn(config: ClusterConfig, self: string, health: LocalHealth, zoneSerial: number): Promise<{ worker: Worker; view: ClusterView }> {
  const init: DetectorInit = { protocol: THREADS_PROTOCOL, self, config: peerConfigOf(config), health, healthAt: sharedNow(), zoneSerial };
  const worker = new Worker(workerFile(), {
    workerData: init,
    // Its heap holds the matrix and a few messages: a small young generation is plenty.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
    stdout: false,
    stderr: false,
  });
  return new Promise((resolveStart, reject) => {
    const onExit = (code: number) => reject(new ClusterDnsError('LISTEN_FAILED', `the failure-detector thread ended before it started (exit code ${code})`));
    const onError = (e: Error) => reject(new ClusterDnsError('LISTEN_FAILED', `the failure-detector thread failed to start: ${e.message}`));
    worker.once('exit', onExit);
    worker.once('error', onError);
    worker.on('message', function first(m: unknown) {
      if (!isFromDetector(m) || (m.type !== 'ready' && m.type !== 'failed')) return;
      worker.off('message', first);
      worker.off('exit', onExit);
      worker.off('error', onError);
      if (m.type === 'ready') return resolveStart({ worker, view: m.view });
      void worker.terminate();
      reject(new ClusterDnsError(m.code as ErrorCode, m.message, { details: [...m.details] }));
    });
  });
}
