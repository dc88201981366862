import { request } from 'node:http';
import type { CheckConfig } from '../config/types';
import { hostPort } from '../net/host-port';
import { withDeadline } from './deadline';
import { errorText, fail, pass, type Outcome, type ProbeResult } from './result';

const DEFAULT_PORT = 80;

/**
 * Healthy when `GET path` answers a status in `expectStatus` (default 200–399). Only the status
 * line matters: the body is never read, and the connection is not reused (`agent: false`), so a
 * probe cannot pile up sockets in a pool.
 */
export function probeHttp(check: CheckConfig, host: string, signal?: AbortSignal): Promise<ProbeResult> {
  return withDeadline(check.timeoutMs, signal, (attempt) => {
    const port = check.port ?? DEFAULT_PORT;
    const path = check.path ?? '/';
    const url = `http://${hostPort(host, port)}${path}`;
    attempt.stage = `waiting for ${url}`;
    return new Promise<Outcome>((resolve) => {
      const req = request({
        host,
        port,
        path,
        method: 'GET',
        agent: false,
        headers: { 'user-agent': 'clusterdns-health', accept: '*/*', connection: 'close' },
      });
      attempt.signal.addEventListener('abort', () => req.destroy(), { once: true });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        res.destroy();
        resolve(statusOk(status, check.expectStatus) ? pass(`HTTP ${status}`) : fail(`HTTP ${status} from ${url}, expected ${describe(check.expectStatus)}`));
      });
      req.on('error', (e) => resolve(fail(`${url}: ${errorText(e)}`)));
      req.on('close', () => resolve(fail(`${url}: connection closed before a response`)));
      req.end();
    });
  });
}

export function statusOk(status: number, expect: readonly number[] | undefined): boolean {
  return expect ? expect.includes(status) : status >= 200 && status <= 399;
}

function describe(expect: readonly number[] | undefined): string {
  return expect ? expect.join(' or ') : '200–399';
}
