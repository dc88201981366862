import dgram from 'node:dgram';
import * as packet from 'dns-packet';

/** What one name server answers for one name: addresses, an rcode, or nothing at all. */
export type Observation = { readonly rcode: string; readonly addresses: readonly string[] } | 'no answer';

/**
 * Asks name servers questions over one UDP socket (dns-packet: the demo is not a hot path).
 * Replies are matched by id; a server that does not answer in `timeoutMs` is 'no answer'.
 */
export class Prober {
  private readonly sock = dgram.createSocket('udp4');
  private readonly pending = new Map<number, (m: ReturnType<typeof packet.decode>) => void>();
  private id = 1;

  constructor(private readonly port: number) {
    this.sock.on('message', (m) => {
      try {
        const d = packet.decode(m);
        const done = d.id === undefined ? undefined : this.pending.get(d.id);
        if (done) {
          this.pending.delete(d.id!);
          done(d);
        }
      } catch {
        // not a DNS reply; ignore
      }
    });
    this.sock.on('error', () => undefined);
  }

  ask(server: string, name: string, timeoutMs = 100): Promise<Observation> {
    const id = (this.id = (this.id % 65535) + 1);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve('no answer');
      }, timeoutMs);
      this.pending.set(id, (d) => {
        clearTimeout(timer);
        const addresses = (d.answers ?? []).filter((a) => a.type === 'A').map((a) => String((a as { data: unknown }).data));
        resolve({ rcode: (d as { rcode?: string }).rcode ?? 'NOERROR', addresses });
      });
      this.sock.send(packet.encode({ type: 'query', id, flags: 0, questions: [{ name, type: 'A' }] }), this.port, server);
    });
  }

  close(): void {
    this.sock.close();
  }
}
