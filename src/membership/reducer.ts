import type { PeerConfig } from './peer-config';
import { applyAssessment, initialVerdict, type NodeVerdict } from './holddown';
import { ballotsFor, currentMatrix, holdersDown, linkFaults, ownRow, reportsUnhealthy, type LinkFault } from './matrix';
import { decode, encodeHeartbeats, REJECT_REASONS, wireNames, type Echo, type Heartbeat, type RejectReason, type WireNames } from './messages';
import { admit, bootTag, serialAfter, type ReplayMark } from './replay';
import { linksQuiet, plan as planFor, settle } from './settled';
import { isFresh, type LocalHealth, type MembershipState, type PeerState, type Published, type Row } from './state';
import { assess, majorityOf } from './verdict';

/**
 * The membership protocol as a pure reducer: (state, event, now) → { state, effects }. No clock, no
 * socket, no randomness: the runtime feeds it ticks, received bytes and local health, and carries
 * out the effects. Every agent that holds the same rows reaches the same verdicts.
 */

export type MembershipEvent =
  | { readonly type: 'tick' }
  /** Half an interval after each tick: what time alone changed, found away from the send burst (runtime.ts). */
  | { readonly type: 'check' }
  | { readonly type: 'message'; readonly bytes: Uint8Array }
  | { readonly type: 'local-health'; readonly health: LocalHealth }
  | { readonly type: 'config'; readonly config: PeerConfig }
  | { readonly type: 'zone-serial'; readonly serial: number }
  /** After 'rolled-back': continue as a new boot (the runtime draws the random id and start). */
  | { readonly type: 'new-boot'; readonly incarnation: bigint; readonly sequence: number };

export type Effect =
  | { readonly type: 'send'; readonly bytes: Uint8Array; readonly to: readonly string[] }
  | { readonly type: 'verdict'; readonly node: string; readonly up: boolean; readonly reason: string }
  | { readonly type: 'quorum'; readonly hasMajority: boolean; readonly reason: string }
  | { readonly type: 'config-mismatch'; readonly node: string; readonly theirHash: string; readonly ourHash: string }
  /** A node reported different health for itself or its services: service answers may change. */
  | { readonly type: 'health'; readonly node: string; readonly healthy: boolean; readonly services: Readonly<Record<string, boolean>> }
  /** A peer announces a new SOA serial: the agent's ZoneSerial decides whether to follow it. */
  | { readonly type: 'peer-serial'; readonly node: string; readonly serial: number }
  /**
   * A peer echoes a sequence number of this boot that this agent has not sent yet: it was rolled
   * back (a VM snapshot restored with the agent running), and peers refuse its heartbeats as
   * replays until it takes a new boot id ('new-boot').
   */
  | { readonly type: 'rolled-back'; readonly node: string; readonly echoed: number; readonly sequence: number }
  /** A heartbeat could not be encoded (a bug: the config is bounded to what the wire carries). */
  | { readonly type: 'send-failed'; readonly reason: string }
  /** A peer link started or stopped dropping heartbeats (see matrix.ts linkFaults). */
  | { readonly type: 'link'; readonly fault: LinkFault; readonly broken: boolean };

export interface Step {
  readonly state: MembershipState;
  readonly effects: readonly Effect[];
}

export function initialState(opts: {
  config: PeerConfig;
  self: string;
  incarnation: bigint;
  /** The sequence number before the first heartbeat's: random per boot in the runtime. */
  sequence?: number;
  now: number;
  localHealth?: LocalHealth;
}): MembershipState {
  const { config, self, now } = opts;
  return {
    config,
    self,
    incarnation: opts.incarnation,
    sequence: (opts.sequence ?? 0) >>> 0,
    startedAt: now,
    localHealth: opts.localHealth ?? { nodeHealthy: true, services: {} },
    peers: new Map(config.nodes.filter((n) => n.name !== self).map((n) => [n.name, {}])),
    verdicts: new Map(config.nodes.map((n) => [n.name, initialVerdict(now, config.peer)])),
    published: new Map(),
    hasMajority: false,
    reachedQuorum: false,
    counters: { sent: 0, received: 0, rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>, unsent: 0 },
    zoneSerial: 0,
  };
}

