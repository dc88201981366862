import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Route53 REST-XML API (2013-04-01), enough for the real AWS SDK to read a hosted
 * zone, list its record sets page by page in Route53's order, change them with Route53's atomic
 * validation, and watch the change go PENDING → INSYNC. Errors can be injected per operation.
 */

export interface StandinRRset {
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

export type Operation = 'GetHostedZone' | 'ListResourceRecordSets' | 'ChangeResourceRecordSets' | 'GetChange';

interface Injected {
  op: Operation;
  status: number;
  code: string;
  message: string;
  times: number;
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fqdn = (n: string) => (n.endsWith('.') ? n : `${n}.`).toLowerCase();
/** Route53 orders record sets by name with the labels reversed, then by type. */
const orderKey = (r: { name: string; type: string }) => `${fqdn(r.name).slice(0, -1).split('.').reverse().join('.')}\u0000${r.type}`;
/** Code-unit order, as Route53's; localeCompare would collate the separators away. */
const byKey = (a: { name: string; type: string }, b: { name: string; type: string }) => {
  const [x, y] = [orderKey(a), orderKey(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

function tag(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
}
function tags(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]);
}

export class Route53Standin {
  readonly requests: Array<{ op: Operation; method: string; path: string; authorization?: string }> = [];
  /** GetChange answers PENDING this many times before INSYNC. */
  pendingPolls = 2;
  /** Record sets per ListResourceRecordSets page, whatever maxitems asks, to force paging. */
  pageSize = 2;
  private readonly zones = new Map<string, { name: string; records: StandinRRset[] }>();
  private readonly changes = new Map<string, number>();
  private injected: Injected[] = [];
  private server?: Server;
  url = '';

  addZone(id: string, name: string, records: StandinRRset[] = []): void {
    this.zones.set(id, {
      name: fqdn(name),
      records: [
        { name: fqdn(name), type: 'SOA', ttl: 900, values: ['ns-1.awsdns-00.test. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400'] },
        { name: fqdn(name), type: 'NS', ttl: 172800, values: ['ns-1.awsdns-00.test.', 'ns-2.awsdns-00.test.'] },
        ...records.map((r) => ({ ...r, name: fqdn(r.name) })),
      ],
    });
  }

  /** Another operator's change, behind the SDK's back. */
  put(id: string, r: StandinRRset): void {
    const z = this.zones.get(id)!;
    z.records = [...z.records.filter((x) => !(x.name === fqdn(r.name) && x.type === r.type)), { ...r, name: fqdn(r.name) }];
  }

  /** The zone's record sets in Route53 order, as `name ttl type value,value`. */
  records(id: string): string[] {
    return [...this.zones.get(id)!.records]
      .sort(byKey)
      .map((r) => `${r.name} ${r.ttl} ${r.type} ${[...r.values].sort().join(',')}`);
  }

  inject(op: Operation, code: string, opts: { status?: number; message?: string; times?: number } = {}): void {
    this.injected.push({ op, code, status: opts.status ?? 400, message: opts.message ?? `${code} injected by the test`, times: opts.times ?? 1 });
  }

  count(op: Operation): number {
    return this.requests.filter((r) => r.op === op).length;
  }

  async start(host: string): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => this.handle(req, body, res));
    });
    await new Promise<void>((r) => this.server!.listen(0, host, r));
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
  }

  private handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://standin');
    const path = url.pathname.replace(/\/$/, '');
    let m: RegExpExecArray | null;
    const send = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
      res.end(`<?xml version="1.0"?>\n${xml}`);
    };
    const error = (status: number, code: string, message: string) =>
      send(status, `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
    const route = (op: Operation, fn: () => void) => {
      this.requests.push({ op, method: req.method ?? '', path, authorization: req.headers.authorization });
      const inj = this.injected.find((i) => i.op === op && i.times > 0);
      if (inj) {
        inj.times--;
        return error(inj.status, inj.code, inj.message);
      }
      fn();
    };
    const zoneOf = (id: string) => this.zones.get(id);

    if (req.method === 'GET' && (m = /^\/2013-04-01\/hostedzone\/([^/]+)$/.exec(path))) {
      const id = m[1];
      return route('GetHostedZone', () => {
        const z = zoneOf(id);
        if (!z) return error(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
        send(
          200,
          `<GetHostedZoneResponse xmlns="${NS}"><HostedZone><Id>/hostedzone/${id}</Id><Name>${z.name}</Name><CallerReference>standin</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>${z.records.length}</ResourceRecordSetCount></HostedZone><DelegationSet><NameServers><NameServer>ns-1.awsdns-00.test</NameServer></NameServers></DelegationSet></GetHostedZoneResponse>`,
        );
      });
    }
    if (req.method === 'GET' && (m = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset$/.exec(path))) {
      const id = m[1];
      return route('ListResourceRecordSets', () => {
        const z = zoneOf(id);
        if (!z) return error(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
        const name = url.searchParams.get('name');
        const type = url.searchParams.get('type');
        if (type && !name) return error(400, 'InvalidInput', 'The input is not valid: type given without name');
        const from = name ? orderKey({ name, type: type ?? '' }) : '';
        const sorted = [...z.records].sort(byKey).filter((r) => orderKey(r) >= from);
        const max = Math.min(this.pageSize, Number(url.searchParams.get('maxitems') ?? 300));
        const page = sorted.slice(0, max);
        const next = sorted[max];
        const sets = page
          .map(
            (r) =>
              `<ResourceRecordSet><Name>${r.name}</Name><Type>${r.type}</Type><TTL>${r.ttl}</TTL><ResourceRecords>${r.values
                .map((v) => `<ResourceRecord><Value>${esc(v)}</Value></ResourceRecord>`)
                .join('')}</ResourceRecords></ResourceRecordSet>`,
          )
          .join('');
        send(
          200,
          `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${sets}</ResourceRecordSets><IsTruncated>${!!next}</IsTruncated>${
            next ? `<NextRecordName>${next.name}</NextRecordName><NextRecordType>${next.type}</NextRecordType>` : ''
          }<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`,
        );
      });
    }
    if (req.method === 'POST' && (m = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset$/.exec(path))) {
      const id = m[1];
      return route('ChangeResourceRecordSets', () => {
        const z = zoneOf(id);
        if (!z) return error(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
        const problems: string[] = [];
        const next = z.records.map((r) => ({ ...r, values: [...r.values] }));
        const changes = tags(body, 'Change');
        if (changes.length === 0) return error(400, 'InvalidInput', 'The change batch is empty');
        for (const c of changes) {
          const action = tag(c, 'Action');
          const rr: StandinRRset = {
            name: fqdn(tag(c, 'Name') ?? ''),
            type: tag(c, 'Type') ?? '',
            ttl: Number(tag(c, 'TTL')),
            values: tags(c, 'Value'),
          };
          const desc = `[name='${rr.name}', type='${rr.type}']`;
          if (!(rr.name === z.name || rr.name.endsWith(`.${z.name}`))) {
            problems.push(`RRSet with DNS name ${rr.name} is not permitted in zone ${z.name}`);
            continue;
          }
          const at = next.findIndex((r) => r.name === rr.name && r.type === rr.type);
          if (action === 'CREATE') {
            if (at >= 0) problems.push(`Tried to create resource record set ${desc} but it already exists`);
            else next.push(rr);
          } else if (action === 'DELETE') {
            const cur = next[at];
            if (!cur) problems.push(`Tried to delete resource record set ${desc} but it was not found`);
            else if (cur.ttl !== rr.ttl || [...cur.values].sort().join() !== [...rr.values].sort().join())
              problems.push(`Tried to delete resource record set ${desc} but the values provided do not match the current values`);
            else next.splice(at, 1);
          } else if (action === 'UPSERT') {
            if (at >= 0) next[at] = rr;
            else next.push(rr);
          } else problems.push(`Unknown action ${action}`);
        }
        if (problems.length) return error(400, 'InvalidChangeBatch', `[${problems.join(', ')}]`);
        z.records = next;
        const changeId = `C${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`;
        this.changes.set(changeId, 0);
        send(200, `<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfo(changeId, 'PENDING')}</ChangeResourceRecordSetsResponse>`);
      });
    }
    if (req.method === 'GET' && (m = /^\/2013-04-01\/change\/([^/]+)$/.exec(path))) {
      const id = m[1];
      return route('GetChange', () => {
        const polls = this.changes.get(id);
        if (polls === undefined) return error(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${id}`);
        this.changes.set(id, polls + 1);
        send(200, `<GetChangeResponse xmlns="${NS}">${changeInfo(id, polls >= this.pendingPolls ? 'INSYNC' : 'PENDING')}</GetChangeResponse>`);
      });
    }
    error(404, 'UnknownOperation', `${req.method} ${path} is not part of the stand-in`);
  }
}

function changeInfo(id: string, status: string): string {
  return `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;
}
