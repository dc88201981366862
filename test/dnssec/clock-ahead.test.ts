import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster';
import { fullConfigYaml, makeKey } from '../helpers/full-config';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { libfaketime } from '../helpers/faketime';

/**
 * Signatures made while the node's clock was ahead: once the clock is right again they begin in the
 * future, and validators reject them ("RRSIG validity period has not begun") until real time catches
 * up — for up to `refresh` (7 days by default) if the signer keeps them in its cache. A real agent
 * under libfaketime, whose clock is stepped through a file it re-reads every second, asked by kdig
 * and validated by delv from the zone's own key. Block: 127.0.160.0/24.
 */

const A = '127.0.160.1';
const PORT = 6160;
let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.cleanup();
  cluster = undefined;
});

/** `YYYYMMDDHHMMSS` (RFC 4034 §3.2) to Unix seconds. */
const unix = (t: string) => Date.UTC(+t.slice(0, 4), +t.slice(4, 6) - 1, +t.slice(6, 8), +t.slice(8, 10), +t.slice(10, 12), +t.slice(12, 14)) / 1000;

/** Every RRSIG served for DNSKEY, SOA and an A record: covered type and inception. */
async function inceptions(): Promise<{ type: string; inception: number }[]> {
  const out: { type: string; inception: number }[] = [];
  for (const [name, type] of [
    ['cluster.test', 'DNSKEY'],
    ['cluster.test', 'SOA'],
    ['solo.cluster.test', 'A'],
  ]) {
    const r = await run(requireTool('kdig'), [`@${A}`, '-p', String(PORT), '+dnssec', '+noall', '+answer', '+time=1', '+retry=0', name, type]);
    // owner ttl IN RRSIG <covered> <alg> <labels> <ttl> <expiration> <inception> ...
    for (const f of r.stdout.split('\n').map((l) => l.trim().split(/\s+/))) if (f[3] === 'RRSIG') out.push({ type: f[4], inception: unix(f[9]) });
  }
  return out;
}

/** A delv trust-anchors file holding the zone's own key: delv then validates the zone from it. */
function anchors(dir: string, keyBase: string): string {
  const line = readFileSync(`${keyBase}.key`, 'utf8')
    .split('\n')
    .find((l) => /\sDNSKEY\s/.test(l) && !l.startsWith(';'))!;
  const f = line.trim().split(/\s+/);
  const at = f.indexOf('DNSKEY');
  const path = join(dir, 'anchors.conf');
  writeFileSync(path, `trust-anchors { "cluster.test." static-key ${f[at + 1]} ${f[at + 2]} ${f[at + 3]} "${f.slice(at + 4).join('')}"; };\n`);
  return path;
}

async function delv(anchorsPath: string): Promise<string> {
  const r = await run(requireTool('delv'), [`@${A}`, '-p', String(PORT), '-a', anchorsPath, '+root=cluster.test', 'solo.cluster.test', 'A'], { timeoutMs: 10_000 });
  return r.stdout + r.stderr;
}