export type Reduce = (state: MembershipState, event: MembershipEvent, now: number) => Step;

export interface ReducerOptions {
  /**
   * Skip the verdicts while the cluster is settled and nothing they read changed (settled.ts);
   * default true. False evaluates in full on every event: the reference the skip is tested against.
   */
  readonly skipSettled?: boolean;
}

/** A reducer; `reduce` is the one the agent runs. */
export function reducer(opts: ReducerOptions = {}): Reduce {
  const skip = opts.skipSettled ?? true;
  return (state, event, now) => {
    switch (event.type) {
      case 'tick':
        return checkLinks(evaluate(heartbeat(state, now), now, skip, { tick: true }), now, skip);
      case 'check': {
        const step = checkLinks(evaluate({ state, effects: [] }, now, skip, { tick: true }), now, skip);
        return newlySilent(step.state, now) ? merge(step, heartbeat(step.state, now)) : step;
      }
      case 'message':
        return receive(state, event.bytes, now, skip);
      case 'local-health': {
        // Sent at once: peers should not wait an interval to learn this node's checks fail.
        const changed: Effect = { type: 'health', node: state.self, healthy: event.health.nodeHealthy, services: event.health.services };
        return merge({ state, effects: [changed] }, evaluate(heartbeat({ ...state, localHealth: event.health }, now), now, skip, {}));
      }
      case 'config':
        return evaluate({ state: reconfigure(state, event.config, now), effects: [] }, now, skip, {});
      case 'zone-serial':
        return { state: { ...state, zoneSerial: event.serial >>> 0 }, effects: [] };
      case 'new-boot':
        return { state: { ...state, incarnation: event.incarnation, sequence: event.sequence >>> 0 }, effects: [] };
    }
  };
}

export const reduce: Reduce = reducer();

/**
 * This interval's heartbeat (or a prompt one to `only`), one copy per peer with that peer's echo
 * alone: a receiver reads no other (receive, replay.ts), and one echo per node made a heartbeat of
 * 129 nodes 2,000 bytes, past what a datagram carries unfragmented. Every copy has the same
 * sequence number and row; a copy sent to one peer and delivered to another is a genuine
 * heartbeat there too, only without that peer's echo (no proof for a new boot).
 */
function heartbeat(state: MembershipState, now: number, only?: string): Step {
  const sequence = (state.sequence + 1) >>> 0;
  const to = only === undefined ? state.peers.keys() : [only];
  const echoes = new Map<string, Echo>();
  for (const [name, peer] of state.peers) if (peer.echo) echoes.set(name, peer.echo);
  let copies: Map<string, Buffer>;
  try {
    copies = encodeHeartbeats(
      {
        sender: state.self,
        incarnation: state.incarnation,
        sequence,
        configHash: state.config.hash,
        nodeHealthy: state.localHealth.nodeHealthy,
        heard: ownRow(state, now),
        services: new Map(Object.entries(state.localHealth.services)),
        zoneSerial: state.zoneSerial,
      },
      to,
      echoes,
      state.config.secret,
    );
  } catch (e) {
    // The config is bounded to what the wire carries, so this is a bug; it must not stop the agent.
    const counters = { ...state.counters, unsent: state.counters.unsent + 1 };
    return { state: { ...state, counters }, effects: [{ type: 'send-failed', reason: (e as Error).message }] };
  }
  const effects: Effect[] = [];
  for (const [peer, bytes] of copies) effects.push({ type: 'send', bytes, to: [peer] });
  return {
    state: { ...state, sequence, counters: { ...state.counters, sent: state.counters.sent + copies.size } },
    effects,
  };
}

