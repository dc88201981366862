import { request } from 'node:http';
import type { StatusDocument } from '../../src/api/status-types';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request without keep-alive, bounded in time. */
export function http(url: string, method = 'GET', ms = 3000, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: { ...headers, Connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${url}: no answer in ${ms} ms`)), ms);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `probe` until it returns a value that is not undefined; throws with `what` after `ms`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
  /** The one sample with exactly these labels (a subset match); undefined if none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Sum over every sample of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
}

// Values as Go's ParseFloat reads them (Prometheus's parser): NaN and Inf in any letter case.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|[+-]?inf|nan)(?: -?[0-9]+)?$/i;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP, a TYPE or a sample
 * of a declared family, label syntax is exact, and a family's TYPE comes before its samples.
 * Anything else throws, so a malformed exposition fails the test that reads it.
 */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const familyOf = (name: string) => {
    if (types.has(name)) return name;
    for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
      const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
      if (base && types.has(base)) return base;
    }
    return undefined;
  };
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (types.has(type[1])) throw new Error(`line ${i + 1}: second TYPE for ${type[1]}`);
      types.set(type[1], type[2]);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not a HELP, TYPE or sample: ${JSON.stringify(line)}`);
    if (!familyOf(m[1])) throw new Error(`line ${i + 1}: sample ${m[1]} has no TYPE before it`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < m[2].length) {
        const at = LABEL.lastIndex;
        const l = LABEL.exec(m[2]);
        if (!l || l.index !== at) throw new Error(`line ${i + 1}: bad labels ${m[2]}`);
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      }
    }
    const v = m[3].toLowerCase();
    samples.push({ name: m[1], labels, value: v === 'nan' ? NaN : v.endsWith('inf') ? (v.startsWith('-') ? -Infinity : Infinity) : Number(v) });
  }
  const matches = (s: Sample, name: string, labels: Record<string, string>) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    types,
    samples,
    value(name, labels = {}) {
      const found = samples.filter((s) => matches(s, name, labels) && Object.keys(s.labels).length === Object.keys(labels).length);
      if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
      return found[0]?.value;
    },
    sum(name, labels = {}) {
      return samples.filter((s) => matches(s, name, labels)).reduce((a, s) => a + s.value, 0);
    },
  };
}

/**
 * Waits until every agent at `bases` (http://address:port) sees every node up, hears everyone, and
 * has a fresh row from every peer that itself hears everyone, with its checks passed: a settled
 * cluster, so that tests comparing agents do not race their start.
 */
export async function converged(bases: readonly string[], ms = 15_000): Promise<StatusDocument[]> {
  return eventually(
    `${bases.join(', ')} to agree that every node is up`,
    async () => {
      const docs = await Promise.all(bases.map(async (b) => JSON.parse((await http(`${b}/v1/status`)).body) as StatusDocument));
      const settled = docs.every(
        (d) =>
          d.nodes.every((n) => n.state === 'up') &&
          d.hears.length === d.nodes.length &&
          Object.values(d.matrix).every((row) => row !== null && row.fresh && Object.values(row.heard).every((o) => o.everHeard && o.ageMs < d.peer.downAfterMs)) &&
          d.checks.every((c) => c.lastOk === true),
      );
      const answers = (d: StatusDocument) => JSON.stringify(d.answers.map((a) => [a.name, a.a]));
      return settled && docs.every((d) => answers(d) === answers(docs[0])) ? docs : undefined;
    },
    ms,
  );
}
