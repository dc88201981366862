import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ClusterConfig } from '../config/types';
import { failoverTarget } from '../failover/rendezvous';
import type { Clock, TimerHandle } from './clock';
import { initialState, reduce, type Effect, type MembershipEvent } from './reducer';
import { newIncarnation } from './replay';
import type { Counters, LocalHealth, MembershipState } from './state';
import type { Transport } from './transport';
import { buildView, type ClusterView } from './view';

export interface MembershipOptions {
  readonly config: ClusterConfig;
  readonly self: string;
  /** Owned from here on: stop() closes it. */
  readonly transport: Transport;
  readonly clock: Clock;
  /** Polled every interval; see also refreshHealth(). */
  readonly getLocalHealth: () => LocalHealth;
  /** Tests pin it; by default boot time plus random bits (see newIncarnation). */
  readonly incarnation?: bigint;
}

/** Something worth a log line; `message` is that line. */
export type MembershipLogEvent =
  | { readonly type: 'verdict'; readonly node: string; readonly up: boolean; readonly target?: string; readonly message: string }
  | { readonly type: 'majority' | 'minority'; readonly message: string }
  | { readonly type: 'link'; readonly from: string; readonly to: string; readonly broken: boolean; readonly message: string }
  | { readonly type: 'config-mismatch'; readonly node: string; readonly theirHash: string; readonly ourHash: string; readonly message: string };

/** Why a 'view' was emitted: a verdict, the quorum, or a node's reported health changed. */
export type ViewChange = Extract<Effect, { type: 'verdict' | 'quorum' | 'health' }>;

export interface MembershipEvents {
  view: [view: ClusterView, changes: readonly ViewChange[]];
  event: [event: MembershipLogEvent];
  /** A peer announces a new SOA serial (the agent decides whether to follow it). */
  serial: [serial: number];
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
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(opts: MembershipOptions) {
    super();
    this.transport = opts.transport;
    this.clock = opts.clock;
    this.getLocalHealth = opts.getLocalHealth;
    if (!opts.config.nodes.some((n) => n.name === opts.self)) throw new TypeError(`no node named ${opts.self} in the config`);
    this.state = initialState({
      config: opts.config,
      self: opts.self,
      incarnation: opts.incarnation ?? newIncarnation(Date.now(), randomInt(0x100000)),
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
    this.timer = undefined;
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
  updateConfig(config: ClusterConfig): void {
    if (!config.nodes.some((n) => n.name === this.state.self)) throw new TypeError(`no node named ${this.state.self} in the new config`);
    (this.transport as { updateConfig?: (c: ClusterConfig) => void }).updateConfig?.(config);
    this.dispatch({ type: 'config', config });
  }

  private tick(): void {
    if (!this.running) return;
    // Scheduled first, so a throwing 'view' listener cannot stop the heartbeats.
    this.timer = this.clock.setTimeout(() => this.tick(), this.state.config.peer.intervalMs);
    const health = safeHealth(this.getLocalHealth);
    // A health change sends its own heartbeat, which stands in for this interval's.
    this.dispatch(sameHealth(health, this.state.localHealth) ? { type: 'tick' } : { type: 'local-health', health });
  }

  private dispatch(event: MembershipEvent): void {
    const { state, effects } = reduce(this.state, event, this.clock.now());
    this.state = state;
    if (effects.length) this.perform(effects);
  }

  private perform(effects: readonly Effect[]): void {
    const changes: ViewChange[] = [];
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          for (const to of e.to) this.transport.send(e.bytes, to);
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
        case 'config-mismatch':
          this.emit('event', {
            ...e,
            message: `${e.node} runs config ${e.theirHash}, this node ${e.ourHash}: roll the same config out to every node`,
          });
          break;
      }
    }
    if (!changes.length) return;
    const view = this.view();
    const up = view.nodes.filter((n) => n.up && n.role !== 'witness').map((n) => n.name);
    for (const c of changes) {
      if (c.type === 'quorum') this.emit('event', { type: c.hasMajority ? 'majority' : 'minority', message: c.reason });
      else if (c.type === 'verdict') {
        const target = c.up ? undefined : failoverTarget(c.node, up, this.state.config);
        const isWitness = this.state.config.nodes.find((n) => n.name === c.node)?.role === 'witness';
        const suffix = c.up || isWitness ? '' : `; ${c.node} → ${target ?? 'nothing (no node is up)'}`;
        this.emit('event', { type: 'verdict', node: c.node, up: c.up, target, message: c.reason + suffix });
      }
    }
    this.emit('view', view, changes);
  }
}

function safeHealth(get: () => LocalHealth): LocalHealth {
  try {
    const h = get();
    return { nodeHealthy: h.nodeHealthy !== false, services: { ...h.services } };
  } catch {
    // A broken health source must not stop heartbeats; reporting unhealthy fails the node over safely.
    return { nodeHealthy: false, services: {} };
  }
}

function sameHealth(a: LocalHealth, b: LocalHealth): boolean {
  if (a.nodeHealthy !== b.nodeHealthy) return false;
  const ka = Object.keys(a.services);
  return ka.length === Object.keys(b.services).length && ka.every((k) => a.services[k] === b.services[k]);
}