function receive(state: MembershipState, bytes: Uint8Array, now: number, skip: boolean): Step {
  const decoded = decode(bytes, state.config.secrets, namesOf(state.config));
  if (!decoded.ok) return { state: rejected(state, decoded.reason), effects: [] };
  const msg = decoded.message;
  const peer = state.peers.get(msg.sender);
  // Our own name can only arrive reflected by someone else.
  if (!peer) return { state: rejected(state, 'replay'), effects: [] };
  // Even a recording can only echo what this boot sent: an echo ahead of it means we went back.
  const ours = msg.echoes.get(state.self);
  if (ours && ours.boot === bootTag(state.incarnation) && serialAfter(ours.sequence, state.sequence))
    return { state: rejected(state, 'unproven'), effects: [{ type: 'rolled-back', node: msg.sender, echoed: ours.sequence, sequence: state.sequence }] };
  const admission = admit(peer.mark, msg.incarnation, msg.sequence, ours, state);
  if (admission.verdict === 'replay') return { state: rejected(state, 'replay'), effects: [] };
  const echo: Echo = { boot: bootTag(msg.incarnation), sequence: msg.sequence };
  if (admission.verdict === 'unproven') {
    // Nothing of it is used, but its sequence is echoed so the peer can prove its next heartbeat
    // fresh. An older sequence of the same boot (a re-sent recording) changes nothing.
    if (peer.echo && peer.echo.boot === echo.boot && !serialAfter(echo.sequence, peer.echo.sequence)) return { state: rejected(state, 'unproven'), effects: [] };
    const peers = new Map(state.peers).set(msg.sender, { ...peer, echo });
    // While the boot we accepted is still heard this is a recording or a quick restart: the echo
    // goes out with the next interval's heartbeat, and it is counted. Otherwise it is the handshake
    // of a restarted (or newly heard) peer, not an error: answered at once, so the peer is back
    // a round trip later. Either way a recording draws at most one datagram, to the peer itself.
    if (isFresh(peer, now, state.config.peer.downAfterMs)) return { state: { ...rejected(state, 'unproven'), peers }, effects: [] };
    return heartbeat({ ...state, peers }, now, msg.sender);
  }

  const effects: Effect[] = [];
  if (msg.configHash !== state.config.hash && msg.configHash !== peer.row?.configHash)
    effects.push({ type: 'config-mismatch', node: msg.sender, theirHash: msg.configHash, ourHash: state.config.hash });
  if (peer.row && !sameHealth(peer.row, msg))
    effects.push({ type: 'health', node: msg.sender, healthy: msg.nodeHealthy, services: Object.fromEntries(msg.services) });
  if (msg.zoneSerial !== peer.row?.zoneSerial)
    effects.push({ type: 'peer-serial', node: msg.sender, serial: msg.zoneSerial });
  const peers = new Map(state.peers).set(msg.sender, accepted(msg, now, admission.mark, echo));
  let next: Step = { state: { ...state, peers, counters: { ...state.counters, received: state.counters.received + 1 } }, effects };
  // A new boot of the peer (or our first message from it) may still wait for our proof: send it now.
  const newBoot = peer.mark?.incarnation !== msg.incarnation;
  if (newBoot || missesUs(msg, state)) next = merge(next, heartbeat(next.state, now, msg.sender));
  // Only a peer fresh before may skip: one heard again changes the quorum and the votes.
  return merge(next, evaluate({ state: next.state, effects: [] }, now, skip, { sender: msg.sender }));
}

/** Decoding needs the config's names by wire id; configs are frozen, so each is built once. */
const wireNamesCache = new WeakMap<PeerConfig, WireNames>();
function namesOf(config: PeerConfig): WireNames {
  let names = wireNamesCache.get(config);
  if (!names) wireNamesCache.set(config, (names = wireNames(config.nodes.map((n) => n.name), config.services.map((s) => s.name))));
  return names;
}

/**
 * The sender has missed our heartbeats for more than an interval and a half: answer it at once.
 * Under loss this gives it a second, independent chance to hear us before downAfter, at no cost on
 * a healthy network; it costs at most one datagram per accepted heartbeat, so it cannot amplify.
 */
function missesUs(msg: Heartbeat, state: MembershipState): boolean {
  const obs = msg.heard.get(state.self);
  return obs !== undefined && obs.ageMs >= 1.5 * state.config.peer.intervalMs;
}

