import type { CheckConfig } from '../config/types';
import { hostPort } from '../net/host-port';
import { printable } from './result';

/**
 * How a check is named in logs, events and the status API: type and what it talks to. An exec check
 * shows its program only: arguments may carry credentials, and the status API may be read by more
 * people than the config (issue 9).
 */
export function describeTarget(check: CheckConfig, host: string): string {
  switch (check.type) {
    case 'http':
      return `http http://${hostPort(host, check.port ?? 80)}${check.path ?? '/'}`;
    case 'exec':
      return `exec ${printable(check.command?.[0] ?? '', 80)}`;
    case 'redis':
      return `redis ${hostPort(host, check.port ?? 6379)}`;
    default:
      return `${check.type} ${hostPort(host, check.port)}`;
  }
}
