import { BlockList, isIPv6 } from 'node:net';

/**
 * A set of client prefixes (`10.0.0.0/8`, `fd00::/8`) asked one question: does it hold this
 * address? Built once per table; asking allocates nothing. IPv4-mapped IPv6 sources
 * (`::ffff:10.1.2.3`, from a dual-stack socket) match the IPv4 prefixes, as BlockList does.
 */
export class ClientPrefixes {
  private readonly list = new BlockList();

  /** As given: the table image (zone/image.ts) carries these and builds the list again. */
  readonly prefixes: readonly string[];

  constructor(prefixes: readonly string[]) {
    this.prefixes = [...prefixes];
    for (const p of prefixes) {
      const [address, bits] = p.split('/');
      const family = isIPv6(address) ? 'ipv6' : 'ipv4';
      this.list.addSubnet(address, Number(bits ?? (family === 'ipv6' ? 128 : 32)), family);
    }
  }

  contains(address: string): boolean {
    if (address === '') return false;
    return this.list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
  }
}
