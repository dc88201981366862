import { Type, typeName } from '../wire/constants';

/**
 * Query counters kept as plain integers on the hot path; the metrics endpoint reads them when
 * scraped, so serving never touches a metrics library.
 */
const TRACKED_TYPES: readonly number[] = [Type.A, Type.AAAA, Type.NS, Type.SOA, Type.SRV, Type.TXT, Type.ANY];
const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  9: 'NOTAUTH',
  16: 'BADVERS',
};

/**
 * Why the socket shell dropped a packet, a connection or an answer the Responder never saw or made:
 * - source-port: a UDP datagram from port 0, which cannot be answered (spoofed or broken sender);
 * - send-error: the kernel refused an answer (unreachable client, full buffer, closed socket);
 * - internal-error: the Responder threw, a bug: the packet gets silence, the listener keeps serving;
 * - tcp-error: a TCP client reset or broke its connection;
 * - accept-error: the kernel could not accept a TCP connection (out of descriptors);
 * - tcp-limit, tcp-source-limit: a TCP connection over dns.tcpMaxConnections, or over
 *   dns.tcpMaxConnectionsPerSource from one client address, closed at once;
 * - tcp-timeout: a TCP connection closed because no complete message came within dns.tcpIdleTimeout.
 */
export const SOCKET_DROP_REASONS = ['source-port', 'send-error', 'internal-error', 'tcp-error', 'accept-error', 'tcp-limit', 'tcp-source-limit', 'tcp-timeout'] as const;
export type SocketDropReason = (typeof SOCKET_DROP_REASONS)[number];

/** Upper bounds (seconds) of the answer latency histogram, from receipt to send. */
export const LATENCY_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01];
/** One query in this many is timed: timing every query would cost more than answering it. */
export const LATENCY_SAMPLE_EVERY = 16;

export class QueryStats {
  /** Sampled latencies: counts per bucket (last slot: above the largest bound), sum and count. */
  readonly latencyCounts = new Float64Array(LATENCY_BUCKETS.length + 1);
  latencySum = 0;
  latencyCount = 0;

  observeLatency(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.latencyCounts[i]++;
    this.latencySum += seconds;
    this.latencyCount++;
  }

  /** [transport 0 udp / 1 tcp][type slot][rcode 0..31] */
  private readonly counts = new Float64Array(2 * (TRACKED_TYPES.length + 1) * 32);
  dropped = 0;
  truncated = 0;
  /** UDP responses over dns.rateLimit: dropped, or slipped (sent as TC=1 or BADCOOKIE). */
  readonly rateLimited = { dropped: 0, slipped: 0 };
  /** Queries with a COOKIE option: without a valid server cookie (clientOnly), or with one. */
  readonly cookies = { clientOnly: 0, valid: 0 };
  readonly socketDrops = Object.fromEntries(SOCKET_DROP_REASONS.map((r) => [r, 0])) as Record<SocketDropReason, number>;

  count(transport: 'udp' | 'tcp', qtype: number, rcode: number): void {
    let slot = TRACKED_TYPES.indexOf(qtype);
    if (slot < 0) slot = TRACKED_TYPES.length;
    this.counts[((transport === 'udp' ? 0 : 1) * (TRACKED_TYPES.length + 1) + slot) * 32 + (rcode & 31)]++;
  }

  /** Non-zero counters with their labels. */
  *entries(): Generator<{ transport: string; qtype: string; rcode: string; value: number }> {
    const slots = TRACKED_TYPES.length + 1;
    for (let tr = 0; tr < 2; tr++)
      for (let s = 0; s < slots; s++)
        for (let r = 0; r < 32; r++) {
          const value = this.counts[(tr * slots + s) * 32 + r];
          if (value > 0)
            yield {
              transport: tr === 0 ? 'udp' : 'tcp',
              qtype: s < TRACKED_TYPES.length ? typeName(TRACKED_TYPES[s]) : 'other',
              rcode: RCODE_NAMES[r] ?? `RCODE${r}`,
              value,
            };
        }
  }

  total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** Every counter as plain data: what an answer thread posts to control (src/answer/). */
  snapshot(): QueryStatsSnapshot {
    return {
      counts: Float64Array.from(this.counts),
      latencyCounts: Float64Array.from(this.latencyCounts),
      latencySum: this.latencySum,
      latencyCount: this.latencyCount,
      dropped: this.dropped,
      truncated: this.truncated,
      rateLimited: { ...this.rateLimited },
      cookies: { ...this.cookies },
      socketDrops: { ...this.socketDrops },
    };
  }

  /** Sets every counter to the sum of `parts` (each thread's, and those of threads replaced). */
  setSum(parts: readonly QueryStatsSnapshot[]): void {
    this.counts.fill(0);
    this.latencyCounts.fill(0);
    this.latencySum = this.latencyCount = this.dropped = this.truncated = 0;
    this.rateLimited.dropped = this.rateLimited.slipped = 0;
    this.cookies.clientOnly = this.cookies.valid = 0;
    for (const r of SOCKET_DROP_REASONS) this.socketDrops[r] = 0;
    for (const p of parts) {
      for (let i = 0; i < this.counts.length && i < p.counts.length; i++) this.counts[i] += p.counts[i];
      for (let i = 0; i < this.latencyCounts.length && i < p.latencyCounts.length; i++) this.latencyCounts[i] += p.latencyCounts[i];
      this.latencySum += p.latencySum;
      this.latencyCount += p.latencyCount;
      this.dropped += p.dropped;
      this.truncated += p.truncated;
      this.rateLimited.dropped += p.rateLimited.dropped;
      this.rateLimited.slipped += p.rateLimited.slipped;
      this.cookies.clientOnly += p.cookies.clientOnly;
      this.cookies.valid += p.cookies.valid;
      for (const r of SOCKET_DROP_REASONS) this.socketDrops[r] += p.socketDrops[r] ?? 0;
    }
  }
}

export interface QueryStatsSnapshot {
  readonly counts: Float64Array;
  readonly latencyCounts: Float64Array;
  readonly latencySum: number;
  readonly latencyCount: number;
  readonly dropped: number;
  readonly truncated: number;
  readonly rateLimited: { readonly dropped: number; readonly slipped: number };
  readonly cookies: { readonly clientOnly: number; readonly valid: number };
  readonly socketDrops: Readonly<Record<SocketDropReason, number>>;
}

/** The counters of a thread that has not answered anything. */
export function emptySnapshot(): QueryStatsSnapshot {
  return new QueryStats().snapshot();
}

/** Queries counted in a snapshot (every transport, type and rcode). */
export function snapshotTotal(s: QueryStatsSnapshot): number {
  return s.counts.reduce((a, b) => a + b, 0);
}