/** Starts the one-node signed cluster with its wall clock read from `clockFile` (a libfaketime offset). */
async function start(clock: string): Promise<{ c: TestCluster; clockFile: string; anchorsPath: string; reloads: () => number; hup: () => Promise<void>; agent: { stdout: string } }> {
  const c = new TestCluster('');
  cluster = c;
  const key = await makeKey(c.dir);
  c.write(fullConfigYaml({ address: A, privateAddress: '127.0.160.11', dnsPort: PORT, peerPort: PORT + 1, httpPort: PORT + 2, discoveryPort: PORT + 3, keys: [key] }));
  const clockFile = join(c.dir, 'clock');
  writeFileSync(clockFile, `${clock}\n`);
  const agent = await c.startAgent('solo', [], {
    LD_PRELOAD: libfaketime(),
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_TIMESTAMP_FILE: clockFile,
    FAKETIME_CACHE_DURATION: '1',
  });
  const reloads = () => agent.stdout.split('\n').filter((l) => l.includes('"event":"reload"')).length;
  const hup = async () => {
    const before = reloads();
    agent.kill('SIGHUP');
    const end = Date.now() + 5000;
    while (reloads() === before) {
      if (Date.now() > end) throw new Error(`no reload logged 5 s after SIGHUP:\n${agent.stdout}\n${agent.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { c, clockFile, anchorsPath: anchors(c.dir, key), reloads, hup, agent };
}

/** Steps the agent's clock and waits past libfaketime's cache of the file (1 s). */
async function step(clockFile: string, clock: string): Promise<void> {
  writeFileSync(clockFile, `${clock}\n`);
  await new Promise((r) => setTimeout(r, 1600));
}

/**
 * SIGHUP until the reload is logged at a wall-clock time within `offsetS` (± 1 h) of the real one:
 * on a loaded machine libfaketime can still read its cached offset a moment after the step, and
 * a reload at the old time would test nothing.
 */
async function hupAt(agent: { stdout: string }, hup: () => Promise<void>, offsetS: number): Promise<void> {
  for (let tries = 0; ; tries++) {
    await hup();
    const last = agent.stdout.split('\n').filter((l) => l.includes('"event":"reload"')).pop()!;
    const lag = (JSON.parse(last) as { time: number }).time / 1000 - Date.now() / 1000 - offsetS;
    if (Math.abs(lag) < 3600) return;
    if (tries === 5) throw new Error(`the agent's clock did not step: its reload was logged ${Math.round(lag)} s off the expected time`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const DAY = 86400;

describe('DNSSEC signatures made while the clock was ahead', () => {
  it('a clock stepped 8 days ahead and back: after the SIGHUP at +0 every RRSIG began in the past and delv validates', { timeout: 40_000 }, async () => {
    requireTool('delv');
    const { clockFile, anchorsPath, hup, agent } = await start('+0');
    expect(await delv(anchorsPath)).toMatch(/fully validated/);

    await step(clockFile, '+8d');
    await hupAt(agent, hup, 8 * DAY);
    // The reload at +8d signed (the 7-day refresh had passed): the signatures begin 8 days ahead.
    const ahead = await inceptions();
    const now = Date.now() / 1000;
    expect(ahead.map((s) => s.type).sort()).toEqual(['A', 'DNSKEY', 'SOA']);
    for (const s of ahead) expect(s.inception - now, s.type).toBeGreaterThan(7 * DAY);

    await step(clockFile, '+0');
    await hupAt(agent, hup, 0);
    const back = await inceptions();
    const later = Date.now() / 1000;
    expect(back.map((s) => s.type).sort()).toEqual(['A', 'DNSKEY', 'SOA']);
    for (const s of back) expect(s.inception, `${s.type} RRSIG inception, s after now`).toBeLessThan(later);
    const v = await delv(anchorsPath);
    expect(v).toMatch(/fully validated/);
    expect(v).not.toMatch(/has not begun|broken trust chain/);
  });

  it('a node booted with its clock 2 h ahead, then corrected: after the SIGHUP every RRSIG began in the past and delv validates', { timeout: 40_000 }, async () => {
    requireTool('delv');
    const { clockFile, anchorsPath, hup, agent } = await start('+2h');
    const ahead = await inceptions();
    for (const s of ahead) expect(s.inception - Date.now() / 1000, s.type).toBeGreaterThan(3000);
    expect(await delv(anchorsPath)).toMatch(/has not begun/);

    await step(clockFile, '+0');
    await hupAt(agent, hup, 0);
    const back = await inceptions();
    const now = Date.now() / 1000;
    expect(back.map((s) => s.type).sort()).toEqual(['A', 'DNSKEY', 'SOA']);
    for (const s of back) expect(s.inception, `${s.type} RRSIG inception`).toBeLessThan(now);
    expect(await delv(anchorsPath)).toMatch(/fully validated/);
  });
});
