import type { MembershipLogEvent, ViewChange } from '../membership/runtime';
import type { PeerConfig } from '../membership/peer-config';
import type { Counters, LocalHealth } from '../membership/state';
import type { ClusterView } from '../membership/view';
import type { DnsServerOptions } from '../server/dns-server';
import type { RateLimitConfig } from '../server/guard';
import type { QueryStatsSnapshot } from '../server/stats';

/**
 * Everything that crosses a thread boundary (docs/DESIGN.md, "Threads and their boundaries"):
 * plain, structured-cloneable data only — no class instances, functions, bigints or KeyObjects.
 * `THREADS_PROTOCOL` is checked when a worker starts: a worker file from another build is refused
 * rather than misread. test/threads/messages.test.ts sends one of each through a real MessagePort.
 */
export const THREADS_PROTOCOL = 1;

/**
 * Milliseconds on a scale every thread of the process shares: each thread's `performance.now()`
 * counts from its own start, `timeOrigin + now()` from the same epoch. Never goes backwards within
 * a thread; threads agree to well under a millisecond.
 */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** What the detector worker is started with (`workerData`). */
export interface DetectorInit {
  readonly protocol: number;
  readonly self: string;
  readonly config: PeerConfig;
  /** This node's health at start (before the checks' first results: healthy). */
  readonly health: LocalHealth;
  /** When `health` was taken (sharedNow). */
  readonly healthAt: number;
  readonly zoneSerial: number;
}

/** Control → detector. */
export type ToDetector =
  /** Begin heartbeats (after the checks' first results, see Agent.start). */
  | { readonly type: 'start' }
  /** Stop heartbeats, close the peer socket, then answer 'stopped'. */
  | { readonly type: 'stop' }
  | { readonly type: 'config'; readonly config: PeerConfig }
  /**
   * This node's check results as control last saw them, sent on every change and at least every
   * half downAfter; `at` (sharedNow) is when control read them. The detector reports results older
   * than its stale bound as unhealthy (detector/health.ts).
   */
  | { readonly type: 'local-health'; readonly health: LocalHealth; readonly at: number }
  | { readonly type: 'zone-serial'; readonly serial: number }
  /** Asks for a 'snapshot' with the same id: a fresh view and counters for the HTTP API. */
  | { readonly type: 'snapshot'; readonly id: number };

/** Peer socket counters (membership/udp-transport.ts). */
export interface TransportStats {
  readonly sent: number;
  readonly sendErrors: number;
  readonly received: number;
  readonly notPeer: number;
}

/** One item of a detector turn, in the order the membership runtime emitted them. */
export type DetectorItem =
  | { readonly type: 'event'; readonly event: MembershipLogEvent }
  | { readonly type: 'serial'; readonly serial: number }
  | { readonly type: 'view'; readonly changes: readonly ViewChange[] };

/** Detector → control. */
export type FromDetector =
  /** The peer socket is bound; heartbeats begin at 'start'. `view`: the view before any heartbeat. */
  | { readonly type: 'ready'; readonly view: ClusterView }
  /** The peer socket could not be bound: the agent does not start. */
  | { readonly type: 'failed'; readonly code: string; readonly message: string; readonly details: readonly string[] }
  /**
   * What one turn of the detector produced. `view` is the view after the turn, present when an
   * item is a 'view' or the peers heard changed; control installs it before it emits the items, so a
   * listener of a 'verdict' event reads the view that verdict is in.
   */
  | { readonly type: 'turn'; readonly items: readonly DetectorItem[]; readonly view?: ClusterView }
  | { readonly type: 'snapshot'; readonly id: number; readonly view: ClusterView; readonly counters: Counters; readonly transport: TransportStats }
  | { readonly type: 'stopped' };

const TO_DETECTOR = new Set<string>(['start', 'stop', 'config', 'local-health', 'zone-serial', 'snapshot']);
const FROM_DETECTOR = new Set<string>(['ready', 'failed', 'turn', 'snapshot', 'stopped']);

/** A message's type, when it is an object with one of `types`; else undefined (dropped by the receiver). */
function typeOf(m: unknown, types: ReadonlySet<string>): string | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const t = (m as { type?: unknown }).type;
  return typeof t === 'string' && types.has(t) ? t : undefined;
}

export function isToDetector(m: unknown): m is ToDetector {
  return typeOf(m, TO_DETECTOR) !== undefined;
}

export function isFromDetector(m: unknown): m is FromDetector {
  return typeOf(m, FROM_DETECTOR) !== undefined;
}

/** What an answer thread is started with (`workerData`): its sockets' options and the current table image. */
export interface AnswerInit {
  readonly protocol: number;
  readonly index: number;
  readonly server: AnswerServerOptions;
  readonly image: SharedArrayBuffer;
  /** TCP connection counts every answer thread shares (server/tcp-tally.ts); this thread writes row `index`. */
  readonly tally: SharedArrayBuffer;
}

/** DnsServerOptions as they cross to an answer thread: each thread counts its own stats, binds with reusePort and shares the tally it is given. */
export type AnswerServerOptions = Omit<DnsServerOptions, 'stats' | 'reusePort' | 'tally'>;

/** Control → answer thread. */
export type ToAnswer =
  /** A new table image (zone/image.ts); the thread answers from it as soon as it is decoded. */
  | { readonly type: 'table'; readonly image: SharedArrayBuffer }
  /** Reload: cookie keys and rate limits (a new guard with an empty rate table). */
  | { readonly type: 'guard'; readonly cookieKeys: readonly Uint8Array[]; readonly rateLimit: RateLimitConfig }
  /** The watchdog's question; `at` (sharedNow) is when it was sent: the answer says how late it was read. */
  | { readonly type: 'ping'; readonly id: number; readonly at: number }
  | { readonly type: 'stop' };

/** Answer thread → control. */
export type FromAnswer =
  | { readonly type: 'ready'; readonly version: number }
  | { readonly type: 'failed'; readonly code: string; readonly message: string }
  | { readonly type: 'table-applied'; readonly version: number }
  /** A table image the thread could not read: it keeps answering from the one before. */
  | { readonly type: 'table-refused'; readonly message: string }
  /** `lagMs`: how long the ping waited for the thread's event loop. */
  | { readonly type: 'pong'; readonly id: number; readonly version: number; readonly lagMs: number; readonly stats: QueryStatsSnapshot }
  | { readonly type: 'stopped' };

const TO_ANSWER = new Set<string>(['table', 'guard', 'ping', 'stop']);
const FROM_ANSWER = new Set<string>(['ready', 'failed', 'table-applied', 'table-refused', 'pong', 'stopped']);

export function isToAnswer(m: unknown): m is ToAnswer {
  return typeOf(m, TO_ANSWER) !== undefined;
}

export function isFromAnswer(m: unknown): m is FromAnswer {
  return typeOf(m, FROM_ANSWER) !== undefined;
}
