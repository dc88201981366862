import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { PeerConfig } from './peer-config';
import type { Clock, TimerHandle } from './clock';
import { initialState, reduce, sameHealth, wantsCheck, type Effect, type MembershipEvent } from './reducer';
import { isFresh, safeHealth, type Counters, type LocalHealth, type MembershipState } from './state';
import type { Transport } from './transport';
import { buildView, type ClusterView } from './view';

export interface MembershipOptions {
  readonly config: PeerConfig;
  readonly self: string;
  /** Owned from here on: stop() closes it. */
  readonly transport: Transport;
  readonly clock: Clock;
  /** Polled every interval; see also refreshHealth(). */
  readonly getLocalHealth: () => LocalHealth;
  /** A boot id and sequence start: at start and after a roll-back. Random unless a test pins them (see replay.ts). */
  readonly bootIds?: () => BootId;
}

/** Something worth a log line; `message` is that line. */
export type MembershipLogEvent =
  | { readonly type: 'verdict'; readonly node: string; readonly up: boolean; readonly message: string }
  | { readonly type: 'majority' | 'minority'; readonly message: string }
  /** This agent was rolled back (a restored snapshot) and took a new boot id to be heard again. */
  | { readonly type: 'new-boot'; readonly message: string }
  /** The agent went on, but a heartbeat was not sent or an event not handled: a bug to report. */
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'link'; readonly from: string; readonly to: string; readonly broken: boolean; readonly message: string }
  | { readonly type: 'config-mismatch'; readonly node: string; readonly theirHash: string; readonly ourHash: string; readonly message: string }
  /** The detector thread's copy of this node's check results went stale or fresh again (detector/health.ts). */
  | { readonly type: 'health-stale'; readonly stale: boolean; readonly message: string };

/** Why a 'view' was emitted: a verdict, the quorum, or a node's reported health changed. */
export type ViewChange = Extract<Effect, { type: 'verdict' | 'quorum' | 'health' }>;

export interface MembershipEvents {
  view: [view: ClusterView, changes: readonly ViewChange[]];
  event: [event: MembershipLogEvent];
  /** A peer announces a new SOA serial (the agent decides whether to follow it). */
  serial: [serial: number];
  /**
   * The peers this agent hears (heard within downAfter) changed, looked at each tick and check:
   * what Sentinel's per-node s_down reads. A verdict change comes later, as a 'view'.
   */
  heard: [peers: readonly string[]];
}

