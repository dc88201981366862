import type { CheckConfig } from '../config/types';
import { probeExec } from './exec';
import { probeHttp } from './http';
import { probeRedis } from './redis';
import type { Probe, ProbeResult } from './result';
import { probeTcp } from './tcp';

const probes: Record<CheckConfig['type'], Probe> = { tcp: probeTcp, redis: probeRedis, http: probeHttp, exec: probeExec };

/** Runs the probe for `check.type` against `host`; like every probe, it never rejects. */
export const runProbe: Probe = (check, host, signal) => {
  const probe = probes[check.type] as Probe | undefined;
  if (!probe) return Promise.resolve<ProbeResult>({ ok: false, reason: `unknown check type ${String(check.type)}`, ms: 0 });
  return probe(check, host, signal);
};
