import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClusterDnsError, type ErrorCode } from '../errors';
import type { AnswerThreadStatus } from '../api/status-types';
import type { RateLimitConfig } from '../server/guard';
import { clearRow, sharedTallyBuffer } from '../server/tcp-tally';
import { emptySnapshot, snapshotTotal, type QueryStats, type QueryStatsSnapshot } from '../server/stats';
import { isFromAnswer, sharedNow, THREADS_PROTOCOL, type AnswerInit, type AnswerServerOptions, type FromAnswer, type ToAnswer } from '../threads/messages';
import type { AnswerTable } from '../zone/compile';
import { encodeTable, type TableImage } from '../zone/image';
import { BUNDLED } from '../bundle';

export type { AnswerThreadStatus };

export type PoolEvent = { readonly type: 'answer-thread'; readonly level: 'info' | 'warn'; readonly message: string; readonly thread: number };

/** The watchdog pings every thread this often... */
const PING_MS = 500;
/** ...and replaces one that has not answered for this long (its event loop is stuck, or it died). */
export const WEDGED_MS = 2000;
/** The HTTP API waits this long for fresh counters before it shows the last ones. */
const SNAPSHOT_WAIT_MS = 200;

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  state: AnswerThreadStatus['state'];
  version: number;
  lagMs: number | null;
  lastPong: number;
  stats: QueryStatsSnapshot;
  restarts: number;
  /** ms from control posting the newest table to this thread applying it; null until it has. */
  appliedMs: number | null;
  /** Next ping id this slot answers to. */
  waiting: Map<number, () => void>;
}

/**
 * N answer threads (src/answer/worker.ts), each with its own sockets on the node's addresses
 * (SO_REUSEPORT), fed the same immutable table image on every change: `setTable` encodes it once
 * (zone/image.ts) and posts the one SharedArrayBuffer to all. A watchdog pings each thread every
 * 500 ms; one that has not answered for 2 s (wedged: a bug, or a flood it cannot get out of) or that
 * ended is terminated — its sockets close, so the kernel stops giving it queries — and started
 * again with the current image, while the others serve. Its counters until its last answer are kept.
 */
export class AnswerPool {
  private readonly slots: Slot[];
  private image: TableImage;
  private version: number;
  /** When the newest table was posted (sharedNow). */
  private postedAt = 0;
  private retired: QueryStatsSnapshot[] = [];
  private watchdog: NodeJS.Timeout | undefined;
  private lastWatch = sharedNow();
  private nextPing = 1;
  private closing = false;
  table: AnswerTable;

  private constructor(
    table: AnswerTable,
    image: TableImage,
    private opts: AnswerServerOptions,
    private readonly stats: QueryStats,
    private readonly onEvent: (e: PoolEvent) => void,
    private readonly tally: SharedArrayBuffer,
    workers: Worker[],
  ) {
    this.table = table;
    this.image = image;
    this.version = image.version;
    this.slots = workers.map((w, index) => ({ index, worker: undefined, state: 'serving', version: image.version, lagMs: null, lastPong: sharedNow(), stats: emptySnapshot(), restarts: 0, appliedMs: null, waiting: new Map() }));
    workers.forEach((w, i) => this.adopt(this.slots[i], w));
    this.watchdog = setInterval(() => this.watch(), PING_MS);
    this.watchdog.unref();
  }

