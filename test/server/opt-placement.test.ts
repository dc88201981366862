import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterYaml, TestCluster } from '../helpers/cluster';
import { udpExchange } from '../helpers/dns';
import { namedConf, nsdConf } from '../helpers/lab-servers';
import { Processes } from '../helpers/proc';
import { requireTool } from '../helpers/tools';
import { claimLoopback } from '../parent/named';

/**
 * Where an OPT record may be, and what follows the last record, judged against BIND and NSD: the
 * same crafted queries go over UDP to a real named, a real nsd (both serving cluster.test, started
 * here) and a real agent, and the agent must answer as they do. RFC 6891 §6.1.1: OPT belongs in the
 * additional section, once; BIND 9.18 and NSD 4.6 answer FORMERR to an OPT in the answer or
 * authority section. Bytes after the last record: both answer as if they were not there (RFC 8906:
 * a server does not drop or refuse what it can answer), and so does the agent. Block: 127.0.163.0/24.
 */

const PORT = 6163;
const NAMED = '127.0.163.1';
const NSD = '127.0.163.2';
const AGENT = '127.0.163.3';
const ZONE = `$TTL 300
@     IN SOA ns1.cluster.test. hostmaster.cluster.test. 1 3600 600 86400 60
@     IN NS  ns1.cluster.test.
ns1   IN A   ${NAMED}
node1 IN A   ${AGENT}
`;

const procs = new Processes();
let dir: string;
let release: (() => Promise<void>) | undefined;
let cluster: TestCluster | undefined;

async function answering(host: string, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    const r = await udpExchange(host, PORT, query(1, {}), 200);
    if (r && (r[3] & 0xf) === 0 && r[7] > 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`${what} on ${host}:${PORT} does not answer node1.cluster.test`);
}

beforeAll(async () => {
  const named = requireTool('named');
  const nsd = requireTool('nsd');
  dir = mkdtempSync(join(tmpdir(), 'clusterdns-opt-'));
  writeFileSync(join(dir, 'cluster.test.db'), ZONE);
  release = await claimLoopback(NAMED);
  writeFileSync(
    join(dir, 'named.conf'),
    namedConf(dir, NAMED, PORT, ['recursion no;', 'notify no;', 'dnssec-validation no;'], `zone "cluster.test" { type primary; file "${dir}/cluster.test.db"; };
`),
  );
  writeFileSync(join(dir, 'nsd.conf'), nsdConf(dir, NSD, 'cluster.test', `${dir}/cluster.test.db`, PORT));
  const n = procs.start(named, ['-g', '-4', '-c', join(dir, 'named.conf')]);
  const d = procs.start(nsd, ['-d', '-c', join(dir, 'nsd.conf')]);
  cluster = new TestCluster(`${clusterYaml({ dnsPort: PORT, nodes: [{ name: 'node1', address: AGENT }] })}\n`.replace(`dns: { port: ${PORT},`, `dns: { port: ${PORT}, rateLimit: { responsesPerSecond: 0 },`));
  await cluster.startAgent('node1');
  await Promise.all([answering(NAMED, `named (${n.stderr.slice(-300)})`), answering(NSD, `nsd (${d.stderr.slice(-300)})`), answering(AGENT, 'the agent')]);
}, 40_000);

afterAll(async () => {
  await cluster?.cleanup();
  await procs.stopAll();
  await release?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A wire name from dotted text. */
function wireName(name: string): Buffer {
  return Buffer.concat([...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

const QUESTION = Buffer.concat([wireName('node1.cluster.test'), Buffer.from([0, 1, 0, 1])]);
/** OPT: root owner, type 41, 1232-byte payload, version 0, no options. */
const OPT = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
/** OPT with a COOKIE option of 7 bytes, and with an option whose length runs past the RDATA. */
const OPT_BAD_COOKIE = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 11, 0, 10, 0, 7, 1, 2, 3, 4, 5, 6, 7]);
const OPT_OVERRUN = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 6, 0, 3, 0, 9, 1, 2]);
const A_RECORD = Buffer.concat([wireName('node1.cluster.test'), Buffer.from([0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 163, 9])]);
/** A TSIG record (RFC 8945 §4.2) with a key none of the servers has: the answer is NOTAUTH/BADKEY. */
function tsig(id: number): Buffer {
  const now = Math.floor(Date.now() / 1000);
  const rdata = Buffer.concat([wireName('hmac-sha256'), Buffer.from([0, 0, (now >>> 24) & 255, (now >>> 16) & 255, (now >>> 8) & 255, now & 255, 1, 44, 0, 32]), Buffer.alloc(32, 0x11), Buffer.from([id >> 8, id & 255, 0, 0, 0, 0])]);
  return Buffer.concat([wireName('transfer-key'), Buffer.from([0, 250, 0, 255, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 255]), rdata]);
}

function query(id: number, counts: { an?: number; ns?: number; ar?: number }, ...rest: Buffer[]): Buffer {
  const header = Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, counts.an ?? 0, 0, counts.ns ?? 0, 0, counts.ar ?? 0]);
  return Buffer.concat([header, QUESTION, ...rest]);
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH'];
/** What a client sees: the rcode, whether the name was answered, whether the reply carries OPT. */
function verdict(r: Buffer | undefined): string {
  if (!r) return 'no reply';
  const rcode = RCODES[r[3] & 0xf] ?? String(r[3] & 0xf);
  const answered = ((r[6] << 8) | r[7]) > 0;
  const opt = r.includes(Buffer.from([0, 0, 41]), 12);
  return `${rcode}${answered ? ' answered' : ''}${opt ? ' +OPT' : ''}`;
}

