export { FakeClock, realClock, type Clock } from './clock';
export { MemoryNetwork, MemoryTransport } from './memory-network';
export { Membership, type MembershipLogEvent, type MembershipOptions, type ViewChange } from './runtime';
export type { Counters, LocalHealth } from './state';
export type { Transport } from './transport';
export { UdpTransport } from './udp-transport';
export type { ClusterView, MatrixRow, NodeView } from './view';