  /** Starts `threads` answer threads on the table; all must bind (LISTEN_FAILED otherwise, none left running). */
  static async start(threads: number, table: AnswerTable, opts: AnswerServerOptions, stats: QueryStats, onEvent: (e: PoolEvent) => void): Promise<AnswerPool> {
    const image = encodeTable(table, 1);
    const tally = sharedTallyBuffer(threads);
    const started = await Promise.allSettled(Array.from({ length: threads }, (_, i) => spawn(i, image, opts, tally)));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.terminate() : undefined)));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new AnswerPool(table, image, opts, stats, onEvent, tally, started.map((s) => (s as PromiseFulfilledResult<Worker>).value));
  }

  private adopt(slot: Slot, worker: Worker): void {
    slot.worker = worker;
    slot.state = 'serving';
    slot.lastPong = sharedNow();
    worker.on('message', (m: unknown) => {
      if (isFromAnswer(m)) this.receive(slot, worker, m);
    });
    worker.on('error', () => undefined);
    worker.once('exit', (code) => {
      if (slot.worker !== worker || this.closing) return;
      this.replace(slot, `ended (exit code ${code})`);
    });
    // The table may have changed while this thread started.
    if (slot.version !== this.version) this.post(slot, { type: 'table', image: this.image.buffer });
  }

  private receive(slot: Slot, worker: Worker, m: FromAnswer): void {
    if (slot.worker !== worker) return;
    switch (m.type) {
      case 'table-applied':
        slot.version = m.version;
        if (m.version === this.version) slot.appliedMs = sharedNow() - this.postedAt;
        break;
      case 'table-refused':
        this.onEvent({ type: 'answer-thread', level: 'warn', thread: slot.index, message: `answer thread ${slot.index} could not read table ${this.version}: ${m.message}; it answers from table ${slot.version}` });
        break;
      case 'pong':
        slot.lastPong = sharedNow();
        slot.lagMs = m.lagMs;
        slot.version = m.version;
        slot.stats = m.stats;
        slot.waiting.get(m.id)?.();
        slot.waiting.delete(m.id);
        break;
      default:
        break;
    }
  }

  private post(slot: Slot, m: ToAnswer): void {
    slot.worker?.postMessage(m);
  }

  private ping(slot: Slot): number {
    const id = this.nextPing++;
    this.post(slot, { type: 'ping', id, at: sharedNow() });
    return id;
  }

  private watch(): void {
    const now = sharedNow();
    // Time this thread did not run (the process stopped or paused, a long GC, a stuck reload) is
    // no thread's silence: nobody sent them pings. It is credited, so a SIGSTOP/SIGCONT or a busy
    // main thread never replaces healthy threads.
    const away = now - this.lastWatch - PING_MS;
    this.lastWatch = now;
    if (away > PING_MS) for (const slot of this.slots) slot.lastPong += away;
    for (const slot of this.slots) {
      if (slot.state === 'failed') {
        void this.restart(slot);
        continue;
      }
      if (!slot.worker || slot.state !== 'serving') continue;
      if (now - slot.lastPong > WEDGED_MS) {
        this.replace(slot, `wedged (no answer to the watchdog for ${((now - slot.lastPong) / 1000).toFixed(1)} s)`);
        continue;
      }
      this.ping(slot);
    }
  }

  /** Ends the slot's thread (its sockets close with it) and starts another in its place. */
  private replace(slot: Slot, why: string): void {
    const old = slot.worker;
    slot.worker = undefined;
    slot.state = 'starting';
    this.retired.push(slot.stats);
    slot.stats = emptySnapshot();
    slot.lagMs = null;
    this.onEvent({ type: 'answer-thread', level: 'warn', thread: slot.index, message: `answer thread ${slot.index} ${why}: replacing it; the other threads answer meanwhile` });
    void (old ? old.terminate() : Promise.resolve()).then(() => {
      // Its connections closed with it, without their close handlers: its share of the counts goes.
      clearRow(this.tally, slot.index);
      return this.restart(slot);
    });
  }

  private async restart(slot: Slot): Promise<void> {
    if (this.closing || slot.worker) return;
    const wasFailed = slot.state === 'failed';
    slot.state = 'starting';
    try {
      // The image it starts on: a table posted while it starts is sent to it by adopt().
      const image = this.image;
      const worker = await spawn(slot.index, image, this.opts, this.tally);
      if (this.closing) {
        void worker.terminate();
        return;
      }
      slot.restarts++;
      slot.version = image.version;
      this.adopt(slot, worker);
      this.onEvent({ type: 'answer-thread', level: 'info', thread: slot.index, message: `answer thread ${slot.index} started again (table ${this.version})` });
    } catch (e) {
      slot.state = 'failed';
      if (!wasFailed) this.onEvent({ type: 'answer-thread', level: 'warn', thread: slot.index, message: `answer thread ${slot.index} could not be started again: ${(e as Error).message}; retrying` });
    }
  }

  /** A new table for every thread: one image, one version, posted to all. */
  setTable(table: AnswerTable): void {
    this.table = table;
    this.image = encodeTable(table, ++this.version);
    this.postedAt = sharedNow();
    for (const slot of this.slots) {
      slot.appliedMs = null;
      this.post(slot, { type: 'table', image: this.image.buffer });
    }
  }

  setGuard(cookieKeys: readonly Uint8Array[], rateLimit: RateLimitConfig): void {
    this.opts = { ...this.opts, cookieKeys, rateLimit };
    for (const slot of this.slots) this.post(slot, { type: 'guard', cookieKeys, rateLimit });
  }

  /** Fresh counters, versions and lags from every thread (bounded in time); sums the counters into `stats`. */
  async snapshot(): Promise<void> {
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((done) => {
            if (!slot.worker || slot.state !== 'serving') return done();
            const id = this.ping(slot);
            const timer = setTimeout(() => {
              slot.waiting.delete(id);
              done();
            }, SNAPSHOT_WAIT_MS);
            slot.waiting.set(id, () => {
              clearTimeout(timer);
              done();
            });
          }),
      ),
    );
    this.stats.setSum([...this.retired, ...this.slots.map((s) => s.stats)]);
  }

  threads(): AnswerThreadStatus[] {
    return this.slots.map((s) => ({ index: s.index, where: 'worker', state: s.state, tableVersion: s.version, tableAppliedMs: s.appliedMs, queries: snapshotTotal(s.stats), lagMs: s.lagMs, restarts: s.restarts }));
  }

  get tableVersion(): number {
    return this.version;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.watchdog);
    await Promise.all(
      this.slots.map(async (slot) => {
        const w = slot.worker;
        slot.worker = undefined;
        if (!w) return;
        await new Promise<void>((done) => {
          const timer = setTimeout(done, 1500);
          w.on('message', (m: unknown) => {
            if (isFromAnswer(m) && m.type === 'stopped') {
              clearTimeout(timer);
              done();
            }
          });
          w.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          w.postMessage({ type: 'stop' } satisfies ToAnswer);
        });
        await w.terminate();
      }),
    );
  }
}

