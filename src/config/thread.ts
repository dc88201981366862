import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BUNDLED } from '../bundle';
import { ClusterDnsError, type ErrorCode } from '../errors';
import { deepFreeze } from '../freeze';
import type { ClusterConfig } from './types';

/** What the config thread is given: the file and the environment `${VAR}`s are read from. */
export interface ConfigLoadRequest {
  readonly path: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Its one message: the config (plain data), or the error to throw (`code` absent: a bug). */
export type ConfigLoadResult =
  | { readonly ok: true; readonly config: ClusterConfig }
  | { readonly ok: false; readonly code?: ErrorCode; readonly message: string; readonly details?: readonly string[]; readonly exitCode?: number };

/**
 * `loadConfig` (config/load.ts) in a short-lived thread, for the agent, which runs for months: the
 * YAML parser, the schema library and the schema itself cost about 10 MB of RSS that V8 would keep
 * for the life of the process once loaded, for a job done at start and at each SIGHUP. The thread
 * takes 40–100 ms to start; its memory is given back when it ends. The config comes back as a
 * structured clone (it is plain data: strings, numbers, arrays; the DNSSEC keys as base64) and is
 * frozen again here. The one-shot commands (`config check`, `zone export`, …) call `loadConfig`.
 */
export function loadConfigInThread(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ClusterConfig> {
  const request: ConfigLoadRequest = { path, env: { ...env } };
  const worker = new Worker(workerFile(), { workerData: request, stdout: false, stderr: false });
  return new Promise((resolveLoad, reject) => {
    let done = false;
    worker.once('message', (m: ConfigLoadResult) => {
      done = true;
      if (m.ok) resolveLoad(deepFreeze(m.config));
      else if (m.code) reject(new ClusterDnsError(m.code, m.message, { details: [...(m.details ?? [])], exitCode: m.exitCode }));
      else reject(new Error(`config thread: ${m.message}`));
    });
    worker.once('error', (e) => {
      done = true;
      reject(new Error(`config thread failed: ${e.stack ?? e.message}`));
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`config thread ended without an answer (exit code ${code})`));
    });
  });
}

/** dist/config/worker.js; from the TypeScript sources (vitest), the built one. */
function workerFile(): string {
  if (BUNDLED) return join(__dirname, 'config-worker.js');
  const here = join(__dirname, 'worker.js');
  return existsSync(here) ? here : resolve(__dirname, '../../dist/config/worker.js');
}
