/**
 * The metric names a PromQL expression reads, for checking the shipped rules and dashboard against
 * what an agent exports. A small reader of our own files, not a PromQL parser: strings, label
 * matchers, ranges, grouping clauses and Grafana variables are removed, then every identifier
 * followed by `(` must be a function or aggregation we know, and every other one (except the
 * operators' keywords) is a metric name. Anything it cannot place throws, so a new construct in
 * the files fails the test until it is taught here.
 */
const FUNCTIONS = new Set([
  'sum', 'count', 'min', 'max', 'avg', 'rate', 'increase', 'changes', 'time', 'histogram_quantile',
  'label_replace',
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool']);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, id, call] = m;
    if (call) {
      if (!FUNCTIONS.has(id)) throw new Error(`unknown PromQL function ${id} in ${expr}`);
    } else if (!KEYWORDS.has(id)) {
      names.add(id);
    }
  }
  return [...names];
}

/** A Grafana variable's `label_values(selector, label)`: the selector (the label is no metric). */
export function variableSelector(query: string): string {
  const m = /^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)$/.exec(query.trim());
  if (!m) throw new Error(`a dashboard variable query this test does not read: ${query}`);
  return m[1];
}

/** Whether `name` is a sample name of a family in `types` (histograms also as _bucket/_sum/_count). */
export function exported(types: ReadonlyMap<string, string>, name: string): boolean {
  if (types.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return m !== null && types.get(m[1]) === 'histogram';
}
