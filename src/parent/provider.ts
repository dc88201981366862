import { planDelegation, type Plan } from './plan';
import type { DesiredDelegation, RRset } from './records';

/** One parent-zone backend: read what the parent holds, then apply a plan made from it. */
export interface ParentZoneProvider {
  /** Where the delegation lives, for the plan's heading ("BIND 127.0.7.1:5300 zone test."). */
  readonly where: string;
  /** The parent's current RRsets for the zone and the given name-server hosts (more is fine). */
  read(desired: DesiredDelegation): Promise<RRset[]>;
  /** Makes the plan's changes atomically or not at all; returns a one-line result. */
  apply(plan: Plan, progress: (line: string) => void): Promise<string>;
}

export interface DelegateOutcome {
  readonly plan: Plan;
  readonly applied: boolean;
  readonly result?: string;
}

/** Read → plan → (apply). Nothing is written unless asked, and never when there is nothing to do. */
export async function delegate(
  provider: ParentZoneProvider,
  desired: DesiredDelegation,
  opts: { apply: boolean; progress: (line: string) => void; onPlan?: (plan: Plan) => void },
): Promise<DelegateOutcome> {
  const plan = planDelegation(desired, await provider.read(desired));
  opts.onPlan?.(plan);
  if (!opts.apply || plan.changes.length === 0) return { plan, applied: false };
  const result = await provider.apply(plan, opts.progress);
  return { plan, applied: true, result };
}
