import { parseConfig } from '../../src/config/load';
import type { ClusterConfig } from '../../src/config/types';
import { zoneInputs } from '../../src/failover/zone-inputs';
import { FakeClock, type Clock } from '../../src/membership/clock';
import { MemoryNetwork } from '../../src/membership/memory-network';
import { Membership, type MembershipLogEvent } from '../../src/membership/runtime';
import type { LocalHealth } from '../../src/membership/state';

export const SECRET = 'test-secret-test-secret-test-secret-0123';

export interface NodeSpec {
  name: string;
  rack?: string;
  role?: 'node' | 'witness';
}

/** A real, validated config (parseConfig), nodes on 127.0.4.x, defaults unless overridden. */
export function makeConfig(
  nodes: number | NodeSpec[],
  extra: { peer?: Record<string, unknown>; services?: unknown[]; failoverOnCheckFailure?: boolean; portBase?: number } = {},
): ClusterConfig {
  const specs: NodeSpec[] = typeof nodes === 'number' ? Array.from({ length: nodes }, (_, i) => ({ name: `node${i + 1}` })) : nodes;
  const doc = {
    zone: 'cluster.test',
    secret: SECRET,
    peer: { port: extra.portBase ?? 17946, ...extra.peer },
    ...(extra.failoverOnCheckFailure !== undefined ? { failoverOnCheckFailure: extra.failoverOnCheckFailure } : {}),
    nodes: specs.map((s, i) => ({ name: s.name, address: `127.0.4.${i + 1}`, ...(s.rack ? { rack: s.rack } : {}), ...(s.role ? { role: s.role } : {}) })),
    services: extra.services ?? [],
  };
  return parseConfig(JSON.stringify(doc));
}

export interface Logged {
  at: number;
  node: string;
  event: MembershipLogEvent;
}

/** N agents on a MemoryNetwork and a FakeClock: start, kill, restart, run virtual time. */
export class SimCluster {
  readonly clock = new FakeClock(1_000_000);
  readonly net: MemoryNetwork;
  readonly members = new Map<string, Membership>();
  readonly health = new Map<string, LocalHealth>();
  readonly log: Logged[] = [];
  private boots = 0;

  /**
   * What the agents run on: the virtual clock, with the wall clock's phase (runtime.ts tickDelay) as
   * a real agent's, so heartbeats go out on common boundaries with a check between, as in
   * production. `wallPhase: false` gives plain virtual time (ticks every interval from each start).
   */
  readonly rhythm: Clock;

  constructor(
    readonly config: ClusterConfig,
    opts: { seed?: number; lossRate?: number; delayMs?: number; wallPhase?: boolean } = {},
  ) {
    this.net = new MemoryNetwork(this.clock, opts);
    this.rhythm = opts.wallPhase === false ? this.clock : this.clock.withWallPhase();
  }

  get names(): string[] {
    return this.config.nodes.map((n) => n.name);
  }

  startAll(): this {
    for (const n of this.names) this.start(n);
    return this;
  }

  /**
   * Starts (or restarts) a node's agent with a new boot id and sequence start: distinct per boot,
   * unordered and spread over the whole range (so serial arithmetic wraps), like the runtime's
   * random ones, but repeatable. `boot` pins them; `setup` runs before its first heartbeat.
   */
  start(name: string, config = this.config, boot: { incarnation?: bigint; sequence?: number } = {}, setup?: (m: Membership) => void): Membership {
    let n = ++this.boots;
    this.members.get(name)?.stop();
    const m = new Membership({
      config,
      self: name,
      transport: this.net.transport(name),
      clock: this.rhythm,
      getLocalHealth: () => this.health.get(name) ?? { nodeHealthy: true, services: {} },
      bootIds: () => {
        const id = { incarnation: boot.incarnation ?? this.bootId(n), sequence: boot.sequence ?? Math.imul(n, 0x9e3779b9) >>> 0 };
        boot = {};
        n = ++this.boots;
        return id;
      },
    });
    m.on('event', (event) => this.log.push({ at: this.clock.now(), node: name, event }));
    this.members.set(name, m);
    setup?.(m);
    m.start();
    return m;
  }

  private bootId(n: number): bigint {
    return BigInt.asUintN(64, BigInt(Math.imul(n, 0x2545f491) >>> 0) * 0x9e3779b97f4a7c15n);
  }

  /** kill -9: the agent stops sending and receiving. */
  kill(name: string): void {
    this.members.get(name)!.stop();
    this.members.delete(name);
  }

  run(ms: number): void {
    this.clock.advance(ms);
  }

  /** Advances in small steps until `cond` holds; returns the time it took, or undefined. */
  runUntil(cond: () => boolean, maxMs: number, stepMs = 5): number | undefined {
    const start = this.clock.now();
    while (this.clock.now() - start <= maxMs) {
      if (cond()) return this.clock.now() - start;
      this.clock.advance(stepMs);
    }
    return undefined;
  }

  live(): string[] {
    return [...this.members.keys()];
  }

  view(name: string) {
    return this.members.get(name)!.view();
  }

  state(of: string, node: string) {
    return this.view(of).nodes.find((n) => n.name === node)!.state;
  }

  /** Every live agent's inputs are equal; returns the common value. */
  agreedInputs(agents = this.live()) {
    const all = agents.map((a) => this.inputs(a));
    for (const x of all.slice(1)) if (JSON.stringify(x) !== JSON.stringify(all[0])) return undefined;
    return all[0];
  }

  /** zoneInputs without the serial, in a form toEqual compares. */
  inputs(name: string) {
    const z = zoneInputs(this.config, this.view(name), 0);
    return { nodeTargets: [...z.nodeTargets], upNodes: z.upNodes, services: [...z.services], serving: z.serving };
  }

  verdictEvents(filter: { node?: string; up?: boolean } = {}): Logged[] {
    return this.log.filter(
      (l) => l.event.type === 'verdict' && (filter.node === undefined || l.event.node === filter.node) && (filter.up === undefined || l.event.up === filter.up),
    );
  }

  stopAll(): void {
    for (const m of this.members.values()) m.stop();
    this.members.clear();
  }
}
