'use strict';
// Loaded into every thread of an agent by `npm run bench:memory -- --heaps` (NODE_OPTIONS=--require):
// every 2 s, this thread's V8 heap (total and used, MB, and each space's size) into
// MEMORY_PROBE_DIR/<pid>-<thread>.json. Not part of the agent.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const v8 = require('node:v8');
const { isMainThread, threadId, workerData } = require('node:worker_threads');

/** Which thread this is, told by what it was started with (src/threads/messages.ts, config/thread.ts). */
function kind() {
  const data = workerData ?? {};
  if ('zoneSerial' in data) return 'detector';
  if ('image' in data) return 'answer';
  if ('path' in data) return 'config';
  return 'thread';
}

const dir = process.env.MEMORY_PROBE_DIR;
if (dir) {
  const file = join(dir, `${process.pid}-${isMainThread ? 'main' : threadId}.json`);
  const mb = (b) => Math.round(b / 104857.6) / 10;
  setInterval(() => {
    const h = v8.getHeapStatistics();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => [s.space_name, mb(s.space_size)]));
    writeFileSync(file, JSON.stringify({ thread: isMainThread ? 'main' : `${kind()} ${threadId}`, total: mb(h.total_heap_size), used: mb(h.used_heap_size), external: mb(h.external_memory), spaces }));
  }, 2000).unref();
}
