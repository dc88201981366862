import { EventEmitter } from 'node:events';
import type { CheckConfig, ClusterConfig } from '../config/types';
import { ClusterDnsError } from '../errors';
import { systemClock, type HealthClock } from './clock';
import { combine, initialHysteresis, observe, type Hysteresis, type Verdict } from './hysteresis';
import { runProbe } from './probe';
import type { Probe, ProbeResult } from './result';
import { describeTarget } from './target';

export type HealthKind = 'node' | 'service';

/** A group's settled verdict changed (see `HealthMonitor`). */
export interface HealthChange {
  readonly kind: HealthKind;
  readonly name: string;
  readonly healthy: boolean;
  readonly reason: string;
}

/** One probe finished; for metrics. */
export interface HealthResult extends ProbeResult {
  readonly kind: HealthKind;
  readonly name: string;
  readonly target: string;
}

export interface CheckDetail {
  readonly type: CheckConfig['type'];
  readonly target: string;
  readonly verdict: Verdict;
  /** The latest result; null until the first probe finished. */
  readonly lastOk: boolean | null;
  readonly reason: string;
  readonly latencyMs: number | null;
  /** How long ago the latest probe finished. */
  readonly ageMs: number | null;
  readonly successes: number;
  readonly failures: number;
  readonly rise: number;
  readonly fall: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface GroupDetail {
  readonly healthy: boolean;
  readonly verdict: Verdict;
  readonly checks: CheckDetail[];
}

export interface HealthDetails {
  readonly node: GroupDetail & { readonly name: string };
  readonly services: Record<string, GroupDetail>;
}

export interface HealthSnapshot {
  readonly nodeHealthy: boolean;
  readonly services: Record<string, boolean>;
}

export interface HealthMonitorOptions {
  readonly config: ClusterConfig;
  /** The node this agent runs on: its checks run here, against its first `listen` address by default. */
  readonly self: string;
  readonly clock?: HealthClock;
  /** Replaces the real probes, for tests of scheduling alone. */
  readonly probe?: Probe;
  /**
   * The monitor this one replaces (a reload): checks that did not change keep their results and
   * rise/fall state, so a reload neither flaps a node nor waits `rise` probes again.
   */
  readonly previous?: HealthMonitor;
}

interface Run {
  readonly check: CheckConfig;
  readonly host: string;
  readonly target: string;
  hysteresis: Hysteresis;
  last?: ProbeResult & { readonly at: number };
  timer?: unknown;
  inFlight?: AbortController;
}

interface Group {
  readonly kind: HealthKind;
  readonly name: string;
  readonly runs: Run[];
  verdict: Verdict;
  /** The verdict the last `change` event carried. */
  announced: Verdict;
}

type Events = { change: [HealthChange]; result: [HealthResult]; stopped: [] };

/**
 * Runs this node's checks (`config.checks`) and the checks of the services it serves, each on its
 * own interval, and keeps a rise/fall-damped verdict per node and per service (see `hysteresis.ts`).
 *
 * - A group with no checks is healthy; one whose checks have not settled yet is `unknown`, which
 *   the snapshot for membership (`current()`) reports as healthy until a check fails.
 * - Each check's next probe starts `intervalMs` after the previous one started, never while it is
 *   still running (the config keeps timeout ≤ interval, so it keeps its rate).
 * - `change` fires when a group's verdict settles or flips: at startup once it is known, then on
 *   every flip. `result` fires after every probe.
 * - Nothing runs until `start()`, so listeners can be attached first. `stop()` clears every timer
 *   and aborts every probe in flight (sockets destroyed, processes killed); it is final.
 */
export class HealthMonitor extends EventEmitter<Events> {
  private readonly clock: HealthClock;
  private readonly probe: Probe;
  private readonly node: Group;
  private readonly services: Group[];
  private started = false;
  private stopped = false;

  constructor(opts: HealthMonitorOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.probe = opts.probe ?? runProbe;
    const self = opts.config.nodes.find((n) => n.name === opts.self);
    if (!self)
      throw new ClusterDnsError('NODE_UNKNOWN', `no node is named "${opts.self}" in the config`, {
        details: [`use one of ${opts.config.nodes.map((n) => n.name).join(', ')}`],
      });
    const run = (check: CheckConfig, defaultPort?: number): Run => {
      // A service check without a port probes the service's own port.
      const effective = check.port === undefined && defaultPort !== undefined ? { ...check, port: defaultPort } : check;
      // The address the agent listens on, not the public `address`: on clouds that one is NAT'd
      // and often firewalled from the node itself. `listen` defaults to the node's addresses.
      const host = check.host ?? self.listen[0];
      return { check: effective, host, target: describeTarget(effective, host), hysteresis: initialHysteresis };
    };
    const kept = opts.previous?.carryOver() ?? new Map<string, Pick<Run, 'hysteresis' | 'last'>>();
    const group = (kind: HealthKind, name: string, fresh: Run[]): Group => {
      const runs = fresh.map((r) => ({ ...r, ...kept.get(runKey(kind, name, r)) }));
      const verdict = combine(runs.map((r) => r.hysteresis.verdict));
      return { kind, name, runs, verdict, announced: verdict };
    };
    this.node = group('node', self.name, opts.config.checks.map((c) => run(c)));
    this.services = opts.config.services
      .filter((s) => s.nodes.includes(self.name))
      .map((s) => group('service', s.name, s.check ? [run(s.check, s.port)] : []));
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const g of this.groups()) for (const r of g.runs) this.launch(g, r);
  }

