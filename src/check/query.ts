import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import * as packet from 'dns-packet';
import { tcpExchange } from '../net/tcp-exchange';
import type { Endpoint, Failure, Outcome, Reply, SeenRecord } from './types';

export interface Question {
  readonly name: string;
  readonly type: 'SOA' | 'NS' | 'A' | 'AAAA' | 'TXT';
  readonly class?: 'IN' | 'CH';
}

export interface AskOptions {
  readonly transport: 'udp' | 'tcp';
  /** Recursion desired: only for questions to a resolver; name servers are asked with RD clear. */
  readonly recurse?: boolean;
  readonly timeoutMs: number;
  /** Send an OPT record asking for NSID. */
  readonly nsid?: boolean;
}

const NSID = 3;

function encodeQuestion(q: Question, id: number, opts: Pick<AskOptions, 'recurse' | 'nsid'>): Buffer {
  const opt = { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: opts.nsid ? [{ code: NSID, data: Buffer.alloc(0) }] : [] };
  return packet.encode({
    type: 'query',
    id,
    flags: opts.recurse ? packet.RECURSION_DESIRED : 0,
    questions: [{ name: q.name, type: q.type, class: q.class ?? 'IN' }],
    additionals: [opt as unknown as packet.Answer],
  });
}

function lower(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function seen(a: packet.Answer): SeenRecord | undefined {
  const base = { name: lower(a.name), type: a.type, ttl: (a as { ttl?: number }).ttl ?? 0 };
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return { ...base, data: a.data };
    case 'NS':
    case 'CNAME':
      return { ...base, data: lower(a.data) };
    case 'SOA':
      return { ...base, data: `${lower(a.data.mname)} ${a.data.serial}`, serial: a.data.serial };
    case 'TXT': {
      const parts = Array.isArray(a.data) ? a.data : [a.data];
      return { ...base, data: parts.map((p) => p.toString()).join('') };
    }
    case 'OPT':
      return undefined;
    default:
      return { ...base, data: '' };
  }
}

/** Decodes a reply into the plain form the checks read. Throws on bytes that are not DNS. */
function readReply(raw: Buffer, id: number, ms: number): Reply {
  const p = packet.decode(raw);
  if (p.id !== id) throw new Error(`reply has id ${p.id}, the query had ${id}`);
  const opt = (p.additionals ?? []).find((a) => a.type === 'OPT') as { options?: { code: number; data?: Buffer }[] } | undefined;
  const nsid = opt?.options?.find((o) => o.code === NSID)?.data?.toString('utf8');
  const keep = (list: packet.Answer[] | undefined) => (list ?? []).map(seen).filter((r): r is SeenRecord => r !== undefined);
  return {
    rcode: (p as { rcode?: string }).rcode ?? 'NOERROR',
    aa: !!p.flag_aa,
    tc: !!p.flag_tc,
    answer: keep(p.answers),
    authority: keep(p.authorities),
    additional: keep(p.additionals),
    edns: opt !== undefined,
    ...(nsid ? { nsid } : {}),
    ms,
  };
}

function failure(failure: Failure, detail: string): Outcome {
  return { failure, detail };
}

function fromError(e: NodeJS.ErrnoException): Outcome {
  if (e.code === 'ECONNREFUSED') return failure('refused', 'connection refused (nothing listens on the port)');
  return failure('unreachable', e.code ?? e.message);
}

/**
 * One question to one server, with a hard deadline; never throws. The UDP socket is connected so
 * that an ICMP port-unreachable from a dead server ends the wait at once instead of at the timeout.
 */
export function ask(server: Endpoint, q: Question, opts: AskOptions): Promise<Outcome> {
  const id = randomInt(0, 0x10000);
  const msg = encodeQuestion(q, id, opts);
  return opts.transport === 'udp' ? askUdp(server, msg, id, opts.timeoutMs) : askTcp(server, msg, id, opts.timeoutMs);
}

function askUdp(server: Endpoint, msg: Buffer, id: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const sock = dgram.createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(o);
    };
    const timer = setTimeout(() => finish(failure('timeout', `no reply in ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => finish(fromError(e)));
    sock.on('message', (raw) => {
      try {
        finish({ reply: readReply(raw, id, performance.now() - started) });
      } catch {
        // A stray or mangled datagram: keep waiting for the real reply until the deadline.
      }
    });
    sock.connect(server.port, server.host, () => sock.send(msg, (e) => e && finish(fromError(e))));
  });
}

async function askTcp(server: Endpoint, msg: Buffer, id: number, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  const r = await tcpExchange(server, msg, timeoutMs);
  if ('reply' in r) {
    try {
      return { reply: readReply(r.reply, id, performance.now() - started) };
    } catch (e) {
      return failure('malformed', (e as Error).message);
    }
  }
  if (r.failure === 'timeout') return failure('timeout', `no reply over TCP in ${timeoutMs} ms`);
  if (r.failure === 'closed') return failure('unreachable', 'connection closed before a reply');
  return fromError(r.error);
}

export function isReply(o: Outcome | undefined): o is Extract<Outcome, { reply: Reply }> {
  return o !== undefined && 'reply' in o;
}

/** As a resolver asks: UDP, once more on a timeout, and over TCP when the answer comes truncated. */
export async function askLikeAResolver(server: Endpoint, q: Question, timeoutMs: number, opts: { recurse?: boolean; nsid?: boolean } = {}): Promise<Outcome> {
  let o = await ask(server, q, { transport: 'udp', timeoutMs, ...opts });
  if (!isReply(o) && o.failure === 'timeout') o = await ask(server, q, { transport: 'udp', timeoutMs, ...opts });
  if (isReply(o) && o.reply.tc) o = await ask(server, q, { transport: 'tcp', timeoutMs, ...opts });
  return o;
}
