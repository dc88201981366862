/**
 * The delegation `test/fixtures/parent/cluster.yaml` asks for, as the parent-zone tests read it
 * back: one list for every backend (BIND, Knot, the Route53 stand-in).
 */
export const ZONE = 'cluster.example.test';
export const FULL = 'test/fixtures/parent/cluster.yaml';
export const SHRUNK = 'test/fixtures/parent/cluster-node3-removed.yaml';

/** `name TTL TYPE data` lines, sorted, as readBack() returns them from a DNS parent. */
export const DELEGATED = [
  `${ZONE}. 60 NS ns1.${ZONE}.`,
  `${ZONE}. 60 NS ns2.${ZONE}.`,
  `${ZONE}. 60 NS ns3.${ZONE}.`,
  `ns1.${ZONE}. 60 A 127.0.7.101`,
  `ns1.${ZONE}. 60 AAAA 2001:db8::11`,
  `ns2.${ZONE}. 60 A 127.0.7.102`,
  `ns3.${ZONE}. 60 A 127.0.7.103`,
].sort();

/** The plan for an empty parent, `action name type` per change. */
export const PLANNED_CREATES = [`create ${ZONE} NS`, `create ns1.${ZONE} A`, `create ns1.${ZONE} AAAA`, `create ns2.${ZONE} A`, `create ns3.${ZONE} A`];
