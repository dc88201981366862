import { seconds, type Assessment } from './verdict';

/**
 * Flap damping: a node that was down comes back only after a majority has heard it (and it reported
 * healthy) continuously for the hold-down. A node that fails again within `maxUpAfterMs` of coming
 * back has its hold-down doubled, up to `maxUpAfterMs`; one that stayed up that long starts over.
 */

export type NodeState = 'unknown' | 'up' | 'down';

export interface NodeVerdict {
  readonly state: NodeState;
  /** When `state` was entered (clock ms). */
  readonly since: number;
  readonly reason: string;
  /** Start of the current uninterrupted run of 'heard' assessments. */
  readonly heardSince?: number;
  readonly holdDownMs: number;
  /** Last down → up transition, to tell a flap from a first failure. */
  readonly recoveredAt?: number;
}

export interface HoldDownTiming {
  readonly upAfterMs: number;
  readonly maxUpAfterMs: number;
}

export function initialVerdict(now: number, timing: HoldDownTiming): NodeVerdict {
  return { state: 'unknown', since: now, reason: 'not assessed yet', holdDownMs: timing.upAfterMs };
}

/**
 * Applies one assessment. A node seen for the first time (state 'unknown', e.g. at this agent's
 * start) comes up without a hold-down: there is no flap to damp, and a fresh agent must serve.
 */
export function applyAssessment(v: NodeVerdict, a: Assessment, now: number, timing: HoldDownTiming): NodeVerdict {
  switch (a.kind) {
    case 'undecided':
      return v.heardSince === undefined ? v : { ...v, heardSince: undefined };
    case 'down': {
      if (v.state === 'down') return v.heardSince === undefined ? v : { ...v, heardSince: undefined };
      const flapped = v.state === 'up' && v.recoveredAt !== undefined && now - v.recoveredAt < timing.maxUpAfterMs;
      const holdDownMs = flapped ? Math.min(v.holdDownMs * 2, timing.maxUpAfterMs) : timing.upAfterMs;
      return { state: 'down', since: now, reason: a.reason, holdDownMs, recoveredAt: v.recoveredAt };
    }
    case 'heard': {
      if (v.state === 'up') return v.heardSince === undefined ? v : { ...v, heardSince: undefined };
      // recoveredAt kept: an agent back from the minority re-derives its verdicts from 'unknown', and
      // forgetting a node's recent recovery there would give it a shorter hold-down than its peers.
      if (v.state === 'unknown') return { state: 'up', since: now, reason: a.reason, holdDownMs: v.holdDownMs, recoveredAt: v.recoveredAt };
      const heardSince = v.heardSince ?? now;
      // Stale: still heard within downAfter but not lately, perhaps dead; the count goes on, the end waits.
      if (now - heardSince < v.holdDownMs || a.stale) return v.heardSince === heardSince ? v : { ...v, heardSince };
      return {
        state: 'up',
        since: now,
        reason: `${a.reason} for ${seconds(now - heardSince)} (hold-down ${seconds(v.holdDownMs)})`,
        holdDownMs: v.holdDownMs,
        recoveredAt: now,
      };
    }
  }
}
