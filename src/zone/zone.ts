import { hasInternalNames, INTERNAL_LABEL, nameServerNodes, privateAddresses, type ClusterConfig, type NodeConfig } from '../config/types';
import { Class, Type } from '../wire/constants';
import type { Record, RecordData } from '../wire/records';
import type { ZoneInputs } from './inputs';

/**
 * The cluster zone as data: every owner name with its RRsets, decided from the config and the
 * cluster's state. Built whole on each change and never mutated (a reload swaps it).
 */
export interface ZoneData {
  readonly apex: string;
  readonly serving: boolean;
  /** Owner name → type → RRset. Empty maps are empty non-terminals (NODATA, not NXDOMAIN). */
  readonly names: ReadonlyMap<string, ReadonlyMap<number, readonly Record[]>>;
  readonly soa: Record;
  /** SOA as it goes in the authority section of negative answers (TTL = negative TTL, RFC 2308). */
  readonly negativeSoa: Record;
  /** Owner name → records for the additional section of answers about that name's NS/SRV. */
  readonly glue: ReadonlyMap<string, readonly Record[]>;
  /** Every name answered with node addresses and the nodes chosen for it: the status API lists them. */
  readonly addressNames: readonly AddressName[];
}

export interface AddressName {
  readonly name: string;
  readonly kind: 'apex' | 'ns' | 'node' | 'service';
  /** The node an ns/node name stands for, the service of a service name, the apex itself. */
  readonly owner: string;
  /** The nodes whose A/AAAA records the name holds, in order; empty: NODATA. */
  readonly servedBy: readonly string[];
  /** Service names: the SRV port. */
  readonly port?: number;
  /** Under internal.<zone>: answered with the nodes' private addresses. */
  readonly internal: boolean;
}

/**
 * The addresses a node answers with under internal.<zone>: its private ones, or its public ones
 * when it has none (a node outside the private network is still reached there).
 */
function internalAddresses(n: NodeConfig): { address?: string; address6?: string } {
  return privateAddresses(n).length > 0 ? { address: n.privateAddress, address6: n.privateAddress6 } : n;
}

/** SOA timers: no secondaries pull this zone, but zone checkers expect RFC 1912 ranges. */
const SOA_REFRESH = 3600;
const SOA_RETRY = 600;
const SOA_EXPIRE = 1_209_600;

export function buildZone(config: ClusterConfig, inputs: ZoneInputs): ZoneData {
  const apex = config.zone;
  const byName = new Map<string, NodeConfig>(config.nodes.map((n) => [n.name, n]));
  const names = new Map<string, Map<number, Record[]>>();
  const add = (name: string, ttl: number, data: RecordData): void => {
    let types = names.get(name);
    if (!types) names.set(name, (types = new Map()));
    let set = types.get(data.type);
    if (!set) types.set(data.type, (set = []));
    set.push({ name, class: Class.IN, ttl, data });
  };
  const ensure = (name: string): void => {
    if (!names.has(name)) names.set(name, new Map());
  };
  const addressNames: AddressName[] = [];
  const known = (names: readonly string[]) => names.map((x) => byName.get(x)).filter((x): x is NodeConfig => !!x);
  const servers = nameServerNodes(config);
  const srvOwners: string[] = [];

  /**
   * Every name answered with node addresses, under `origin`: the public names under the apex, the
   * same names with private addresses under internal.<apex>. One pass, one view: both fail over alike.
   */
  const addressNamesUnder = (origin: string, internal: boolean): void => {
    const pick = internal ? internalAddresses : (n: NodeConfig) => n;
    const answerWith = (name: string, kind: AddressName['kind'], owner: string, nodes: readonly NodeConfig[], port?: number): void => {
      ensure(name);
      // A node may have only an IPv4 or only an IPv6 address: the other type is then NODATA.
      for (const n of nodes) {
        const { address, address6 } = pick(n);
        if (address) add(name, config.ttl, { type: Type.A, address });
        if (address6) add(name, config.ttl, { type: Type.AAAA, address: address6 });
      }
      addressNames.push({ name, kind, owner, servedBy: nodes.map((n) => n.name), ...(port !== undefined ? { port } : {}), internal });
    };
    answerWith(origin, 'apex', apex, known(inputs.upNodes).filter((n) => n.role !== 'witness'));

    // nsK and the node's own name answer alike: the node while up, its failover target otherwise.
    servers.forEach((n, i) => {
      const target = inputs.nodeTargets.get(n.name);
      const nodes = known(target === undefined ? [] : [target]);
      answerWith(`${n.name}.${origin}`, 'node', n.name, nodes);
      answerWith(`ns${i + 1}.${origin}`, 'ns', n.name, nodes);
    });

    for (const s of config.services) {
      const chosen = known(inputs.services.get(s.name) ?? []);
      answerWith(`${s.name}.${origin}`, 'service', s.name, chosen, s.port);
      ensure(`_tcp.${origin}`);
      const srvOwner = `_${s.name}._tcp.${origin}`;
      ensure(srvOwner);
      srvOwners.push(srvOwner);
      for (const n of chosen) {
        add(srvOwner, config.ttl, { type: Type.SRV, srv: { priority: 10, weight: 10, port: s.port, target: `${n.name}.${origin}` } });
      }
    }
  };

  const soaData = {
    mname: `ns1.${apex}`,
    rname: `hostmaster.${apex}`,
    serial: inputs.serial >>> 0,
    refresh: SOA_REFRESH,
    retry: SOA_RETRY,
    expire: SOA_EXPIRE,
    minimum: config.negativeTtl,
  };
  add(apex, config.ttl, { type: Type.SOA, soa: soaData });
  servers.forEach((_, i) => add(apex, config.parent.ttl, { type: Type.NS, target: `ns${i + 1}.${apex}` }));
  addressNamesUnder(apex, false);
  // No NS at internal.<apex>: it is part of this zone, not a delegation, so its negative answers
  // carry this zone's SOA and resolvers need no separate referral for it.
  if (hasInternalNames(config)) addressNamesUnder(`${INTERNAL_LABEL}.${apex}`, true);

  const glue = new Map<string, Record[]>();
  const addressRecords = (name: string): Record[] => [...(names.get(name)?.get(Type.A) ?? []), ...(names.get(name)?.get(Type.AAAA) ?? [])];
  glue.set(apex, servers.flatMap((_, i) => addressRecords(`ns${i + 1}.${apex}`)));
  for (const srvOwner of srvOwners) {
    const targets = (names.get(srvOwner)?.get(Type.SRV) ?? []).map((r) => (r.data.type === Type.SRV ? r.data.srv.target : ''));
    glue.set(srvOwner, [...new Set(targets)].flatMap(addressRecords));
  }

  const soa = names.get(apex)!.get(Type.SOA)![0];
  const negativeSoa: Record = { ...soa, ttl: Math.min(config.ttl, config.negativeTtl) };
  return { apex, serving: inputs.serving, names, soa, negativeSoa, glue, addressNames };
}
