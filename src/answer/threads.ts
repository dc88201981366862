import { availableParallelism } from 'node:os';
import { reusePortWorks } from '../server/dns-server';

/** More threads than this buy little: the kernel's socket and NIC queues, not Node, become the limit. */
export const MAX_AUTO_THREADS = 8;

/**
 * How many answer threads `dns.workers` gives on this machine, and why (for the log).
 *
 * `auto`: one per core beyond the first, at most 8, and one (on the main thread) on a machine of
 * one or two cores. The detector thread needs about 1 % of a core and sleeps between heartbeats,
 * so the scheduler runs it on time even with every core busy (bench:isolation measures it); what
 * a flood must leave room for is the control thread — checks, discovery, the HTTP API, compiles and
 * signing — hence one core kept back. On two cores that leaves one thread, and one answer thread
 * runs on the main thread, as 0.2 did, which saves a thread's memory (about 9 MB); `workers: 2`
 * there buys throughput (bench/README.md) at the cost of that memory and of the control thread's
 * share under a flood.
 *
 * Without SO_REUSEPORT for UDP (Node < 22.12, or not Linux) there can be only one socket per
 * address, so one thread whatever is asked.
 */
export function answerThreads(workers: 'auto' | number, cores = availableParallelism(), reusePort = reusePortWorks()): { threads: number; note?: string } {
  const wanted = workers === 'auto' ? (cores <= 2 ? 1 : Math.min(cores - 1, MAX_AUTO_THREADS)) : workers;
  if (wanted > 1 && !reusePort)
    return { threads: 1, note: `one answer thread (dns.workers: ${workers} asks for ${wanted}): Node ${process.versions.node} on ${process.platform} cannot share a UDP port between threads (SO_REUSEPORT needs Node 22.12 or later on Linux)` };
  return { threads: wanted };
}
