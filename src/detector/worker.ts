import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { isClusterDnsError } from '../errors';
import { realClock } from '../membership/clock';
import { Membership } from '../membership/runtime';
import type { LocalHealth } from '../membership/state';
import { UdpTransport } from '../membership/udp-transport';
import { isToDetector, sharedNow, THREADS_PROTOCOL, type DetectorInit, type DetectorItem, type FromDetector } from '../threads/messages';
import { collectSoon } from '../threads/collect';
import { healthAsOf, isStale, staleAfterMs } from './health';

/**
 * The failure-detector thread (docs/DESIGN.md, "Threads and their boundaries"): the peer socket,
 * the membership timers and reducer. It imports nothing of DNS, discovery, HTTP, DNSSEC or logging,
 * and waits on nothing from control: control's messages only update what the next heartbeat says.
 */
function post(port: MessagePort, m: FromDetector): void {
  port.postMessage(m);
}

async function run(port: MessagePort, init: DetectorInit): Promise<void> {
  if (init.protocol !== THREADS_PROTOCOL) {
    post(port, { type: 'failed', code: 'INTERNAL', message: `detector thread speaks protocol ${THREADS_PROTOCOL}, control ${init.protocol}: a mixed install (rebuild)`, details: [] });
    return;
  }
  let config = init.config;
  let health: LocalHealth = init.health;
  let healthAt = init.healthAt;
  let wasStale = false;

  let transport: UdpTransport;
  try {
    transport = await UdpTransport.open(config, init.self);
  } catch (e) {
    post(port, isClusterDnsError(e) ? { type: 'failed', code: e.code, message: e.message, details: e.details } : { type: 'failed', code: 'INTERNAL', message: String(e), details: [] });
    return;
  }

  const membership = new Membership({
    config,
    self: init.self,
    transport,
    clock: realClock,
    // Read every heartbeat: old results turn into "unhealthy" here, whatever control is doing.
    getLocalHealth: () => {
      const now = sharedNow();
      const stale = isStale(healthAt, now, config.peer.downAfterMs);
      if (stale !== wasStale) {
        wasStale = stale;
        const ago = ((now - healthAt) / 1000).toFixed(1);
        queue({
          type: 'event',
          event: {
            type: 'health-stale',
            stale,
            message: stale
              ? `${init.self}: no check results from the control thread for ${ago} s (more than ${staleAfterMs(config.peer.downAfterMs) / 1000} s): reporting this node unhealthy and its services down until it answers again`
              : `${init.self}: check results from the control thread again`,
          },
        });
      }
      return healthAsOf(health, healthAt, now, config.peer.downAfterMs);
    },
  });
  membership.setZoneSerial(init.zoneSerial);

  // One message per turn, in the order the runtime emitted: control installs the view first.
  let items: DetectorItem[] = [];
  let wantView = false;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const view = wantView ? membership.view() : undefined;
    const turn: FromDetector = view ? { type: 'turn', items, view } : { type: 'turn', items };
    items = [];
    wantView = false;
    post(port, turn);
  };
  function queue(item?: DetectorItem): void {
    if (item) items.push(item);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  }
  membership.on('event', (event) => queue({ type: 'event', event }));
  membership.on('serial', (serial) => {
    // The agent reads the announced serials from the view (Agent.adoptSerial).
    wantView = true;
    queue({ type: 'serial', serial });
  });
  membership.on('view', (_view, changes) => {
    wantView = true;
    queue({ type: 'view', changes });
  });
  membership.on('heard', () => {
    wantView = true;
    queue();
  });

  port.on('message', (m: unknown) => {
    if (!isToDetector(m)) return;
    switch (m.type) {
      case 'start':
        membership.start();
        break;
      case 'stop':
        void membership.stop().then(() => post(port, { type: 'stopped' }));
        break;
      case 'config':
        try {
          membership.updateConfig(m.config);
          config = m.config;
        } catch (e) {
          queue({ type: 'event', event: { type: 'error', message: `${init.self}: new config not applied by the detector: ${(e as Error).message}` } });
        }
        break;
      case 'local-health':
        health = m.health;
        healthAt = m.at;
        membership.refreshHealth();
        break;
      case 'zone-serial':
        membership.setZoneSerial(m.serial);
        break;
      case 'snapshot':
        post(port, { type: 'snapshot', id: m.id, view: membership.view(), counters: membership.counters(), transport: { ...transport.stats } });
        break;
    }
  });
  post(port, { type: 'ready', view: membership.view() });
  collectSoon();
}

if (parentPort) void run(parentPort, workerData as DetectorInit);