/**
 * The thin shell around the reducer: a heartbeat every interval, received bytes in, effects out.
 * Emits 'view' when a verdict, the quorum or a node's reported health changes (anything zoneInputs
 * reads), and 'event' for log-worthy things.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  private state: MembershipState;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly getLocalHealth: () => LocalHealth;
  private readonly bootIds: () => BootId;
  private timer: TimerHandle | undefined;
  private checkTimer: TimerHandle | undefined;
  private running = false;
  /** The fresh peers at the last look, joined (see 'heard'). */
  private heardKey = '';

  constructor(opts: MembershipOptions) {
    super();
    this.transport = opts.transport;
    this.clock = opts.clock;
    this.getLocalHealth = opts.getLocalHealth;
    this.bootIds = opts.bootIds ?? randomBootId;
    if (!opts.config.nodes.some((n) => n.name === opts.self)) throw new TypeError(`no node named ${opts.self} in the config`);
    this.state = initialState({
      config: opts.config,
      self: opts.self,
      ...this.bootIds(),
      now: this.clock.now(),
      localHealth: safeHealth(this.getLocalHealth),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.transport.onMessage((bytes) => {
      if (this.running) this.dispatch({ type: 'message', bytes });
    });
    this.tick();
  }

  /** Stops heartbeats and closes the transport (resolves when it is closed); the view stays readable. */
  stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.checkTimer !== undefined) this.clock.clearTimeout(this.checkTimer);
    this.timer = this.checkTimer = undefined;
    return Promise.resolve(this.transport.close());
  }

  view(): ClusterView {
    return buildView(this.state, this.clock.now());
  }

  counters(): Counters {
    return this.state.counters;
  }

  /** Reads local health now instead of at the next interval (call it when a check flips). */
  refreshHealth(): void {
    if (!this.running) return;
    const health = safeHealth(this.getLocalHealth);
    if (!sameHealth(health, this.state.localHealth)) this.dispatch({ type: 'local-health', health });
  }

  /** The SOA serial this agent serves, announced in its heartbeats. */
  setZoneSerial(serial: number): void {
    this.dispatch({ type: 'zone-serial', serial });
  }

  /** SIGHUP: new timings, nodes and secret apply from the next heartbeat. */
  updateConfig(config: PeerConfig): void {
    if (!config.nodes.some((n) => n.name === this.state.self)) throw new TypeError(`no node named ${this.state.self} in the new config`);
    (this.transport as { updateConfig?: (c: PeerConfig) => void }).updateConfig?.(config);
    this.dispatch({ type: 'config', config });
  }

  private tick(): void {
    if (!this.running) return;
    // Scheduled first, so a throwing 'view' listener cannot stop the heartbeats.
    const { intervalMs } = this.state.config.peer;
    this.timer = this.clock.setTimeout(() => this.tick(), tickDelay(intervalMs, this.clock.phase?.(intervalMs)));
    // Silence crosses downAfter on a tick boundary, where every agent sends and evaluates at once: a
    // dead node's last heartbeat arrived a few ms after the boundary downAfter ago, so at the
    // boundary it is not quite silent yet and was found an interval later (+250 ms failover). A
    // second look half an interval on finds it then, away from the burst; only while a peer is late.
    if (this.clock.phase && wantsCheck(this.state, this.clock.now()))
      this.checkTimer = this.clock.setTimeout(() => {
        if (!this.running) return;
        this.dispatch({ type: 'check' });
        this.lookAtHeard();
      }, intervalMs / 2);
    const health = safeHealth(this.getLocalHealth);
    // A health change sends its own heartbeat, which stands in for this interval's.
    this.dispatch(sameHealth(health, this.state.localHealth) ? { type: 'tick' } : { type: 'local-health', health });
    this.lookAtHeard();
  }

  /** The peers heard within downAfter right now, in config order. */
  heardPeers(): string[] {
    const now = this.clock.now();
    const { downAfterMs } = this.state.config.peer;
    const heard: string[] = [];
    for (const [name, p] of this.state.peers) if (isFresh(p, now, downAfterMs)) heard.push(name);
    return heard;
  }

  /**
   * Emits 'heard' when the peers heard within downAfter change, or those heard within two
   * intervals (a late peer: Sentinel's `disconnected`, src/discovery): readers of the detector's
   * views then get one at each change, since the ages in a view are as of when it was taken.
   */
  private lookAtHeard(): void {
    if (this.listenerCount('heard') === 0) return;
    const heard = this.heardPeers();
    const now = this.clock.now();
    const promptMs = 2 * this.state.config.peer.intervalMs;
    const prompt: string[] = [];
    for (const [name, p] of this.state.peers) if (isFresh(p, now, promptMs)) prompt.push(name);
    const key = `${heard.join('\u0000')}|${prompt.join('\u0000')}`;
    if (key === this.heardKey) return;
    this.heardKey = key;
    try {
      this.emit('heard', heard);
    } catch (e) {
      this.failed(`a 'heard' listener threw: ${(e as Error).message}`);
    }
  }

  /** Never throws: it runs in timers and socket callbacks, where a throw would end the process. */
  private dispatch(event: MembershipEvent): void {
    let step;
    try {
      step = reduce(this.state, event, this.clock.now());
    } catch (e) {
      this.failed(`${event.type} not handled: ${(e as Error).message}`);
      return;
    }
    this.state = step.state;
    try {
      if (step.effects.length) this.perform(step.effects);
    } catch (e) {
      this.failed(`${event.type} effects not carried out: ${(e as Error).message}`);
    }
  }

  private failed(message: string): void {
    try {
      this.emit('event', { type: 'error', message: `${this.state.self}: ${message}` });
    } catch {
      // A throwing listener must not take the heartbeats down with it.
    }
  }

  private perform(effects: readonly Effect[]): void {
    const changes: ViewChange[] = [];
    let rolledBack = false;
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          for (const to of e.to) {
            try {
              this.transport.send(e.bytes, to);
            } catch (err) {
              // One peer's bad address must not cost the others their heartbeat, nor this step its view.
              this.failed(`heartbeat to ${to} not sent: ${(err as Error).message}`);
            }
          }
          break;
        case 'verdict':
        case 'quorum':
        case 'health':
          changes.push(e);
          break;
        case 'link':
          this.emit('event', {
            type: 'link',
            from: e.fault.from,
            to: e.fault.to,
            broken: e.broken,
            message: e.broken ? e.fault.message : `${e.fault.to} hears ${e.fault.from} again`,
          });
          break;
        case 'peer-serial':
          this.emit('serial', e.serial);
          break;
        case 'rolled-back':
          if (rolledBack) break;
          rolledBack = true;
          this.emit('event', {
            type: 'new-boot',
            message: `${this.state.self}: ${e.node} echoes sequence ${e.echoed}, past this agent's ${e.sequence}: it was rolled back (a restored snapshot?); continuing under a new boot id`,
          });
          break;
        case 'send-failed':
          this.failed(`heartbeat not sent: ${e.reason}`);
          break;
        case 'config-mismatch':
          this.emit('event', {
            ...e,
            message: `${e.node} runs config ${e.theirHash}, this node ${e.ourHash}: roll the same config out to every node`,
          });
          break;
      }
    }
    if (rolledBack) this.dispatch({ type: 'new-boot', ...this.bootIds() });
    if (!changes.length) return;
    for (const c of changes) {
      if (c.type === 'quorum') this.emit('event', { type: c.hasMajority ? 'majority' : 'minority', message: c.reason });
      else if (c.type === 'verdict') this.emit('event', { type: 'verdict', node: c.node, up: c.up, message: c.reason });
    }
    this.emit('view', this.view(), changes);
  }
}

/**
 * The wait until the next heartbeat: one interval, nudged by at most a quarter of one towards the
 * nearest boundary of the interval on the shared (wall) clock, so every agent of a cluster whose
 * clocks agree sends in the same few milliseconds. A receiver then reads its peers' heartbeats in a
 * burst, a few wake-ups an interval instead of one per peer: what an idle agent spends is mostly
 * the cost of waking up (issue 10, 17 nodes: CPU at rest). Clocks that disagree, or a step, cost
 * the alignment, never the rhythm: the gap stays within 0.75–1.25 intervals, well inside downAfter.
 */
export function tickDelay(intervalMs: number, phase: number | undefined): number {
  if (phase === undefined || !Number.isFinite(phase)) return intervalMs;
  const past = phase > intervalMs / 2 ? phase - intervalMs : phase;
  return intervalMs - Math.max(-intervalMs / 4, Math.min(intervalMs / 4, past));
}

export interface BootId {
  readonly incarnation: bigint;
  readonly sequence: number;
}

function randomBootId(): BootId {
  return { incarnation: randomBytes(8).readBigUInt64BE(), sequence: randomBytes(4).readUInt32BE() };
}