/**
 * A peer went silent here within the last interval and is not down yet: the 'check' sends a
 * heartbeat at once, so every peer has this agent's silent vote half an interval after the silence
 * began instead of with the next tick. Agents send on common boundaries (runtime.ts tickDelay), and
 * a dead node's last heartbeat arrived just after one: at each later boundary its silence is a few
 * ms short of a whole number of intervals, so the rows sent there still say "heard", and the
 * majority formed only a full interval after downAfter. Once per silence (the window is one
 * interval, and checks come one interval apart); nothing is sent while every peer is heard.
 */
function newlySilent(state: MembershipState, now: number): boolean {
  const { downAfterMs, intervalMs } = state.config.peer;
  for (const [name, p] of state.peers) {
    if (p.lastHeardAt === undefined) continue;
    const age = now - p.lastHeardAt;
    if (age >= downAfterMs && age < downAfterMs + intervalMs && state.verdicts.get(name)?.state !== 'down') return true;
  }
  return false;
}

/**
 * Whether this tick wants a check half an interval later: some peer missed a heartbeat (not heard
 * for 1.5 intervals), so its silence may reach downAfter before the next tick. While every peer
 * is heard there is nothing for a check to find, and an idle agent is spared the wake-up.
 */
export function wantsCheck(state: MembershipState, now: number): boolean {
  const late = 1.5 * state.config.peer.intervalMs;
  for (const p of state.peers.values()) if (p.lastHeardAt !== undefined && now - p.lastHeardAt >= late) return true;
  return false;
}

/** `later` was computed from `earlier.state`: keep its state, concatenate the effects. */
function merge(earlier: Step, later: Step): Step {
  return { state: later.state, effects: [...earlier.effects, ...later.effects] };
}

function accepted(msg: Heartbeat, now: number, mark: ReplayMark, echo: Echo): PeerState {
  return {
    lastHeardAt: now,
    mark,
    echo,
    row: { receivedAt: now, heard: msg.heard, nodeHealthy: msg.nodeHealthy, services: msg.services, configHash: msg.configHash, zoneSerial: msg.zoneSerial },
  };
}

type Health = Pick<Row, 'nodeHealthy'> & { readonly services: ReadonlyMap<string, boolean> | Readonly<Record<string, boolean>> };

/** Whether two reports of a node's health (a row, a heartbeat, or local checks) say the same. */
export function sameHealth(a: Health, b: Health): boolean {
  if (a.nodeHealthy !== b.nodeHealthy) return false;
  const as = a.services instanceof Map ? a.services : new Map(Object.entries(a.services));
  const bs = b.services instanceof Map ? b.services : new Map(Object.entries(b.services));
  if (as.size !== bs.size) return false;
  for (const [k, v] of as) if (bs.get(k) !== v) return false;
  return true;
}

function rejected(state: MembershipState, reason: RejectReason): MembershipState {
  const r = state.counters.rejected;
  return { ...state, counters: { ...state.counters, rejected: { ...r, [reason]: r[reason] + 1 } } };
}

/** "Heard recently" (to end a hold-down, to call a node alive): two intervals, plus half of one for delay and timer phase. */
const RECENT_INTERVALS = 2.5;

/**
 * Recomputes quorum and the verdicts from the matrix; emits what changed. Only the nodes an event
 * can affect are evaluated (settled.ts): a heartbeat whose row classifies as the sender's last one
 * did, or a tick before any peer can go stale, evaluates the nodes not settled and those whose
 * column changed, O(nodes) each, instead of all, O(nodes²). With every agent receiving nodes − 1
 * heartbeats an interval, recomputing every verdict on each was the agent's main cost (issue 10).
 * `cause.sender`: a heartbeat from that peer was accepted; `cause.tick`: the interval's tick.
 */
