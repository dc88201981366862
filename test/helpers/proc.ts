import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

/**
 * Processes started by a test, each in its own process group, so that `stopAll` (run it in
 * afterEach/afterAll) kills them and their children even when the test failed.
 */
export class Processes {
  private readonly running = new Set<ChildProcess>();

  start(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Started {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
    this.running.add(child);
    const started = new Started(child);
    child.once('exit', () => this.running.delete(child));
    return started;
  }

  async stopAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const waits = [...this.running].map(async (c) => {
      const exited = c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : once(c, 'exit');
      try {
        process.kill(-c.pid!, signal);
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    });
    await Promise.all(waits);
    this.running.clear();
  }
}

export class Started {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits until `pattern` shows in stdout or stderr; throws with the output after `ms`. */
  async waitForOutput(pattern: RegExp, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pattern.test(this.stdout) && !pattern.test(this.stderr)) {
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // gone
    }
  }
}

/** Runs a program to completion with a time bound. */
export function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // The child may exit before reading its input: that is not the test's failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