  /**
   * Resolves once every check has a first result (or the monitor stopped). Probes are bounded by
   * their timeouts, so this is too. The agent waits for it (briefly) before its first heartbeat, so
   * a node whose checks fail at once never announces itself healthy only to take it back.
   */
  firstResults(): Promise<void> {
    const pending = () => !this.stopped && this.groups().some((g) => g.runs.some((r) => r.last === undefined));
    if (!pending()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (pending()) return;
        this.off('result', check);
        this.off('stopped', check);
        resolve();
      };
      this.on('result', check);
      this.on('stopped', check);
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const g of this.groups())
      for (const r of g.runs) {
        if (r.timer !== undefined) this.clock.clearTimeout(r.timer);
        r.timer = undefined;
        r.inFlight?.abort();
        r.inFlight = undefined;
      }
    this.emit('stopped');
  }

  /**
   * What membership publishes; services are those this node serves. Only a settled failure counts:
   * a check that has not run yet (or has not yet passed `rise` times, with no failure) is not
   * evidence against the node, and publishing it down would fail every node of a cold-started
   * cluster over at once. A real failure still shows on the first failed probe (see hysteresis.ts).
   */
  current(): HealthSnapshot {
    return {
      nodeHealthy: this.node.verdict !== 'unhealthy',
      services: Object.fromEntries(this.services.map((g) => [g.name, g.verdict !== 'unhealthy'])),
    };
  }

  details(): HealthDetails {
    const now = this.clock.now();
    return {
      node: { name: this.node.name, ...groupDetail(this.node, now) },
      services: Object.fromEntries(this.services.map((g) => [g.name, groupDetail(g, now)])),
    };
  }

  /** Results worth keeping across a reload, by what the check is (see `runKey`). */
  private carryOver(): Map<string, Pick<Run, 'hysteresis' | 'last'>> {
    const kept = new Map<string, Pick<Run, 'hysteresis' | 'last'>>();
    for (const g of this.groups()) for (const r of g.runs) kept.set(runKey(g.kind, g.name, r), { hysteresis: r.hysteresis, last: r.last });
    return kept;
  }

  private groups(): Group[] {
    return [this.node, ...this.services];
  }

  private launch(group: Group, run: Run): void {
    if (this.stopped) return;
    const startedAt = this.clock.now();
    const controller = new AbortController();
    run.inFlight = controller;
    // Wrapped so that even a probe that throws instead of resolving cannot stop the schedule.
    new Promise<ProbeResult>((resolve) => resolve(this.probe(run.check, run.host, controller.signal)))
      .catch((e: unknown): ProbeResult => ({ ok: false, reason: `probe failed: ${String(e)}`, ms: 0 }))
      .then((result) => {
        if (this.stopped || run.inFlight !== controller) return;
        run.inFlight = undefined;
        const delay = Math.max(0, startedAt + run.check.intervalMs - this.clock.now());
        run.timer = this.clock.setTimeout(() => {
          run.timer = undefined;
          this.launch(group, run);
        }, delay);
        this.record(group, run, result);
      });
  }

  private record(group: Group, run: Run, result: ProbeResult): void {
    run.hysteresis = observe(run.hysteresis, result.ok, run.check.rise, run.check.fall);
    run.last = { ...result, at: this.clock.now() };
    this.emit('result', { kind: group.kind, name: group.name, target: run.target, ...result });

    group.verdict = combine(group.runs.map((r) => r.hysteresis.verdict));
    // Compared with the last announced verdict, not the previous one: a group can pass through
    // unknown (one check recovered, another not checked yet) without that being news.
    if (group.verdict === 'unknown' || group.verdict === group.announced) return;
    group.announced = group.verdict;
    this.emit('change', { kind: group.kind, name: group.name, healthy: group.verdict === 'healthy', reason: groupReason(group) });
  }
}

/** The same check of the same group against the same host: a reload may keep its results. */
function runKey(kind: HealthKind, group: string, run: Pick<Run, 'check' | 'host'>): string {
  return JSON.stringify([kind, group, run.host, run.check]);
}

function groupReason(group: Group): string {
  const failing = group.runs.filter((r) => r.hysteresis.verdict === 'unhealthy');
  const shown = failing.length ? failing : group.runs;
  return shown.map((r) => `${r.target}: ${r.last?.reason ?? 'not checked yet'}`).join('; ');
}

function groupDetail(g: Group, now: number): GroupDetail {
  return {
    healthy: g.verdict === 'healthy',
    verdict: g.verdict,
    checks: g.runs.map((r) => ({
      type: r.check.type,
      target: r.target,
      verdict: r.hysteresis.verdict,
      lastOk: r.last ? r.last.ok : null,
      reason: r.last?.reason ?? 'not checked yet',
      latencyMs: r.last ? r.last.ms : null,
      ageMs: r.last ? now - r.last.at : null,
      successes: r.hysteresis.successes,
      failures: r.hysteresis.failures,
      rise: r.check.rise,
      fall: r.check.fall,
      intervalMs: r.check.intervalMs,
      timeoutMs: r.check.timeoutMs,
    })),
  };
}
