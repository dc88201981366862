import { ClusterDnsError, type ErrorCode } from '../../errors';
import { hostPort } from '../../net/host-port';
import { tcpExchange } from '../../net/tcp-exchange';

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export function formatServer(s: ServerAddress): string {
  return hostPort(s.host, s.port);
}

/** `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address; port 53 by default. */
export function parseServer(text: string): ServerAddress {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const [host, port] = bracket
    ? [bracket[1], bracket[2]]
    : (text.match(/:/g) ?? []).length === 1
      ? text.split(':')
      : [text, undefined];
  const n = port === undefined ? 53 : Number(port);
  if (!host || !Number.isInteger(n) || n < 1 || n > 65535)
    throw new ClusterDnsError('USAGE', `--server ${text}: give HOST, HOST:PORT or [IPv6]:PORT`);
  return { host, port: n };
}

/**
 * One request and its response over TCP (RFC 1035 §4.2.2 framing). TCP because an UPDATE with
 * TSIG can outgrow 512 bytes and referrals with glue are never truncated there.
 */
export async function exchange(
  server: ServerAddress,
  message: Buffer,
  opts: { timeoutMs: number; failCode: ErrorCode; what: string; timeoutDetails?: string[] },
): Promise<Buffer> {
  const r = await tcpExchange(server, message, opts.timeoutMs);
  if ('reply' in r) return r.reply;
  switch (r.failure) {
    case 'timeout':
      throw new ClusterDnsError('PARENT_TIMEOUT', `${formatServer(server)} did not answer the ${opts.what} within ${opts.timeoutMs} ms`, {
        details: ['check that the server is up and reachable over TCP, or raise --timeout', ...(opts.timeoutDetails ?? [])],
      });
    case 'error':
      throw new ClusterDnsError(opts.failCode, `cannot reach ${formatServer(server)} for the ${opts.what}: ${r.error.code ?? r.error.message}`, {
        details: ["check --server (the parent zone's primary, which must accept DNS over TCP)"],
      });
    case 'closed':
      throw new ClusterDnsError(opts.failCode, `${formatServer(server)} closed the connection without answering the ${opts.what}`);
  }
}
