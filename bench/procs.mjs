// The child processes of a benchmark (bench/isolation.mjs, bench/discovery-attacks.mjs), written
// once: each started in a process group of its own with its output kept, every group still running
// killed when the benchmark ends (normally, by an exception, SIGINT or SIGTERM), and the
// benchmark's temporary directory removed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory named `prefix…` and `start(cmd, args, opts)`; `stdin`: 'ignore' or 'pipe' for every child. */
export function benchProcesses(prefix, { stdin = 'ignore' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const procs = new Set();
  function start(cmd, args, opts = {}) {
    const p = spawn(cmd, args, { stdio: [stdin, 'pipe', 'pipe'], detached: true, ...opts });
    p.out = '';
    p.stdout.on('data', (d) => (p.out += d));
    p.stderr.on('data', (d) => (p.out += d));
    procs.add(p);
    p.on('exit', () => procs.delete(p));
    return p;
  }
  process.on('exit', () => {
    for (const p of procs) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  });
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
  return { dir, start };
}
