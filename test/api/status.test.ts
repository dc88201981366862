import { describe, expect, it } from 'vitest';
import { statusDocument } from '../../src/api/status';
import { config, source, view } from './fixtures';

/** The status document built from a fixed view: time conversion, conditions, flags. No sockets. */

const WALL = Date.UTC(2030, 0, 1, 12, 0, 30);
const cfg = config();

describe('statusDocument', () => {
  it('converts the view’s monotonic times to wall-clock ISO times at the request', () => {
    const v = view(cfg, 1_000_000, { node3: { state: 'down', up: false, since: 1_000_000 - 2500, reason: 'node3 down: not heard by node1, node2 for 1.0 s' } });
    const s = statusDocument(source(cfg, v), WALL, '9.9.9');
    expect(s.now).toBe('2030-01-01T12:00:30.000Z');
    expect(s.startedAt).toBe('2030-01-01T12:00:00.000Z');
    expect(s.uptimeSeconds).toBe(30);
    expect(s.nodes[2].since).toBe('2030-01-01T12:00:27.500Z');
    expect(s.nodes[0].since).toBe('2030-01-01T12:00:25.000Z');
    expect(s.version).toBe('9.9.9');
    expect(s.serial).toBe(42);
  });

  it.each([
    ['heard 100 ms ago', {}, 100, 'up'],
    ['heard 600 ms ago (over two 250 ms intervals): late, not down yet', {}, 600, 'suspect'],
    ['reports its checks failing', { healthy: false }, 100, 'suspect'],
    ['up by the others, never heard by this agent', {}, undefined, 'suspect'],
    ['down', { state: 'down' as const, up: false }, 5000, 'down'],
    ['not decided', { state: 'unknown' as const, up: false }, 100, 'unknown'],
  ])('node2 %s → %s', (_what, node2, heardAgo, condition) => {
    const v = view(cfg, 50_000, { node2 });
    const heard = { ...v.matrix.node1!.heard, node2: heardAgo === undefined ? { everHeard: false, ageMs: 50_000, verdict: 'up' as const } : { everHeard: true, ageMs: heardAgo, verdict: 'up' as const } };
    const s = statusDocument(source(cfg, { ...v, matrix: { ...v.matrix, node1: { rowAgeMs: 0, fresh: true, heard } } }), WALL, '1');
    expect(s.nodes[1].condition).toBe(condition);
    expect(s.nodes[1].heardAgoMs).toBe(heardAgo ?? null);
  });

  it('hears: the nodes this agent heard within downAfter, itself included', () => {
    const v = view(cfg, 50_000);
    const heard = { node1: { everHeard: true, ageMs: 0, verdict: 'up' as const }, node2: { everHeard: true, ageMs: 999, verdict: 'up' as const }, node3: { everHeard: true, ageMs: 1000, verdict: 'up' as const } };
    const s = statusDocument(source(cfg, { ...v, matrix: { ...v.matrix, node1: { rowAgeMs: 0, fresh: true, heard } } }), WALL, '1');
    expect(s.hears).toEqual(['node1', 'node2']);
    expect(s.majority).toBe(2);
  });

  it('flags a peer running another config', () => {
    const s = statusDocument(source(cfg, view(cfg, 1000, { node2: { configHash: 'deadbeefdeadbeef' } })), WALL, '1');
    expect(s.config).toEqual({ hashes: { node1: cfg.hash, node2: 'deadbeefdeadbeef', node3: cfg.hash }, mismatch: true });
  });

  it('before membership runs: nothing is known, nothing is served', () => {
    const s = statusDocument(source(cfg, undefined, { inputs: { nodeTargets: new Map(), upNodes: [], services: new Map(), serving: false, serial: 7, failOpen: false } }), WALL, '1');
    expect(s).toMatchObject({ serving: false, quorum: false, minority: true, hears: ['node1'] });
    expect(s.nodes.map((n) => [n.state, n.condition, n.reason])).toEqual([
      ['unknown', 'unknown', 'membership not started'],
      ['unknown', 'unknown', 'membership not started'],
      ['unknown', 'unknown', 'membership not started'],
    ]);
    expect(Object.values(s.matrix)).toEqual([null, null, null]);
    expect(s.answers.every((a) => a.a.length === 0 && !a.failedOver)).toBe(true);
  });

  it('events newest first, as ISO times', () => {
    const s = statusDocument(source(cfg, view(cfg, 1000)), WALL, '1');
    expect(s.events).toEqual([
      { at: '2030-01-01T12:00:02.000Z', type: 'serving', message: 'second' },
      { at: '2030-01-01T12:00:01.000Z', type: 'majority', message: 'first' },
    ]);
  });

  it('is plain JSON: it survives a round trip unchanged', () => {
    const s = statusDocument(source(cfg, view(cfg, 1000)), WALL, '1');
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