function evaluate(step: Step, now: number, skip: boolean, cause: { readonly sender?: string; readonly tick?: true }): Step {
  const { state } = step;
  const { config } = state;
  // Which nodes to evaluate: undefined, every one.
  const plan = skip ? planFor(state, state.settled, now, cause) : undefined;
  if (plan && plan.nodes.length === 0) {
    if (plan.settled === state.settled) return step;
    return { state: { ...state, settled: settle(state, now, plan) }, effects: step.effects };
  }
  const effects = [...step.effects];
  const majority = majorityOf(config.nodes.length);
  const { downAfterMs } = config.peer;
  const recentMs = RECENT_INTERVALS * config.peer.intervalMs;

  const heardNow = config.nodes.filter((n) => n.name === state.self || isFresh(state.peers.get(n.name), now, downAfterMs));
  const hasMajority = heardNow.length >= majority;
  if (hasMajority !== state.hasMajority) {
    const reason = hasMajority
      ? `${state.self} hears a majority: ${heardNow.map((n) => n.name).join(', ')} (${heardNow.length} of ${config.nodes.length})`
      : `${state.self} is in the minority: hears only ${heardNow.map((n) => n.name).join(', ')} (${heardNow.length} of ${config.nodes.length}, needs ${majority})`;
    effects.push({ type: 'quorum', hasMajority, reason });
  }

  // Verdicts kept through a spell in the minority are stale: rejoining, as at start, re-derives them:
  // a node heard again comes up without a hold-down of this agent's (peers still in one hold it
  // down). A node found down is not re-derived from 'unknown': up → down is a failure like any
  // other, counted as a flap by the flap history this agent kept, as its peers count it, and down
  // stays down with the hold-down it has. Re-deriving it from scratch gave this agent a shorter
  // hold-down than its peers', which the cluster then waited for anyway (issue 10, lab: isolate).
  const rejoined = hasMajority && !state.hasMajority;
  const matrix = currentMatrix(state, now);
  // A node not evaluated keeps its verdict and publication: the full evaluation would return the
  // same objects (settled.ts says why).
  const verdicts = plan ? new Map(state.verdicts) : new Map<string, NodeVerdict>();
  const published = plan ? new Map(state.published) : new Map<string, Published>();
  let changed = false;
  let publishedChanged = false;
  for (const n of plan ? plan.nodes.map((i) => config.nodes[i]) : config.nodes) {
    const before = state.verdicts.get(n.name) ?? initialVerdict(now, config.peer);
    const assessment = assess(n.name, ballotsFor(matrix, n.name, downAfterMs), majority, downAfterMs, reportsUnhealthy(state, n.name, now), recentMs);
    const from: NodeVerdict = rejoined && assessment.kind === 'heard' ? { ...before, state: 'unknown' } : before;
    const after = applyAssessment(from, assessment, now, config.peer);
    verdicts.set(n.name, after);
    if (after !== before) changed = true;

    const was = state.published.get(n.name);
    const recent = assessment.kind === 'heard' && !assessment.stale;
    const next = publish(n.name, after, was, holdersDown(matrix, state.self, n.name), recent, now);
    if (next) published.set(n.name, next);
    if (next !== was) {
      publishedChanged = true;
      if (next && next.up !== was?.up) effects.push({ type: 'verdict', node: n.name, up: next.up, reason: next.reason });
    }
  }

  const next: MembershipState =
    !changed && !publishedChanged && hasMajority === state.hasMajority
      ? state
      : {
          ...state,
          verdicts: changed ? verdicts : state.verdicts,
          published: publishedChanged ? published : state.published,
          hasMajority,
          reachedQuorum: state.reachedQuorum || hasMajority,
        };
  const settled = settle(next, now, plan);
  return { state: settled === undefined && next.settled === undefined ? next : { ...next, settled }, effects };
}

/**
 * What this agent answers for a node, from its own verdict: down at once; up only while no fresh
 * peer holds the node down (see `MembershipState.published`). That condition is checked on every
 * evaluation, not only on the way up: an agent can hold a node up that the majority holds down
 * (a node back from the minority never saw itself fail, so its own verdict of itself stayed up),
 * and answering from that verdict would give its own address while every other agent gives the
 * failover target. Unchanged: the same object.
 *
 * A node not assessed yet (this agent just started, or the node was just added) fails open: it is
 * published up, under the same condition. Unknown is not failed. An agent serves once it hears a
 * majority, often an interval before it has heard every node, and a failover target given in that
 * interval sends clients away from a healthy node for a resolver's whole TTL. Failing open costs
 * little in the other case: a node the cluster already holds down is held down by the peers whose
 * rows gave this agent its majority, so it is not published up; and a node dead since before anyone
 * heard it is answered with its own address for at most downAfter, the exposure of any new failure.
 * Not serving until every node is decided would instead keep a restarted agent silent for downAfter
 * whenever one node is really down.
 *
 * `recent`: a majority heard the node within 2.5 intervals now. Coming back up from a hold-down
 * needs it at the moment of publishing, not only when this agent's own hold-down ended: the last
 * holder is often the node itself (a restarted node records itself down from the peers' first
 * rows, so its hold-down of itself ends a round trip after theirs), and a node killed in that gap
 * stops holding itself down only when its last row goes stale, downAfter after the kill (issue 10,
 * restart storm: a dead address published 1.08 s after the kill).
 */
