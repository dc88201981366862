import { performance } from 'node:perf_hooks';
import { errorText, type Outcome, type ProbeResult } from './result';

/** Handed to a probe body: abort means "release everything now"; `stage` names what it waits for. */
export interface Attempt {
  readonly signal: AbortSignal;
  stage: string;
}

/**
 * Runs one probe body under a hard deadline. The result is settled by whichever comes first — the
 * body, the timeout, or `outer` aborting — so a body that ignores its signal still cannot make the
 * probe late. Afterwards the attempt's signal is always aborted: bodies release their sockets and
 * processes in one abort listener instead of on every exit path.
 */
export function withDeadline(
  timeoutMs: number,
  outer: AbortSignal | undefined,
  body: (attempt: Attempt) => Promise<Outcome>,
): Promise<ProbeResult> {
  const started = performance.now();
  const controller = new AbortController();
  const attempt: Attempt = { signal: controller.signal, stage: 'starting' };

  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
      controller.abort();
      resolve({ ...outcome, ms: Math.round((performance.now() - started) * 1000) / 1000 });
    };
    const onOuterAbort = (): void => finish({ ok: false, reason: `stopped ${attempt.stage}` });
    const timer = setTimeout(() => finish({ ok: false, reason: `timeout after ${timeoutMs} ms ${attempt.stage}` }), timeoutMs);

    if (outer?.aborted) return finish({ ok: false, reason: 'stopped before starting' });
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      body(attempt).then(finish, (e: unknown) => finish({ ok: false, reason: errorText(e) }));
    } catch (e) {
      finish({ ok: false, reason: errorText(e) });
    }
  });
}
