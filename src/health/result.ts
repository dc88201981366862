import type { CheckConfig } from '../config/types';

/** What one probe found. `reason` is for people: it says what was seen, never just "failed". */
export interface ProbeResult {
  readonly ok: boolean;
  readonly reason: string;
  /** Wall time the probe took, in milliseconds (three decimals). */
  readonly ms: number;
}

/**
 * A probe never rejects and never outlives `check.timeoutMs`: every failure, including a timeout
 * or `signal` being aborted, is a result with a reason.
 */
export type Probe = (check: CheckConfig, host: string, signal?: AbortSignal) => Promise<ProbeResult>;

export type Outcome = Pick<ProbeResult, 'ok' | 'reason'>;

export function pass(reason: string): Outcome {
  return { ok: true, reason };
}

export function fail(reason: string): Outcome {
  return { ok: false, reason };
}


/** Node puts the useful part of a socket error in different places depending on its kind. */
export function errorText(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length) return e.errors.map(errorText).join('; ');
  if (e instanceof Error) return e.message || (e as NodeJS.ErrnoException).code || e.name;
  return String(e);
}

/** Peer-supplied text (a Redis reply, stderr) goes into logs: keep it printable and short. */
export function printable(text: string, max = 200): string {
  const clean = text.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
