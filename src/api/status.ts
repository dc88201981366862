import type { AgentEvent } from '../agent/agent';
import type { ClusterConfig, NodeConfig } from '../config/types';
import type { HealthDetails } from '../health/monitor';
import type { ClusterView, NodeView } from '../membership/view';
import { majorityOf } from '../membership/verdict';
import type { QueryStats } from '../server/stats';
import type { ZoneInputs } from '../zone/inputs';
import { buildZone } from '../zone/zone';
import { currentAnswers } from './answers';
import { isoTime } from './time';
import type { AnswerThreadStatus, CheckStatus, NodeCondition, NodeStatus, StatusDocument } from './status-types';

/** What the status document is read from; the `Agent` is one. */
export interface StatusSource {
  readonly node: NodeConfig;
  readonly currentConfig: ClusterConfig;
  readonly currentInputs: ZoneInputs;
  readonly startedAt: number;
  readonly events: readonly AgentEvent[];
  readonly failovers: number;
  readonly stats: Pick<QueryStats, 'total' | 'truncated' | 'dropped'>;
  view(): ClusterView | undefined;
  healthDetails(): HealthDetails | undefined;
  /** Brings view() and counters() up to date (the detector runs in its own thread); bounded in time. */
  refresh?(): Promise<void>;
  answerThreads?(): readonly AnswerThreadStatus[];
}

/** Heartbeats later than this many intervals make an up node `suspect` (it is not down yet). */
const SUSPECT_AFTER_INTERVALS = 2;

/** `wallNow` is Date.now() at the request: the view's times are monotonic and converted with it. */
export function statusDocument(src: StatusSource, wallNow: number, version: string): StatusDocument {
  const config = src.currentConfig;
  const view = src.view();
  const self = src.node.name;
  const ownRow = view?.matrix[self]?.heard ?? {};
  const { downAfterMs, intervalMs } = config.peer;
  const inputs = src.currentInputs;
  const hears = config.nodes.filter((n) => n.name === self || (ownRow[n.name]?.everHeard === true && ownRow[n.name].ageMs < downAfterMs)).map((n) => n.name);
  const iso = (clockMs: number) => isoTime(wallNow - ((view?.at ?? clockMs) - clockMs));

  const nodes: NodeStatus[] = config.nodes.map((n) => {
    const v: NodeView | undefined = view?.nodes.find((x) => x.name === n.name);
    const heard = ownRow[n.name];
    const heardAgoMs = n.name === self ? 0 : heard?.everHeard ? Math.round(heard.ageMs) : null;
    return {
      name: n.name,
      role: n.role,
      address: n.address ?? null,
      address6: n.address6 ?? null,
      privateAddress: n.privateAddress ?? null,
      privateAddress6: n.privateAddress6 ?? null,
      rack: n.rack ?? null,
      state: v?.state ?? 'unknown',
      up: v?.up ?? false,
      condition: condition(v, heardAgoMs, SUSPECT_AFTER_INTERVALS * intervalMs),
      reason: v?.reason ?? 'membership not started',
      since: v ? iso(v.since) : isoTime(src.startedAt),
      holdDownMs: v?.holdDownMs ?? config.peer.upAfterMs,
      healthy: v?.healthy ?? null,
      services: v?.services ?? {},
      heardAgoMs,
      configHash: v?.configHash ?? null,
      self: n.name === self,
    };
  });

  const hashes = view?.configHashes ?? { [self]: config.hash };
  return {
    apiVersion: 1,
    node: self,
    role: src.node.role,
    version,
    now: isoTime(wallNow),
    startedAt: isoTime(src.startedAt),
    uptimeSeconds: Math.max(0, Math.round((wallNow - src.startedAt) / 1000)),
    zone: config.zone,
    serial: inputs.serial,
    configHash: config.hash,
    serving: src.node.role !== 'witness' && (view?.serving ?? false) && inputs.serving,
    quorum: view?.quorum ?? false,
    minority: view?.minority ?? true,
    majority: majorityOf(config.nodes.length),
    hears,
    unavailableRcode: config.dns.minority === 'servfail' ? 'SERVFAIL' : 'REFUSED',
    peer: { intervalMs, downAfterMs, upAfterMs: config.peer.upAfterMs },
    failovers: src.failovers,
    nodes,
    matrix: Object.fromEntries(
      config.nodes.map((n) => {
        const row = view?.matrix[n.name];
        return [n.name, row ? { rowAgeMs: Math.round(row.rowAgeMs), fresh: row.fresh, heard: mapValues(row.heard, (o) => ({ everHeard: o.everHeard, ageMs: Math.round(o.ageMs) })) } : null];
      }),
    ),
    config: { hashes, mismatch: Object.values(hashes).some((h) => h !== config.hash) },
    answers: currentAnswers(buildZone(config, inputs)),
    links: (view?.links ?? []).map((l) => ({ from: l.from, to: l.to, reverseHeard: l.reverseHeard ?? null, message: l.message })),
    checks: checks(src.healthDetails()),
    dns: { queries: src.stats.total(), truncated: src.stats.truncated, dropped: src.stats.dropped, threads: src.answerThreads?.() ?? [] },
    events: [...src.events].reverse().map((e) => ({ at: isoTime(e.at), type: e.type, message: e.message })),
  };
}

function condition(v: NodeView | undefined, heardAgoMs: number | null, lateMs: number): NodeCondition {
  if (!v || v.state === 'unknown') return 'unknown';
  if (v.state === 'down') return 'down';
  if (v.healthy === false || heardAgoMs === null || heardAgoMs > lateMs) return 'suspect';
  return 'up';
}

function checks(details: HealthDetails | undefined): CheckStatus[] {
  if (!details) return [];
  const groups: Array<[CheckStatus['kind'], string, HealthDetails['node']['checks']]> = [
    ['node', details.node.name, details.node.checks],
    ...Object.entries(details.services).map(([name, g]): [CheckStatus['kind'], string, HealthDetails['node']['checks']] => ['service', name, g.checks]),
  ];
  return groups.flatMap(([kind, name, list]) =>
    list.map((c) => ({
      kind,
      name,
      type: c.type,
      target: c.target,
      verdict: c.verdict,
      lastOk: c.lastOk,
      reason: c.reason,
      latencyMs: c.latencyMs,
      ageMs: c.ageMs === null ? null : Math.round(c.ageMs),
    })),
  );
}

function mapValues<V, W>(o: Readonly<Record<string, V>>, f: (v: V) => W): Record<string, W> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
