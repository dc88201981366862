import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../helpers/cluster';
import { fullConfigYaml, makeKey } from '../helpers/full-config';
import { run } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * The re-sign timer of a live agent: with `refresh: 2` (seconds) the RRSIGs seen by kdig +dnssec
 * are replaced every couple of seconds, each new one valid for the full `validity` from its
 * signing, so no answer ever carries a signature older than refresh plus one timer tick. Without
 * the timer the first signatures would be served until the next change of answers. Block 127.0.122.0/24.
 */

const A = '127.0.122.1';
const PORT = 5431;
const VALIDITY = 3 * 3600;
const REFRESH = 2;
let cluster: TestCluster;
let kdig: string;

beforeAll(async () => {
  kdig = requireTool('kdig');
  cluster = new TestCluster('');
  const key = await makeKey(cluster.dir);
  cluster.write(
    fullConfigYaml({ address: A, privateAddress: '127.0.122.11', dnsPort: PORT, peerPort: 5432, httpPort: 5433, discoveryPort: 5434, keys: [key], validity: '3h', refresh: String(REFRESH) }),
  );
  await cluster.startAgent('solo');
});
let lapsing: TestCluster | undefined;
afterAll(async () => {
  await cluster?.cleanup();
  await lapsing?.cleanup();
});

/** `YYYYMMDDHHMMSS` (RFC 4034 §3.2) to Unix seconds. */
const unix = (t: string) => Date.UTC(+t.slice(0, 4), +t.slice(4, 6) - 1, +t.slice(6, 8), +t.slice(8, 10), +t.slice(10, 12), +t.slice(12, 14)) / 1000;

/** The RRSIG over the zone's SOA, through kdig: its inception and expiration. */
async function soaSignature(): Promise<{ inception: number; expiration: number } | undefined> {
  const r = await run(kdig, [`@${A}`, '-p', String(PORT), 'cluster.test', 'SOA', '+dnssec', '+short', '+time=1', '+retry=0']);
  // +short RRSIG: <type covered> <alg> <labels> <ttl> <expiration> <inception> <tag> <signer> <sig>
  const line = r.stdout.split('\n').find((l) => l.startsWith('SOA '));
  if (!line) return undefined;
  const f = line.split(/\s+/);
  return { expiration: unix(f[4]), inception: unix(f[5]) };
}

describe('the DNSSEC re-sign timer', () => {
  it('replaces signatures at refresh age, long before they expire', async () => {
    const seen = new Map<number, number>();
    const end = Date.now() + 7_000;
    let samples = 0;
    while (Date.now() < end) {
      const sig = await soaSignature();
      const now = Math.floor(Date.now() / 1000);
      if (sig) {
        samples++;
        seen.set(sig.expiration, sig.inception);
        expect(sig.expiration - sig.inception).toBe(VALIDITY + 3600);
        // Signed no longer ago than refresh plus a timer tick (refresh/4) and slack for a loaded machine.
        expect(sig.expiration - now).toBeGreaterThanOrEqual(VALIDITY - REFRESH - 3);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(samples).toBeGreaterThan(10);
    // Over 7 s with refresh 2 s: at least three generations of signatures, each later than the last.
    const expirations = [...seen.keys()].sort((a, b) => a - b);
    expect(expirations.length, `expirations seen: ${expirations.join(', ')}`).toBeGreaterThanOrEqual(3);
    expect(expirations[expirations.length - 1] - expirations[0]).toBeGreaterThanOrEqual(4);
  });
});

describe('a key that goes inactive while the agent runs', () => {
  it('is reported once, as a warning saying what to do', async () => {
    lapsing = new TestCluster('');
    const key = await makeKey(lapsing.dir);
    // BIND's timing field: the key stops signing 3 s from now (config check and start see it active).
    const t = new Date(Date.now() + 3000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    appendFileSync(`${key}.private`, `Inactive: ${t}\n`);
    lapsing.write(
      fullConfigYaml({ address: '127.0.122.2', privateAddress: '127.0.122.12', dnsPort: 5435, peerPort: 5436, httpPort: 5437, discoveryPort: 5438, keys: [key], validity: '3h', refresh: String(REFRESH) }),
    );
    const agent = await lapsing.startAgent('solo');
    expect(agent.stdout).not.toMatch(/"event":"dnssec-keys"/);
    await agent.waitForOutput(/"event":"dnssec-keys".*no DNSSEC key with the SEP flag is active any more.*add an active key to dnssec\.keys and send SIGHUP/, 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(agent.stdout.match(/"event":"dnssec-keys"/g)).toHaveLength(1);
  });
});
