/**
 * SIGHUP's default action ends the process, so a `systemctl reload` just after `start` stopped the
 * agent while it was still loading or starting (exit 129). The agent's command catches it first
 * (bin/clusterdns.js, before loading the rest of the program, which takes a few hundred ms) and
 * remembers it; once started, the agent reloads once for every SIGHUP that came while it started.
 * Signals are process-wide, hence module state: one process has one agent.
 */

let reload: (() => void) | undefined;
let pending = false;

function onSignal(): void {
  if (reload) reload();
  else pending = true;
}

/** From now on a SIGHUP is remembered (before `reloadOnHangup`) or reloads (after). */
export function catchHangups(): void {
  if (!process.listeners('SIGHUP').includes(onSignal)) process.on('SIGHUP', onSignal);
}

/** SIGHUP calls `fn` from now on; true when one came before, which the caller should now apply. */
export function reloadOnHangup(fn: () => void): boolean {
  catchHangups();
  reload = fn;
  const missed = pending;
  pending = false;
  return missed;
}

/** The agent has stopped: SIGHUP goes back to its default. */
export function releaseHangups(): void {
  process.off('SIGHUP', onSignal);
  reload = undefined;
  pending = false;
}