function publish(node: string, v: NodeVerdict, was: Published | undefined, holders: readonly string[], recent: boolean, now: number): Published | undefined {
  if (v.state === 'down') return was && !was.up && was.reason === v.reason ? was : { up: false, reason: v.reason, since: v.since };
  if (holders.length > 0) {
    const reason = `${node} held down: ${holders.join(', ')} still hold it down`;
    return was && !was.up && was.reason === reason ? was : { up: false, reason, since: was && !was.up ? was.since : now, heldBy: holders };
  }
  const unassessed = v.state === 'unknown';
  if (was?.up && (unassessed || !was.unassessed)) return was;
  if (was?.up) return { up: true, reason: v.reason, since: was.since };
  if (unassessed) return { up: true, reason: `${node} not assessed yet: answered as up until it is (unknown is not failed)`, since: now, unassessed };
  if (was && !recent) return was;
  const waited = was?.heldBy ? `; waited for ${was.heldBy.join(', ')} to end the hold-down` : '';
  return { up: true, reason: `${v.reason}${waited}`, since: now };
}

/**
 * Once per interval (not per message): which peer links drop heartbeats. A fault is reported once
 * it has lasted downAfter: when a partition heals, rows that still say "silent" arrive for an
 * interval or two before the ones that say "heard", and that is no broken link.
 */
function checkLinks(step: Step, now: number, skip: boolean): Step {
  const { state } = step;
  // Settled with no silent cell about a node anyone hears: there is no broken link to find (settled.ts).
  const { downAfterMs, intervalMs } = state.config.peer;
  if (skip && state.settled && !state.linkFaults?.length && !state.linkSeenSince?.size && linksQuiet(state.settled, downAfterMs, RECENT_INTERVALS * intervalMs)) return step;
  const current = linkFaults(currentMatrix(state, now), downAfterMs, RECENT_INTERVALS * intervalMs);
  const key = (f: LinkFault) => `${f.from}\u0000${f.to}`;
  const seenSince = new Map(current.map((f) => [key(f), state.linkSeenSince?.get(key(f)) ?? now]));
  const reported = new Map((state.linkFaults ?? []).map((f) => [key(f), f]));
  const effects: Effect[] = [];
  for (const [k, f] of reported) if (!seenSince.has(k)) effects.push({ type: 'link', fault: f, broken: false });
  const faults = current.filter((f) => reported.has(key(f)) || now - seenSince.get(key(f))! >= downAfterMs);
  for (const f of faults) if (!reported.has(key(f))) effects.push({ type: 'link', fault: f, broken: true });
  const was = state.linkSeenSince;
  const sameSeen = was !== undefined && was.size === seenSince.size && [...seenSince.keys()].every((k) => was.has(k));
  if (!effects.length && sameSeen && faults.every((f) => reported.get(key(f))?.message === f.message)) return step;
  return { state: { ...state, linkFaults: faults, linkSeenSince: seenSince }, effects: [...step.effects, ...effects] };
}

/** A reload keeps what is known about nodes that stay; added nodes start unknown. */
function reconfigure(state: MembershipState, config: PeerConfig, now: number): MembershipState {
  const peers = new Map(config.nodes.filter((n) => n.name !== state.self).map((n) => [n.name, state.peers.get(n.name) ?? {}]));
  const verdicts = new Map(config.nodes.map((n) => [n.name, state.verdicts.get(n.name) ?? initialVerdict(now, config.peer)]));
  const published = new Map([...state.published].filter(([name]) => verdicts.has(name)));
  return { ...state, config, peers, verdicts, published };
}
