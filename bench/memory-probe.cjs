'use strict';
// Loaded into every thread of an agent by `npm run bench:memory -- --heaps` (NODE_OPTIONS=--require):
// every 2 s, this thread's V8 heap (total and used, MB) into MEMORY_PROBE_DIR/<pid>-<thread>.json,
// the main thread's also with the names of its threads' files. Not part of the agent.
const { writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');
const v8 = require('node:v8');
const { isMainThread, threadId } = require('node:worker_threads');

const dir = process.env.MEMORY_PROBE_DIR;
if (dir) {
  const file = join(dir, `${process.pid}-${isMainThread ? 'main' : threadId}.json`);
  const mb = (b) => Math.round(b / 104857.6) / 10;
  setInterval(() => {
    const h = v8.getHeapStatistics();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => [s.space_name, mb(s.space_size)]));
    // The thread's own script names it: main, detector-worker.js, answer-worker.js, config-worker.js.
    const script = isMainThread ? 'main' : basename(require.main?.filename ?? `thread ${threadId}`);
    writeFileSync(file, JSON.stringify({ thread: script, total: mb(h.total_heap_size), used: mb(h.used_heap_size), external: mb(h.external_memory), spaces }));
  }, 2000).unref();
}
