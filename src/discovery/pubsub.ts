import { compileGlob } from './glob';
import { bulk, error, int, NULL, push, type Reply } from './resp';

/**
 * Subscriptions, decided once. The service publishes on a fixed set of channels, so a pattern is
 * matched against that set when it is subscribed (never at a push), and a push to a connection
 * costs the subscriptions that receive it, not the ones that never will.
 */

/** Every channel this service publishes on (Sentinel's names); see events.ts for when. */
export const CHANNELS = ['+switch-master', '+sdown', '-sdown', '+odown', '-odown', '+slave'] as const;
export type Channel = (typeof CHANNELS)[number];
const CHANNEL_INDEX = new Map<string, number>(CHANNELS.map((c, i) => [c, i]));

/**
 * Per connection and in all. Redis has no such limits; a Sentinel client subscribes to one
 * channel (ioredis, redis-py) or six patterns (node-redis), so these leave ample room while
 * 1024 connections cannot make the agent hold more than a few MB of names.
 */
export interface SubscriptionLimits {
  /** Channels plus patterns one connection may hold. */
  readonly perConnection: number;
  /** Bytes of channel and pattern names one connection may hold. */
  readonly bytesPerConnection: number;
  /** Subscriptions of one connection that receive messages (a published channel, a pattern that matches one). */
  readonly livePerConnection: number;
  /** Channels plus patterns all connections together may hold. */
  readonly total: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = { perConnection: 256, bytesPerConnection: 16 * 1024, livePerConnection: 32, total: 65536 };

/** Shared by every connection of one server: what they hold together. */
export interface SubscriptionPool {
  readonly limits: SubscriptionLimits;
  held: number;
  /** Patterns' masks, remembered (see poolMask). */
  readonly masks?: Map<string, number>;
}

export class Subscriptions {
  /** Channel → its index in CHANNELS, or -1 for a channel nothing is published on. */
  readonly channels = new Map<string, number>();
  /** Pattern → the CHANNELS it matches, as a bit mask (0: it never receives anything). */
  readonly patterns = new Map<string, number>();
  private bytes = 0;
  private live = 0;

  get size(): number {
    return this.channels.size + this.patterns.size;
  }

  /** Whether anything published reaches this connection (the push loop skips the others). */
  get listening(): boolean {
    return this.live > 0;
  }

  /** The message and pmessage replies one publication on `channel` makes for this connection. */
  messages(channel: Channel, payload: string): Reply[] {
    const i = CHANNEL_INDEX.get(channel)!;
    const out: Reply[] = [];
    if (this.channels.get(channel) === i) out.push(push([bulk('message'), bulk(channel), bulk(payload)]));
    const bit = 1 << i;
    for (const [p, mask] of this.patterns) if (mask & bit) out.push(push([bulk('pmessage'), bulk(p), bulk(channel), bulk(payload)]));
    return out;
  }

  /**
   * SUBSCRIBE / PSUBSCRIBE: Redis's replies (one per argument, with the running count), or one
   * error and nothing subscribed when the command would pass a limit.
   */
  subscribe(kind: 'subscribe' | 'psubscribe', names: readonly string[], pool: SubscriptionPool): Reply[] {
    const table = kind === 'subscribe' ? this.channels : this.patterns;
    const { limits } = pool;
    const refused = () => [
      error(
        `ERR ${kind.toUpperCase()} refused: clusterdns discovery allows ${limits.perConnection} channels and patterns per connection (${limits.bytesPerConnection} bytes of names, ${limits.livePerConnection} that receive messages) and ${limits.total} in all; it publishes only on ${CHANNELS.join(' ')}`,
      ),
    ];
    // Sizes first, and a refusal as soon as the new names pass a limit: a SUBSCRIBE of 1,000
    // distinct 1 KB names stops at the 17th, and nothing is matched for a command refused anyway
    // (putting all 1,000 in a Map took 1.6 ms of the main thread per command, DNS waiting).
    const room = Math.min(limits.perConnection - this.size, limits.total - pool.held);
    const byteRoom = limits.bytesPerConnection - this.bytes;
    const fresh = new Map<string, number>();
    let bytes = 0;
    for (const n of names) {
      if (table.has(n) || fresh.has(n)) continue;
      fresh.set(n, -1);
      bytes += n.length;
      if (fresh.size > room || bytes > byteRoom) return refused();
    }
    let live = 0;
    for (const n of fresh.keys()) {
      // A pattern is matched here once, against the few channels there are, by a bounded matcher.
      const mark = kind === 'subscribe' ? (CHANNEL_INDEX.get(n) ?? -1) : poolMask(n, pool);
      fresh.set(n, mark);
      if (kind === 'subscribe' ? mark >= 0 : mark !== 0) live++;
    }
    if (this.live + live > limits.livePerConnection) return refused();
    const out: Reply[] = [];
    for (const n of names) {
      const mark = fresh.get(n);
      if (mark !== undefined && !table.has(n)) table.set(n, mark);
      out.push(push([bulk(kind), bulk(n), int(this.size)]));
    }
    this.bytes += bytes;
    this.live += live;
    pool.held += fresh.size;
    return out;
  }

  /** UNSUBSCRIBE / PUNSUBSCRIBE, Redis's replies: every named one (or all held), or one with a null. */
  unsubscribe(kind: 'unsubscribe' | 'punsubscribe', names: readonly string[], pool: SubscriptionPool): Reply[] {
    const table = kind === 'unsubscribe' ? this.channels : this.patterns;
    const which = names.length > 0 ? names : [...table.keys()];
    if (which.length === 0) return [push([bulk(kind), NULL, int(this.size)])];
    return which.map((n) => {
      const mark = table.get(n);
      if (mark !== undefined) {
        table.delete(n);
        this.bytes -= n.length;
        if (kind === 'unsubscribe' ? mark >= 0 : mark !== 0) this.live--;
        pool.held--;
      }
      return push([bulk(kind), bulk(n), int(this.size)]);
    });
  }

  /** The connection is gone: what it held goes back to the pool. */
  release(pool: SubscriptionPool): void {
    pool.held -= this.size;
    this.channels.clear();
    this.patterns.clear();
    this.bytes = this.live = 0;
  }
}

/** Which CHANNELS a pattern matches, as a bit mask. */
export function patternMask(pattern: string): number {
  const match = compileGlob(pattern);
  let mask = 0;
  CHANNELS.forEach((c, i) => {
    if (match(c)) mask |= 1 << i;
  });
  return mask;
}

const MASKS_KEPT = 1024;

/**
 * patternMask, remembered in the pool: a thousand clients subscribe the same few patterns (`*`,
 * node-redis's six). Short patterns only (real ones are), at most MASKS_KEPT: a flood of distinct
 * ones is matched each time and not kept.
 */
function poolMask(pattern: string, pool: SubscriptionPool): number {
  const known = pool.masks?.get(pattern);
  if (known !== undefined) return known;
  const mask = patternMask(pattern);
  if (pool.masks && pattern.length <= 64) {
    if (pool.masks.size >= MASKS_KEPT) pool.masks.clear();
    pool.masks.set(pattern, mask);
  }
  return mask;
}
