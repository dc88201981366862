import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { ClusterDnsError } from '../../errors';
import { exchange, formatServer, type ServerAddress } from './transport';

export interface QueryOptions {
  readonly server: ServerAddress;
  readonly timeoutMs: number;
}

/** One non-recursive question to the parent's primary; the decoded answer, whatever its rcode. */
export async function query(opts: QueryOptions, name: string, type: 'SOA' | 'NS' | 'A' | 'AAAA' | 'DS'): Promise<dnsPacket.DecodedPacket> {
  const id = randomInt(0, 0x10000);
  const message = dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ name, type, class: 'IN' }] });
  const raw = await exchange(opts.server, message, { timeoutMs: opts.timeoutMs, failCode: 'PARENT_READ', what: `query ${name} ${type}` });
  let response: dnsPacket.DecodedPacket;
  try {
    response = dnsPacket.decode(raw);
  } catch (e) {
    throw new ClusterDnsError('PARENT_READ', `${formatServer(opts.server)} sent an undecodable answer to ${name} ${type}: ${(e as Error).message}`);
  }
  if (response.id !== id) throw new ClusterDnsError('PARENT_READ', `${formatServer(opts.server)} answered ${name} ${type} with the wrong message id`);
  return response;
}
