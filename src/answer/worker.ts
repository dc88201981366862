import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { isClusterDnsError } from '../errors';
import { DnsServer } from '../server/dns-server';
import { QueryStats } from '../server/stats';
import { SharedTally } from '../server/tcp-tally';
import { isToAnswer, sharedNow, THREADS_PROTOCOL, type AnswerInit, type FromAnswer } from '../threads/messages';
import { collectSoon } from '../threads/collect';
import { decodeTable } from '../zone/image';

/**
 * One answer thread (docs/DESIGN.md, "Threads"): its own UDP and TCP sockets on the node's
 * addresses (SO_REUSEPORT: the kernel spreads queries over the threads), its own guard (RRL,
 * cookies) and counters, and the newest table image control posted. It reads nothing else.
 */
function post(port: MessagePort, m: FromAnswer): void {
  port.postMessage(m);
}

async function run(port: MessagePort, init: AnswerInit): Promise<void> {
  if (init.protocol !== THREADS_PROTOCOL) {
    post(port, { type: 'failed', code: 'INTERNAL', message: `answer thread speaks protocol ${THREADS_PROTOCOL}, control ${init.protocol}: a mixed install (rebuild)` });
    return;
  }
  let version: number;
  let server: DnsServer;
  const stats = new QueryStats();
  try {
    const first = decodeTable(init.image);
    version = first.version;
    server = new DnsServer(first.table, { ...init.server, stats, reusePort: true, tally: new SharedTally(init.tally, init.index) });
    await server.listen();
  } catch (e) {
    post(port, isClusterDnsError(e) ? { type: 'failed', code: e.code, message: e.message } : { type: 'failed', code: 'INTERNAL', message: String(e) });
    return;
  }
  port.on('message', (m: unknown) => {
    if (!isToAnswer(m)) return;
    switch (m.type) {
      case 'table':
        try {
          const next = decodeTable(m.image);
          server.setTable(next.table);
          version = next.version;
          post(port, { type: 'table-applied', version });
        } catch (e) {
          post(port, { type: 'table-refused', message: (e as Error).message });
        }
        break;
      case 'guard':
        server.setGuard(m.cookieKeys, m.rateLimit);
        break;
      case 'ping':
        post(port, { type: 'pong', id: m.id, version, lagMs: Math.max(0, sharedNow() - m.at), stats: stats.snapshot() });
        break;
      case 'stop':
        void server.close().then(() => post(port, { type: 'stopped' }));
        break;
    }
  });
  post(port, { type: 'ready', version });
  collectSoon();
}

if (parentPort) void run(parentPort, workerData as AnswerInit);
