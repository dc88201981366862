import type { Model } from './model';
import type { Finding, Observations } from './types';

export interface Staleness {
  readonly detectionSeconds: number;
  readonly detectionFrom: 'config' | 'defaults';
  readonly parentNsTtl?: number;
  readonly glueTtl?: number;
  readonly childNsTtl?: number;
  readonly soaTtl?: number;
  /** Largest TTL of the node names' address answers. */
  readonly answerTtl?: number;
  /** A client that resolved a node name just before the node died keeps its address this long. */
  readonly nameWorstSeconds: number;
  /** Through a resolver that also cached the parent's NS and glue for the dead name server. */
  readonly nsPathWorstSeconds: number;
  readonly maxStaleSeconds: number;
}

const maxOf = (xs: readonly (number | undefined)[]) => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? Math.max(...v) : undefined;
};

export function staleness(obs: Observations, model: Model): Staleness {
  const detection = obs.detectionMs / 1000;
  const answerTtl = maxOf(model.names.map((n) => n.ttl));
  const parentTtl = maxOf([model.parent?.nsTtl, model.parent?.glueTtl]) ?? 0;
  const name = detection + (answerTtl ?? 0);
  return {
    detectionSeconds: detection,
    detectionFrom: obs.detectionFrom,
    parentNsTtl: model.parent?.nsTtl,
    glueTtl: model.parent?.glueTtl,
    childNsTtl: maxOf(model.servers.map((s) => s.nsTtl)),
    soaTtl: maxOf(model.servers.map((s) => s.soaTtl)),
    answerTtl,
    nameWorstSeconds: name,
    nsPathWorstSeconds: name + parentTtl,
    maxStaleSeconds: obs.maxStaleSeconds,
  };
}

const s = (x: number) => `${Number(x.toFixed(2))} s`;

/** The worst-case time a client may keep a dead node's address, against the threshold. */
export function checkStaleness(st: Staleness): Finding[] {
  if (st.nsPathWorstSeconds <= st.maxStaleSeconds) return [];
  const parent = Math.max(st.parentNsTtl ?? 0, st.glueTtl ?? 0);
  const bigger = parent > (st.answerTtl ?? 0) ? `parent.ttl (the parent's NS/glue TTL, ${parent} s) and run \`clusterdns delegate\`` : `ttl (the answers' TTL, ${st.answerTtl} s)`;
  return [
    {
      severity: 'warn',
      code: 'stale-too-long',
      subject: 'ttl',
      message: `a client may keep a dead node's address up to ${s(st.nsPathWorstSeconds)} (detection ${s(st.detectionSeconds)} + answer TTL ${st.answerTtl ?? 0} s + parent TTL ${parent} s), above --max-stale ${st.maxStaleSeconds} s`,
      fix: `lower ${bigger} in the config`,
    },
  ];
}