function workerFile(): string {
  if (BUNDLED) return join(__dirname, 'answer-worker.js');
  const here = join(__dirname, 'worker.js');
  return existsSync(here) ? here : resolve(__dirname, '../../dist/answer/worker.js');
}

function spawn(index: number, image: TableImage, server: AnswerServerOptions, tally: SharedArrayBuffer): Promise<Worker> {
  const init: AnswerInit = { protocol: THREADS_PROTOCOL, index, server, image: image.buffer, tally };
  const worker = new Worker(workerFile(), { workerData: init, stdout: false, stderr: false });
  return new Promise((resolveStart, reject) => {
    const onExit = (code: number) => reject(new ClusterDnsError('LISTEN_FAILED', `answer thread ${index} ended before it started (exit code ${code})`));
    const onError = (e: Error) => reject(new ClusterDnsError('LISTEN_FAILED', `answer thread ${index} failed to start: ${e.message}`));
    worker.once('exit', onExit);
    worker.once('error', onError);
    worker.on('message', function first(m: unknown) {
      if (!isFromAnswer(m) || (m.type !== 'ready' && m.type !== 'failed')) return;
      worker.off('message', first);
      worker.off('exit', onExit);
      worker.off('error', onError);
      if (m.type === 'ready') return resolveStart(worker);
      void worker.terminate();
      reject(new ClusterDnsError(m.code as ErrorCode, m.message));
    });
  });
}
