import { spawn, type ChildProcess } from 'node:child_process';
import type { CheckConfig } from '../config/types';
import { withDeadline } from './deadline';
import { errorText, fail, pass, printable, type Outcome, type ProbeResult } from './result';

/** How much of the end of stderr goes into the reason. */
const STDERR_TAIL = 512;
/** After exit, how long to wait for stderr to drain when a leftover process still holds it open. */
const DRAIN_MS = 50;

/**
 * Runs `command` (argv, no shell: nothing in it is interpreted) and is healthy on exit 0. The
 * command runs in its own process group, which is SIGKILLed when the check ends — on timeout, on
 * stop, and also after a normal exit, so a check that leaves children behind cannot accumulate
 * them at every interval.
 */
export function probeExec(check: CheckConfig, _host: string, signal?: AbortSignal): Promise<ProbeResult> {
  return withDeadline(check.timeoutMs, signal, (attempt) => {
    const argv = check.command ?? [];
    if (argv.length === 0) return Promise.resolve(fail('exec check has no command'));
    attempt.stage = `running ${printable(argv.join(' '), 80)}`;
    return new Promise<Outcome>((resolve) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], detached: true, shell: false });
      let tail = '';
      let exit: Outcome | undefined;
      let drain: NodeJS.Timeout | undefined;

      attempt.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(drain);
          killGroup(child);
          child.stderr?.destroy();
        },
        { once: true },
      );
      child.stderr?.on('data', (chunk: Buffer) => {
        tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
      child.stderr?.on('error', () => {});
      child.on('error', (e) => resolve(fail(`cannot run ${argv[0]}: ${errorText(e)}`)));
      child.on('exit', (code, sig) => {
        exit = code === 0 ? pass('exit 0') : fail(sig ? `killed by ${sig}` : `exit ${code}`);
        drain = setTimeout(() => resolve(withTail(exit!, tail)), DRAIN_MS);
      });
      child.on('close', () => {
        if (exit) resolve(withTail(exit, tail));
      });
    });
  });
}

function withTail(outcome: Outcome, stderr: string): Outcome {
  const last = printable(stderr.trim().split('\n').pop() ?? '');
  return outcome.ok || !last ? outcome : fail(`${outcome.reason}: ${last}`);
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone (ESRCH): nothing left to stop. Still make sure of the child itself.
    child.kill('SIGKILL');
  }
}
