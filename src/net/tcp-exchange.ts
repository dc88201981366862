import { connect } from 'node:net';

/** How one DNS exchange over TCP ended; the caller words the failure for its own users. */
export type TcpExchange =
  | { readonly reply: Buffer }
  | { readonly failure: 'timeout' }
  | { readonly failure: 'closed' }
  | { readonly failure: 'error'; readonly error: NodeJS.ErrnoException };

/**
 * One DNS message and its reply over TCP (RFC 1035 §4.2.2: each message behind a two-byte length),
 * with a hard deadline; never rejects, and the socket is gone when it settles. `check` and the
 * RFC 2136 provider both ask this way.
 */
export function tcpExchange(server: { readonly host: string; readonly port: number }, message: Buffer, timeoutMs: number): Promise<TcpExchange> {
  return new Promise((resolve) => {
    const socket = connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (outcome: TcpExchange) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ failure: 'timeout' }), timeoutMs);
    socket.on('connect', () => {
      const frame = Buffer.alloc(2 + message.length);
      frame.writeUInt16BE(message.length, 0);
      message.copy(frame, 2);
      socket.write(frame);
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) finish({ reply: received.subarray(2, 2 + received.readUInt16BE(0)) });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish({ failure: 'error', error }));
    socket.on('close', () => finish({ failure: 'closed' }));
  });
}
