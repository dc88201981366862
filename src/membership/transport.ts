/**
 * How heartbeats leave and arrive. The protocol only sees this interface; `UdpTransport` carries it
 * for real and `MemoryNetwork` in tests (loss, delay, partitions on virtual time).
 */
export interface Transport {
  /** Sends to the named node; never throws (a lost datagram is a lost heartbeat, nothing more). */
  send(bytes: Uint8Array, toNode: string): void;
  /** One handler; a later call replaces it. `from` is the source address, for logs only. */
  onMessage(handler: (bytes: Uint8Array, from: string) => void): void;
  /** Stops sending and receiving; idempotent. May resolve once the resource (a port) is free. */
  close(): void | Promise<void>;
}

export { UdpTransport } from './udp-transport';
export { MemoryNetwork, MemoryTransport } from './memory-network';
