import { connect } from 'node:net';
import { ClusterDnsError, type ErrorCode } from '../../errors';

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export function formatServer(s: ServerAddress): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
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
export function exchange(server: ServerAddress, message: Buffer, opts: { timeoutMs: number; failCode: ErrorCode; what: string; timeoutDetails?: string[] }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | undefined, value?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new ClusterDnsError('PARENT_TIMEOUT', `${formatServer(server)} did not answer the ${opts.what} within ${opts.timeoutMs} ms`, {
            details: ['check that the server is up and reachable over TCP, or raise --timeout', ...(opts.timeoutDetails ?? [])],
          }),
        ),
      opts.timeoutMs,
    );
    socket.on('connect', () => {
      const frame = Buffer.alloc(2 + message.length);
      frame.writeUInt16BE(message.length, 0);
      message.copy(frame, 2);
      socket.write(frame);
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        finish(undefined, received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) =>
      finish(
        new ClusterDnsError(opts.failCode, `cannot reach ${formatServer(server)} for the ${opts.what}: ${e.code ?? e.message}`, {
          details: ['check --server (the parent zone\'s primary, which must accept DNS over TCP)'],
        }),
      ),
    );
    socket.on('close', () =>
      finish(new ClusterDnsError(opts.failCode, `${formatServer(server)} closed the connection without answering the ${opts.what}`)),
    );
  });
}
