import { nodeAddresses, type NodeConfig } from '../config/types';

/** Which of the nodes' addresses a discovery client is told. */
export type AddressScope = 'public' | 'private';

/**
 * The one place that decides what a client is told: a client that reached this node over its
 * private address (`peerAddress`, when it differs from the public `address`) is inside the network
 * and gets private addresses; any other gets public ones. Issue 11 §1 (internal names, `internalFrom`)
 * grows this function, not its callers.
 */
export function scopeFor(self: NodeConfig, localAddress: string | undefined): AddressScope {
  const local = localAddress?.startsWith('::ffff:') ? localAddress.slice(7) : localAddress;
  return self.peerAddress !== self.address && local === self.peerAddress ? 'private' : 'public';
}

export function addressOf(node: NodeConfig, scope: AddressScope): string {
  // An IPv6-only node's public address is its address6.
  return scope === 'private' ? node.peerAddress : nodeAddresses(node)[0];
}

/** The discovery listeners: the node's listen addresses, plus its private one (see scopeFor). */
export function discoveryAddresses(self: NodeConfig): string[] {
  const wildcard = self.listen.some((a) => a === '0.0.0.0' || a === '::');
  return wildcard || self.listen.includes(self.peerAddress) ? [...self.listen] : [...self.listen, self.peerAddress];
}
