import { checkDelegation } from './delegation';
import { checkDnssec } from './dnssec';
import { buildModel, type Model } from './model';
import { checkNames, failedOverNames, type FailedOver } from './names';
import { checkServers } from './servers';
import { checkStaleness, staleness, type Staleness } from './staleness';
import type { Finding, Observations, Severity } from './types';

export type Verdict = 'healthy' | 'degraded' | 'broken';

export interface Report {
  readonly verdict: Verdict;
  /** 0 healthy, 1 degraded (a node down but failed over), 2 broken. */
  readonly exitCode: 0 | 1 | 2;
  readonly model: Model;
  readonly findings: readonly Finding[];
  readonly failedOver: readonly FailedOver[];
  readonly staleness: Staleness;
  /** The first gathering had a transient problem, so the servers were asked again once. */
  readonly reasked: boolean;
}

const ORDER: Record<Severity, number> = { broken: 0, degraded: 1, warn: 2, ok: 3 };

/** All conclusions from one set of observations. Pure. */
export function evaluate(obs: Observations, reasked = false): Report {
  const model = buildModel(obs);
  const st = staleness(obs, model);
  const findings = [...checkDelegation(obs, model), ...checkServers(obs, model), ...checkNames(obs, model), ...checkStaleness(st), ...checkDnssec(obs.zone, obs.dnssec)].sort(
    (a, b) => ORDER[a.severity] - ORDER[b.severity],
  );
  const verdict: Verdict = findings.some((f) => f.severity === 'broken') ? 'broken' : findings.some((f) => f.severity === 'degraded') ? 'degraded' : 'healthy';
  return {
    verdict,
    exitCode: verdict === 'broken' ? 2 : verdict === 'degraded' ? 1 : 0,
    model,
    findings,
    failedOver: failedOverNames(obs, model),
    staleness: st,
    reasked,
  };
}

/** A change in progress looks like a disagreement for about a second: such findings earn one more look. */
export function worthAskingAgain(report: Report): boolean {
  return report.findings.some((f) => f.severity === 'broken' && f.transient);
}
