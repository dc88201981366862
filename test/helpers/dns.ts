import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';

/** A query encoded by dns-packet (the reference codec), so tests do not trust our own encoder. */
export function encodeQuery(name: string, type: string, opts: { id?: number; klass?: string; flags?: number; edns?: boolean | packet.Answer } = {}): Buffer {
  return packet.encode({
    type: 'query',
    id: opts.id ?? Math.floor(Math.random() * 65536),
    flags: opts.flags ?? 0,
    questions: [{ name, type: type as packet.RecordType, class: (opts.klass ?? 'IN') as packet.RecordClass }],
    additionals: opts.edns ? [opts.edns === true ? { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as packet.Answer : opts.edns] : [],
  });
}

/** Sends raw bytes over UDP and resolves with the reply bytes, or undefined after `ms`. */
export function udpExchange(host: string, port: number, msg: Buffer, ms = 2000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, ms);
    s.on('message', (reply) => {
      clearTimeout(timer);
      s.close();
      resolve(reply);
    });
    s.on('error', () => undefined);
    s.send(msg, port, host);
  });
}

export async function udpQuery(host: string, port: number, name: string, type: string, opts: Parameters<typeof encodeQuery>[2] = {}): Promise<packet.Packet> {
  const reply = await udpExchange(host, port, encodeQuery(name, type, opts));
  if (!reply) throw new Error(`no answer from ${host}:${port} for ${name} ${type}`);
  return packet.decode(reply);
}

/** Several length-prefixed queries written at once on one TCP connection; the replies in order. */
export function tcpExchange(host: string, port: number, msgs: Buffer[], ms = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`tcp: ${replies.length}/${msgs.length} replies after ${ms} ms`));
    }, ms);
    sock.on('connect', () => sock.write(Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m])))));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (replies.length === msgs.length) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
