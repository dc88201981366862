import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { CheckConfig } from '../../src/config/types';

/** A check with short test timings; override what the case is about. */
export function check(over: Partial<CheckConfig> & Pick<CheckConfig, 'type'>): CheckConfig {
  return { intervalMs: 1000, timeoutMs: 300, rise: 2, fall: 2, ...over };
}

export async function listen(server: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown }, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as { port: number }).port;
}

/** A port that was free a moment ago, for programs that must be told their port. */
export async function freePort(host: string): Promise<number> {
  const s: Server = createServer();
  const port = await listen(s, host);
  await new Promise((r) => s.close(r));
  return port;
}

export { findTool, requireTool } from '../helpers/tools';

/** Polls `cond` every 10 ms until it holds or `ms` passes; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether `pid` is a live process; a zombie left for a non-reaping init counts as gone. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
