import { COMMAND_DOCS, COMMAND_INFO } from './sentinel-commands';
import { array, bulk, error, int, map, NULL, simple, type Reply } from './resp';

/**
 * COMMAND, COMMAND COUNT/LIST/INFO/DOCS: Sentinel's own description of its commands, captured
 * from a real one (sentinel-commands.ts). The service answers every command listed there (some
 * with a refusal that says why), so this is what a client that asks learns, in Sentinel's bytes.
 */

/** Tagged JSON (see sentinel-commands.ts) → a reply. */
function toReply(v: unknown): Reply {
  if (v === null) return NULL;
  if (typeof v === 'string') return bulk(v);
  if (typeof v === 'number') return int(v);
  if (Array.isArray(v)) return array(v.map(toReply));
  const o = v as { '+'?: string; '~'?: unknown[]; '%'?: Array<[string, unknown]> };
  if (o['+'] !== undefined) return simple(o['+']);
  if (o['~'] !== undefined) return { t: 'set', v: o['~'].map(toReply) };
  return map((o['%'] ?? []).map(([k, x]) => [k, toReply(x)] as const));
}

type Info = [string, ...unknown[]];
const INFO = COMMAND_INFO as Info[];
/** Name (lowercase, `parent|sub` for subcommands) → its COMMAND INFO entry, converted once. */
const BY_NAME = new Map<string, Reply>();
const NAMES: string[] = [];
for (const c of INFO) {
  BY_NAME.set(c[0], toReply(c));
  NAMES.push(c[0]);
  // Subcommands are a set in RESP3 (an array in RESP2).
  const subs = c[9] as Info[] | { '~': Info[] } | undefined;
  for (const sub of (Array.isArray(subs) ? subs : subs?.['~']) ?? []) {
    BY_NAME.set(sub[0], toReply(sub));
    NAMES.push(sub[0]);
  }
}
const ALL = array(INFO.map((c) => BY_NAME.get(c[0])!));
const DOCS = new Map<string, Reply>(((COMMAND_DOCS as { '%': Array<[string, unknown]> })['%'] ?? []).map(([k, v]) => [k, toReply(v)]));

export function commandReply(sub: string | undefined, rest: readonly string[]): Reply {
  if (sub === undefined) return ALL;
  switch (sub) {
    case 'count':
      return int(INFO.length);
    case 'list':
      return rest.length === 0 ? array(NAMES.map(bulk)) : error('ERR COMMAND LIST FILTERBY is not offered by clusterdns discovery');
    case 'info':
      return array((rest.length ? rest : INFO.map((c) => c[0])).map((n) => BY_NAME.get(n.toLowerCase()) ?? NULL));
    case 'docs': {
      const names = rest.length ? rest.map((n) => n.toLowerCase()) : [...DOCS.keys()];
      return map(names.flatMap((n) => (DOCS.has(n) ? [[n, DOCS.get(n)!] as const] : [])));
    }
  }
  return error('ERR The command has no key arguments');
}
