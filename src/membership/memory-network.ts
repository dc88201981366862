import type { Clock } from './clock';
import { seededRandom } from './prng';
import type { Transport } from './transport';

type Handler = (bytes: Uint8Array, from: string) => void;

/**
 * An in-memory network of named transports on a (fake) clock. Links are directed, so a one-way
 * partition is `cut(a, b)`; `partition([a, b], [c])` cuts both ways between groups. Loss, jitter
 * (which reorders: each packet draws its own delay) and duplication are drawn from a seeded PRNG
 * so a scenario is reproducible; `pause` models a stopped process (SIGSTOP).
 */
export class MemoryNetwork {
  private readonly transports = new Map<string, MemoryTransport>();
  private readonly cutLinks = new Set<string>();
  private readonly lossRates = new Map<string, number>();
  private defaultLoss = 0;
  private delayMs: number;
  private jitterMs = 0;
  private duplicateRate = 0;
  /** Paused node → when it resumes, and what arrived for it meanwhile. */
  private readonly paused = new Map<string, { until: number; queue: (() => void)[] }>();
  private readonly random: () => number;
  readonly stats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  /** Sees every datagram sent, before loss and partitions: an eavesdropper for replay tests. */
  tap: ((from: string, to: string, bytes: Uint8Array) => void) | undefined;

  constructor(
    private readonly clock: Clock,
    opts: { seed?: number; delayMs?: number; lossRate?: number } = {},
  ) {
    this.random = seededRandom(opts.seed ?? 1);
    this.delayMs = opts.delayMs ?? 1;
    this.defaultLoss = opts.lossRate ?? 0;
  }

  /** The transport of a node; calling it again after `close()` models a restarted process. */
  transport(name: string): MemoryTransport {
    const t = new MemoryTransport(this, name);
    this.transports.set(name, t);
    return t;
  }

  /** Loss on one directed link, or on every link when from/to are omitted. */
  setLoss(rate: number, from?: string, to?: string): void {
    if (from === undefined || to === undefined) {
      this.defaultLoss = rate;
      this.lossRates.clear();
    } else this.lossRates.set(link(from, to), rate);
  }

  setDelay(ms: number, jitterMs = 0): void {
    this.delayMs = ms;
    this.jitterMs = jitterMs;
  }

  /** Each packet that is not lost is delivered a second time with this probability, after its own delay. */
  setDuplicate(rate: number): void {
    this.duplicateRate = rate;
  }

  /**
   * A stopped process for `ms`: it sends nothing (its heartbeats are not sent, not queued), and what
   * arrives for it is delivered when it resumes, in order, as a socket buffer would. Its own timers
   * still run on the shared clock; within a pause shorter than downAfter that changes nothing.
   */
  pause(node: string, ms: number): void {
    const p = { until: this.clock.now() + ms, queue: [] as (() => void)[] };
    this.paused.set(node, p);
    this.clock.setTimeout(() => {
      if (this.paused.get(node) !== p) return;
      this.paused.delete(node);
      for (const deliver of p.queue) deliver();
    }, ms);
  }

  /** Symmetric partition: nodes in different groups cannot reach each other. */
  partition(...groups: readonly (readonly string[])[]): void {
    for (const [i, g] of groups.entries())
      for (const [j, h] of groups.entries()) if (i !== j) for (const a of g) for (const b of h) this.cutLinks.add(link(a, b));
  }

  /** One-way partition: `from` can no longer reach `to`; the reverse direction still works. */
  cut(from: string, to: string): void {
    this.cutLinks.add(link(from, to));
  }

  /** Removes every partition and cut; loss and delay stay. */
  heal(): void {
    this.cutLinks.clear();
  }

  /** Delivers raw bytes to a node as if an outsider sent them (forgeries, garbage). */
  inject(to: string, bytes: Uint8Array, from = 'mem:outsider'): void {
    const target = this.transports.get(to);
    this.clock.setTimeout(() => target?.deliver(bytes, from), 0);
  }

  /** @internal called by MemoryTransport. */
  route(from: string, to: string, bytes: Uint8Array): void {
    if (this.paused.has(from)) return;
    this.stats.sent++;
    this.tap?.(from, to, Uint8Array.from(bytes));
    const rate = this.lossRates.get(link(from, to)) ?? this.defaultLoss;
    // Draw for every packet, cut or not, so a partition does not shift the loss pattern of other links.
    const lost = this.random() < rate;
    const jitter = this.jitterMs > 0 ? Math.floor(this.random() * this.jitterMs) : 0;
    if (lost || this.cutLinks.has(link(from, to))) {
      this.stats.dropped++;
      return;
    }
    const copy = Uint8Array.from(bytes);
    this.schedule(from, to, copy, this.delayMs + jitter);
    // Drawn only when duplication is on, so older seeded scenarios keep their loss pattern.
    if (this.duplicateRate > 0 && this.random() < this.duplicateRate) {
      this.stats.duplicated++;
      this.schedule(from, to, copy, this.delayMs + Math.floor(this.random() * (this.jitterMs + 1)));
    }
  }

  private schedule(from: string, to: string, bytes: Uint8Array, ms: number): void {
    const deliver = () => {
      const target = this.transports.get(to);
      if (target?.deliver(bytes, `mem:${from}`)) this.stats.delivered++;
      else this.stats.dropped++;
    };
    this.clock.setTimeout(() => {
      const paused = this.paused.get(to);
      if (paused) paused.queue.push(deliver);
      else deliver();
    }, ms);
  }
}

export class MemoryTransport implements Transport {
  private handler: Handler | undefined;
  private closed = false;

  constructor(
    private readonly network: MemoryNetwork,
    readonly name: string,
  ) {}

  send(bytes: Uint8Array, toNode: string): void {
    if (!this.closed) this.network.route(this.name, toNode, bytes);
  }

  onMessage(handler: Handler): void {
    this.handler = handler;
  }

  close(): void {
    this.closed = true;
  }

  /** @internal */
  deliver(bytes: Uint8Array, from: string): boolean {
    if (this.closed || !this.handler) return false;
    this.handler(bytes, from);
    return true;
  }
}

function link(from: string, to: string): string {
  return `${from}\u0000${to}`;
}
