import { parentPort, workerData } from 'node:worker_threads';
import { isClusterDnsError } from '../errors';
import { loadConfig } from './load';
import type { ConfigLoadRequest, ConfigLoadResult } from './thread';

/**
 * The config loader's thread (config/thread.ts): reads, validates and normalises one config file,
 * posts the result and ends. The YAML parser and the schema library live and die here, so the
 * agent's main thread never holds them (about 10 MB of RSS, README "Threads").
 */
function load(req: ConfigLoadRequest): ConfigLoadResult {
  try {
    return { ok: true, config: loadConfig(req.path, req.env) };
  } catch (e) {
    if (isClusterDnsError(e)) return { ok: false, code: e.code, message: e.message, details: e.details, exitCode: e.exitCode };
    return { ok: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
}

parentPort?.postMessage(load(workerData as ConfigLoadRequest));
