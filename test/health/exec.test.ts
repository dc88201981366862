import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeExec } from '../../src/health/exec';
import { alive, check, waitFor } from './helpers';

describe('exec probe', () => {
  let dir: string;
  const pids: number[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clusterdns-exec-'));
  });
  afterEach(() => {
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const exec = (command: string[], timeoutMs = 1000, signal?: AbortSignal) => probeExec(check({ type: 'exec', command, timeoutMs }), 'unused', signal);
  const pidFrom = async (file: string): Promise<number> => {
    let pid = 0;
    await waitFor(() => {
      try {
        pid = Number(readFileSync(file, 'utf8').trim());
      } catch {
        return false;
      }
      return pid > 0;
    }, 1000);
    if (pid > 0) pids.push(pid);
    return pid;
  };

  it.each([
    { command: ['true'], ok: true, reason: 'exit 0' },
    { command: ['false'], ok: false, reason: 'exit 1' },
    { command: ['sh', '-c', 'echo first >&2; echo "service not ready" >&2; exit 3'], ok: false, reason: 'exit 3: service not ready' },
    { command: ['sh', '-c', 'kill -TERM $$'], ok: false, reason: 'killed by SIGTERM' },
    // Run without a shell, `$(false)` is an argument and `a b` is one word.
    { command: ['test', '$(false)', '=', '$(false)'], ok: true, reason: 'exit 0' },
    { command: ['test', 'a b', '=', 'a b'], ok: true, reason: 'exit 0' },
  ])('$command → $reason', async ({ command, ok, reason }) => {
    expect(await exec(command)).toMatchObject({ ok, reason });
  });

  it('is unhealthy with the cause when the program does not exist', async () => {
    const r = await exec(['/nonexistent/clusterdns-check']);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^cannot run \/nonexistent\/clusterdns-check: .*ENOENT/);
  });

  it('kills a hanging command at the timeout, within the bound', async () => {
    const pidFile = join(dir, 'pid');
    const t0 = Date.now();
    const result = exec(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], 200);
    const pid = await pidFrom(pidFile);
    expect(alive(pid)).toBe(true);
    const r = await result;
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^timeout after 200 ms running sh -c/);
    expect(Date.now() - t0).toBeLessThan(400);
    expect(await waitFor(() => !alive(pid), 1000)).toBe(true);
  });

  it('kills what the command left running in the background when it exits', async () => {
    const pidFile = join(dir, 'pid');
    const r = await exec(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; exit 0`]);
    expect(r).toMatchObject({ ok: true, reason: 'exit 0' });
    const pid = await pidFrom(pidFile);
    expect(pid).toBeGreaterThan(0);
    expect(await waitFor(() => !alive(pid), 1000)).toBe(true);
  });

  it('reports exit quickly even when a leftover process keeps stderr open', async () => {
    const pidFile = join(dir, 'pid');
    const t0 = Date.now();
    const r = await exec(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; exit 4`], 1000);
    expect(r.reason).toBe('exit 4');
    expect(Date.now() - t0).toBeLessThan(500);
    const pid = await pidFrom(pidFile);
    expect(await waitFor(() => !alive(pid), 1000)).toBe(true);
  });

  it('kills the command when stopped through its signal', async () => {
    const pidFile = join(dir, 'pid');
    const ac = new AbortController();
    const result = exec(['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], 5000, ac.signal);
    const pid = await pidFrom(pidFile);
    ac.abort();
    expect(await result).toMatchObject({ ok: false, reason: expect.stringMatching(/^stopped running sh -c/) });
    expect(await waitFor(() => !alive(pid), 1000)).toBe(true);
  });
});
