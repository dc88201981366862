import { createSocket, type Socket } from 'node:dgram';
import { BlockList, isIPv6 } from 'node:net';
import type { PeerConfig } from './peer-config';
import { ClusterDnsError } from '../errors';
import { literalLookup } from '../net/literal-lookup';
import type { Transport } from './transport';

type Handler = (bytes: Uint8Array, from: string) => void;

/**
 * Heartbeats over UDP: binds the local node's peerAddress:peer.port and sends to each peer's. A send
 * error (unreachable peer, full buffer) is counted, never thrown: the protocol treats it as loss.
 * Datagrams from an address that is no configured node's peerAddress are dropped and counted
 * (`notPeer`) before the protocol sees them: a flood from elsewhere costs no HMAC.
 *
 * Per datagram this is the agent's hot path at rest (at 17 nodes 64 heartbeats in and out a second):
 * sends skip dns.lookup (literalLookup), and a source already found to be a peer is recognized by
 * its address string before the BlockList (which builds a SocketAddress per call) is asked.
 */
export class UdpTransport implements Transport {
  private handler: Handler | undefined;
  private peers: Map<string, string>;
  /** The configured peer addresses; a BlockList compares IPv6 addresses however they are written. */
  private peerAddresses: BlockList;
  /** Source addresses, as the kernel writes them, already found in `peerAddresses`. */
  private knownPeers = new Set<string>();
  private port: number;
  private closed = false;
  readonly stats = { sent: 0, sendErrors: 0, received: 0, notPeer: 0 };

  private constructor(
    private readonly socket: Socket,
    config: PeerConfig,
  ) {
    this.peers = peerMap(config);
    this.peerAddresses = addressList(config);
    this.port = config.peer.port;
    socket.on('message', (msg, rinfo) => {
      if (!this.isPeer(rinfo.address, rinfo.family)) {
        this.stats.notPeer++;
        return;
      }
      this.stats.received++;
      const from = rinfo.family === 'IPv6' ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`;
      try {
        this.handler?.(msg, from);
      } catch {
        // The handler is the protocol, which does not throw; a bug there must not stop the socket.
      }
    });
    // Without a listener an ICMP-induced error event would crash the process.
    socket.on('error', () => {
      this.stats.sendErrors++;
    });
  }

  /**
   * Only confirmed peers are remembered (at most one entry per configured node and address form),
   * so a flood from strangers cannot grow the set; it pays the BlockList check as before.
   */
  private isPeer(address: string, family: string): boolean {
    if (this.knownPeers.has(address)) return true;
    if (!this.peerAddresses.check(address, family === 'IPv6' ? 'ipv6' : 'ipv4')) return false;
    this.knownPeers.add(address);
    return true;
  }

  /** Binds the node's peer address; throws LISTEN_FAILED with what to do when it cannot. */
  static async open(config: PeerConfig, self: string): Promise<UdpTransport> {
    const node = config.nodes.find((n) => n.name === self);
    if (!node) throw new ClusterDnsError('NODE_UNKNOWN', `no node named "${self}" in the config`);
    const socket = createSocket({ type: isIPv6(node.peerAddress) ? 'udp6' : 'udp4', lookup: literalLookup });
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        socket.close();
        reject(
          new ClusterDnsError('LISTEN_FAILED', `cannot bind the peer port ${node.peerAddress}:${config.peer.port}: ${e.code ?? e.message}`, {
            details: [
              'check that peerAddress is an address of this machine (ip addr) and that no other agent uses the port',
              'change peer.port in the config if the port is taken',
            ],
          }),
        );
      };
      socket.once('error', onError);
      socket.bind({ address: node.peerAddress, port: config.peer.port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    return new UdpTransport(socket, config);
  }

  send(bytes: Uint8Array, toNode: string): void {
    const address = this.peers.get(toNode);
    if (this.closed || address === undefined) return;
    try {
      this.socket.send(bytes, this.port, address, (err) => {
        if (err) this.stats.sendErrors++;
        else this.stats.sent++;
      });
    } catch {
      this.stats.sendErrors++;
    }
  }

  onMessage(handler: Handler): void {
    this.handler = handler;
  }

  /** New peer addresses after a config reload; the bound address stays (a new one needs a restart). */
  updateConfig(config: PeerConfig): void {
    this.peers = peerMap(config);
    this.peerAddresses = addressList(config);
    this.knownPeers = new Set();
    this.port = config.peer.port;
  }

  /** Resolves once the port is free again (a restart on the same address can then bind it). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

function peerMap(config: PeerConfig): Map<string, string> {
  return new Map(config.nodes.map((n) => [n.name, n.peerAddress]));
}

function addressList(config: PeerConfig): BlockList {
  const list = new BlockList();
  for (const n of config.nodes) list.addAddress(n.peerAddress, isIPv6(n.peerAddress) ? 'ipv6' : 'ipv4');
  return list;
}