const junk = (n: number) => Buffer.alloc(n, 0xab);

/** Name, what BIND and NSD answer (the agent must answer the same), and the packet (by id). */
const CASES: [string, string, (id: number) => Buffer][] = [
  ['a plain query', 'NOERROR answered', (id) => query(id, {})],
  ['OPT in the additional section', 'NOERROR answered +OPT', (id) => query(id, { ar: 1 }, OPT)],
  ['OPT in the answer section', 'FORMERR', (id) => query(id, { an: 1 }, OPT)],
  ['OPT in the authority section', 'FORMERR', (id) => query(id, { ns: 1 }, OPT)],
  ['OPT in the answer section and another in the additional', 'FORMERR', (id) => query(id, { an: 1, ar: 1 }, OPT, OPT)],
  ['OPT in the authority section after an A record in the answer', 'FORMERR', (id) => query(id, { an: 1, ns: 1 }, A_RECORD, OPT)],
  ['an option running past the OPT record', 'FORMERR', (id) => query(id, { ar: 1 }, OPT_OVERRUN)],
  ['two OPTs in the additional section', 'FORMERR', (id) => query(id, { ar: 2 }, OPT, OPT)],
  ['one byte after the question', 'NOERROR answered', (id) => query(id, {}, junk(1))],
  ['12 bytes after the question', 'NOERROR answered', (id) => query(id, {}, junk(12))],
  ['the question twice, counted once', 'NOERROR answered', (id) => query(id, {}, QUESTION)],
  ['5 bytes after the OPT record', 'NOERROR answered +OPT', (id) => query(id, { ar: 1 }, OPT, junk(5))],
  ['a record counted but missing', 'FORMERR', (id) => query(id, { an: 1 })],
  ['TSIG with an unknown key', 'NOTAUTH', (id) => query(id, { ar: 1 }, tsig(id))],
  ['OPT then TSIG', 'NOTAUTH +OPT', (id) => query(id, { ar: 2 }, OPT, tsig(id))],
  ['3 bytes after the TSIG record', 'NOTAUTH +OPT', (id) => query(id, { ar: 2 }, OPT, tsig(id), junk(3))],
  ['TSIG in the answer section', 'FORMERR', (id) => query(id, { an: 1 }, tsig(id))],
];

describe('OPT placement and bytes after the last record: the agent answers as BIND and NSD do', () => {
  it.each(CASES)('%s: %s', async (_, expected, packet) => {
    const id = 0x1000 + Math.floor(Math.random() * 0xe000);
    const [bind, nsd, agent] = await Promise.all([NAMED, NSD, AGENT].map((h) => udpExchange(h, PORT, packet(id), 2000)));
    expect({ bind: verdict(bind), nsd: verdict(nsd) }).toEqual({ bind: expected, nsd: expected });
    expect(verdict(agent)).toBe(expected);
    // The reply is to this query: same ID, QR set.
    expect(agent!.readUInt16BE(0)).toBe(id);
    expect(agent![2] & 0x80).toBe(0x80);
  });

  it('where they differ, the agent answers as BIND: an A record in the answer or authority section of a query is ignored (NSD: FORMERR)', async () => {
    for (const counts of [{ an: 1 }, { ns: 1 }]) {
      const [bind, nsd, agent] = await Promise.all([NAMED, NSD, AGENT].map((h) => udpExchange(h, PORT, query(7, counts, A_RECORD), 2000)));
      expect([verdict(bind), verdict(nsd), verdict(agent)]).toEqual(['NOERROR answered', 'FORMERR', 'NOERROR answered']);
    }
  });

  it('where they differ, the agent answers as BIND and RFC 7873 §5.2.2: a COOKIE option of 7 bytes is FORMERR with OPT (NSD ignores it)', async () => {
    const [bind, nsd, agent] = await Promise.all([NAMED, NSD, AGENT].map((h) => udpExchange(h, PORT, query(8, { ar: 1 }, OPT_BAD_COOKIE), 2000)));
    expect([verdict(bind), verdict(nsd), verdict(agent)]).toEqual(['FORMERR +OPT', 'NOERROR answered +OPT', 'FORMERR +OPT']);
  });
});
