import { connect } from 'node:net';
import type { CheckConfig } from '../config/types';
import { hostPort } from '../net/host-port';
import { withDeadline } from './deadline';
import { errorText, fail, pass, type Outcome, type ProbeResult } from './result';

/** Healthy when a TCP connection is established; the socket is closed at once, nothing is sent. */
export function probeTcp(check: CheckConfig, host: string, signal?: AbortSignal): Promise<ProbeResult> {
  return withDeadline(check.timeoutMs, signal, (attempt) => {
    const port = check.port;
    if (port === undefined) return Promise.resolve(fail('tcp check has no port'));
    const target = hostPort(host, port);
    attempt.stage = `connecting to ${target}`;
    return new Promise<Outcome>((resolve) => {
      const socket = connect({ host, port });
      attempt.signal.addEventListener('abort', () => socket.destroy(), { once: true });
      socket.on('connect', () => resolve(pass(`connected to ${target}`)));
      // `on`, not `once`: a second error after destroy() must not become an uncaught exception.
      socket.on('error', (e) => resolve(fail(errorText(e))));
      socket.on('close', () => resolve(fail(`connection to ${target} closed`)));
    });
  });
}
