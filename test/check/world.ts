import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import { udpExchange, encodeQuery } from '../helpers/dns';
import { nsdConf, unboundConf, waitForDns } from '../helpers/lab-servers';
import { Processes, type Started } from '../helpers/proc';
import { requireTool } from '../helpers/tools';

/**
 * A small Internet on loopback: NSD serving a root zone and the parent zone `test.`, and unbound
 * resolving from that root. Every process is in `procs`; `stop()` in afterAll kills them all.
 */
export const ROOT = '127.0.8.10';
export const PARENT = '127.0.8.11';
export const RESOLVER = '127.0.8.53';

const ROOT_ZONE = `$TTL 60
.        IN SOA rootns. hostmaster.root. 1 3600 600 86400 5
.        IN NS  rootns.
rootns.  IN A   ${ROOT}
test.    IN NS  ns.test.
ns.test. IN A   ${PARENT}
`;

export interface Delegation {
  /** NS host → glue address. */
  glue: Record<string, string>;
  ttl: number;
}

export function parentZone(zone: string, d: Delegation): string {
  return [
    '$TTL 60',
    `test. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 5`,
    'test. IN NS ns.test.',
    `ns.test. IN A ${PARENT}`,
    ...Object.keys(d.glue).map((host) => `${zone}. ${d.ttl} IN NS ${host}.`),
    ...Object.entries(d.glue).map(([host, a]) => `${host}. ${d.ttl} IN A ${a}`),
    '',
  ].join('\n');
}

export class World {
  readonly dir = mkdtempSync(join(tmpdir(), 'clusterdns-world-'));
  readonly procs = new Processes();
  private parent: Started | undefined;
  unbound: Started | undefined;

  private async nsd(name: string, address: string, zone: string, text: string): Promise<Started> {
    const nsd = requireTool('nsd');
    const dir = join(this.dir, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'zone'), text);
    writeFileSync(join(dir, 'nsd.conf'), nsdConf(dir, address, zone, `${dir}/zone`));
    const started = this.procs.start(nsd, ['-d', '-c', join(dir, 'nsd.conf')]);
    await waitForDns(address, zone, started);
    return started;
  }

  async startRoot(): Promise<void> {
    await this.nsd('root', ROOT, '.', ROOT_ZONE);
  }

  /** (Re)starts the parent's server with this delegation, as an operator reloading the zone would. */
  async startParent(zone: string, d: Delegation): Promise<void> {
    if (this.parent) {
      this.parent.kill('SIGTERM');
      await this.parent.exited;
    }
    this.parent = await this.nsd('parent', PARENT, 'test.', parentZone(zone, d));
  }

  async startUnbound(): Promise<void> {
    const unbound = requireTool('unbound');
    const dir = join(this.dir, 'unbound');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'root.hints'), `. 3600 IN NS rootns.\nrootns. 3600 IN A ${ROOT}\n`);
    writeFileSync(
      join(dir, 'unbound.conf'),
      unboundConf({
        dir,
        address: RESOLVER,
        server: ['module-config: "iterator"', `root-hints: "${dir}/root.hints"`, 'cache-max-ttl: 60', 'cache-max-negative-ttl: 1', 'infra-host-ttl: 2'],
      }),
    );
    this.unbound = this.procs.start(unbound, ['-d', '-c', join(dir, 'unbound.conf')]);
    await waitForDns(RESOLVER, 'test', this.unbound);
  }

  async stop(): Promise<void> {
    await this.procs.stopAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The addresses unbound resolves `name` to (empty on SERVFAIL, NXDOMAIN or no reply). */
export async function resolveA(name: string, ms = 3000): Promise<{ rcode: string; addresses: string[] }> {
  const raw = await udpExchange(RESOLVER, 53, encodeQuery(name, 'A', { flags: packet.RECURSION_DESIRED }), ms);
  if (!raw) return { rcode: 'TIMEOUT', addresses: [] };
  const p = packet.decode(raw);
  return { rcode: (p as { rcode?: string }).rcode ?? 'NOERROR', addresses: (p.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : [])) };
}
