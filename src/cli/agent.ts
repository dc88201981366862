import { networkInterfaces } from 'node:os';
import type { Command } from 'commander';
import { Agent } from '../agent/agent';
import { createLogger } from '../agent/log';
import { startHttpApi } from '../api/server';
import { loadConfigInThread } from '../config/thread';
import type { ClusterConfig } from '../config/types';
import { ClusterDnsError, isClusterDnsError } from '../errors';
import { addressKey } from '../net/address';
import { collectSoon } from '../threads/collect';
import { catchHangups, releaseHangups, reloadOnHangup } from './hangup';

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description("run this node's agent: authoritative DNS for the cluster zone and the peer protocol")
    .requiredOption('-c, --config <file>', 'cluster YAML file (the same on every node)')
    .option('-n, --node <name>', "this node's name in the config (default: the node whose address this machine has)")
    .action(async (opts: { config: string; node?: string }) => {
      // Before anything that takes time: a SIGHUP during the start is remembered, not fatal.
      catchHangups();
      // A SIGTERM or SIGINT during the start stops the agent once its threads and listeners have
      // started, with exit code 0, instead of killing it half started.
      let requested: string | undefined;
      let onSignal: ((signal: string) => void) | undefined;
      const signalled = (signal: string) => {
        requested ??= signal;
        onSignal?.(signal);
      };
      process.once('SIGTERM', () => signalled('SIGTERM'));
      process.once('SIGINT', () => signalled('SIGINT'));
      try {
        const config = await loadConfigInThread(opts.config);
        const nodeName = pickNode(config, opts.node);
        const log = createLogger({ name: nodeName });
        const agent = new Agent(config, nodeName, log);
        await agent.start();
        const http = await startHttpApi(agent, log).catch(async (e: unknown) => {
          await agent.stop();
          throw e;
        });
        collectSoon();
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (signal: string) => {
            stopping = true;
            log.info({ event: 'stopping', signal }, `${signal}: stopping`);
            agent
              .stop()
              .then(() => http.close())
              .then(resolve, resolve);
          };
          onSignal = stop;
          if (requested) stop(requested);
          // The file is read in a thread (config/thread.ts), so a reload is asynchronous. SIGHUPs that
          // come while one is under way are folded into one more reload after it, which reads the file
          // as it is then: a burst of signals costs two reads, not one thread each. None once the
          // agent is stopping.
          let reloading = false;
          let again = false;
          const reloadOnce = async () => {
            try {
              const next = await loadConfigInThread(opts.config);
              if (stopping) return;
              const notes = agent.reloadConfig(next);
              log.info({ event: 'reload', hash: next.hash, notes }, `config reloaded (hash ${next.hash})${notes.length ? `: ${notes.join('; ')}` : ''}`);
              collectSoon();
            } catch (e) {
              const msg = isClusterDnsError(e) ? e.format() : String(e);
              log.error({ event: 'reload-failed', error: msg }, `config reload failed, keeping the running config: ${msg}`);
            }
          };
          const reload = () => {
            if (reloading) {
              again = true;
              return;
            }
            reloading = true;
            void (async () => {
              do {
                again = false;
                await reloadOnce();
              } while (again && !stopping);
              reloading = false;
            })();
          };
          if (reloadOnHangup(reload)) {
            log.info({ event: 'reload-deferred' }, 'SIGHUP arrived while the agent was starting: reloading now');
            reload();
          }
        });
      } finally {
        releaseHangups();
      }
    });
}

function pickNode(config: ClusterConfig, name: string | undefined): string {
  const names = config.nodes.map((n) => n.name);
  if (name !== undefined) {
    const n = config.nodes.find((x) => x.name === name.toLowerCase());
    if (!n) throw new ClusterDnsError('NODE_UNKNOWN', `no node named "${name}" in the config — use one of: ${names.join(', ')}`);
    return n.name;
  }
  // The system writes addresses its own way (fd00::1); the config may not (fd00:0::1).
  const local = new Set(Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => addressKey(a.address))));
  // Behind NAT the advertised address is not local, but what the node listens on is.
  const mine = config.nodes.filter((n) => [n.address, n.address6, n.peerAddress, ...n.listen].some((a) => a !== undefined && local.has(addressKey(a))));
  if (mine.length === 1) return mine[0].name;
  throw new ClusterDnsError(
    'NODE_UNKNOWN',
    mine.length === 0
      ? `none of the configured node addresses is on this machine — pass --node with one of: ${names.join(', ')}`
      : `several configured nodes have addresses on this machine (${mine.map((n) => n.name).join(', ')}) — pass --node`,
  );
}
