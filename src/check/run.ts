import { evaluate, worthAskingAgain, type Report } from './report';
import type { Observations } from './types';

/**
 * Gathers and judges; a transient-looking problem (serials moving, a failover under way) is asked
 * about once more after the cluster's detection time before it counts.
 */
export async function runCheck(gatherOnce: () => Promise<Observations>, wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<Report> {
  const obs = await gatherOnce();
  const report = evaluate(obs);
  if (!worthAskingAgain(report)) return report;
  await wait(Math.max(1000, obs.detectionMs + 250));
  return evaluate(await gatherOnce(), true);
}
