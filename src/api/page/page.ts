import type { AnswerStatus, CheckStatus, EventStatus, NodeCondition, NodeStatus, StatusDocument } from '../status-types';

/**
 * The status page's script: polls `/v1/status` once a second and redraws. It builds the DOM with
 * textContent only, so node names, reasons and event messages can never inject markup. Type-checked
 * against the status document the agent writes (status-types.ts), with the DOM library and no Node.
 */

const POLL_MS = 1000;
const TIMEOUT_MS = 2500;
let lastOkAt = 0;

type Attrs = Readonly<Record<string, string | false | null | undefined>>;
type Child = Node | string | null | undefined | false | readonly Child[];

function h(tag: string, attrs: Attrs | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  if (attrs)
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v);
    }
  append(el, children);
  return el;
}

function append(el: Node, c: Child): void {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) {
    for (const x of c as readonly Child[]) append(el, x);
    return;
  }
  el.appendChild(typeof c === 'string' ? document.createTextNode(c) : (c as Node));
}

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

function fill(id: string, ...children: Child[]): void {
  const holder = document.createDocumentFragment();
  append(holder, children);
  byId(id).replaceChildren(holder);
}

function secs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 10000) return `${(ms / 1000).toFixed(1)} s`;
  return duration(ms / 1000);
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function ago(iso: string, nowIso: string): string {
  return `${duration(Math.max(0, (Date.parse(nowIso) - Date.parse(iso)) / 1000))} ago`;
}

/** Local wall-clock time of day, as the reader's clock shows it. */
function clock(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => (n < 10 ? '0' : '') + n;
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const STATE_TEXT: Record<NodeCondition, string> = { up: 'Up', suspect: 'Suspect', down: 'Down', unknown: 'Unknown' };
const STATE_ICON: Record<NodeCondition, string> = { up: '✓', suspect: '!', down: '✕', unknown: '?' };

type Tone = 'ok' | 'degraded' | 'bad' | 'stale';

function unique(lists: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  for (const list of lists) for (const t of list) if (!out.includes(t)) out.push(t);
  return out;
}

function verdict(s: StatusDocument): { cls: Tone; text: string } {
  const down = s.nodes.filter((n) => n.condition === 'down');
  const odd = s.nodes.filter((n) => n.condition !== 'up');
  const moved = s.answers.filter((a) => a.failedOver && a.kind === 'node' && !a.internal);
  if (s.role !== 'witness' && !s.serving) return { cls: 'bad', text: `Not serving: ${s.minority ? 'minority' : 'no quorum yet'}` };
  if (s.role === 'witness' && s.minority) return { cls: 'bad', text: 'Witness in the minority' };
  const targets = unique(moved.map((a) => a.servedBy));
  if (down.length)
    return { cls: 'degraded', text: `Degraded: ${down.map((n) => n.name).join(', ')} down${targets.length ? ` · failed over to ${targets.join(', ')}` : ''}` };
  if (odd.length) return { cls: 'degraded', text: `Attention: ${odd.map((n) => `${n.name} ${n.condition}`).join(', ')}` };
  return { cls: 'ok', text: `All ${s.nodes.length} nodes up` };
}

function render(s: StatusDocument): void {
  const v = verdict(s);
  document.title = `${v.cls === 'ok' ? '● ' : v.cls === 'bad' ? '✕ ' : '! '}${s.zone} — clusterdns`;
  setIcon(v.cls);
  byId('zone').textContent = s.zone;
  const sum = byId('summary');
  sum.className = `summary ${v.cls}`;
  sum.textContent = v.text;
  fill(
    'meta',
    h('span', null, 'served by ', h('b', { text: s.node }), s.role === 'witness' ? ' (witness)' : ''),
    h('span', null, 'serial ', h('b', { class: 'mono', text: String(s.serial) })),
    h('span', null, 'config ', h('b', { class: 'mono', text: s.configHash })),
    h('span', null, 'majority ', h('b', { text: `${s.hears.length} of ${s.nodes.length} heard` }), ` (needs ${s.majority})`),
    h('span', null, 'failovers ', h('b', { text: String(s.failovers) })),
    h('span', null, 'DNS queries ', h('b', { text: String(s.dns.queries) })),
    h('span', null, 'up ', h('b', { text: duration(s.uptimeSeconds) })),
    h('span', null, `v${s.version}`),
  );
  const banners: HTMLElement[] = [];
  if (s.role !== 'witness' && !s.serving)
    banners.push(
      h(
        'div',
        { class: 'banner bad', role: 'alert' },
        `${s.node} answers ${s.unavailableRcode} for ${s.zone}: ${
          s.minority ? `it hears only ${s.hears.join(', ')} (${s.hears.length} of ${s.nodes.length}; a majority is ${s.majority}).` : 'it has not heard a majority yet.'
        }`,
      ),
    );
  if (s.config.mismatch)
    banners.push(
      h(
        'div',
        { class: 'banner warn', role: 'alert' },
        `Config mismatch: ${Object.entries(s.config.hashes)
          .map(([k, hash]) => `${k} ${hash}`)
          .join(', ')} — roll the same config out to every node.`,
      ),
    );
  fill('banners', banners.length ? h('div', null, banners) : null);

  fill('nodes', s.nodes.map((n) => card(s, n)));
  byId('node-count').textContent = `(${s.nodes.filter((n) => n.condition === 'up').length} of ${s.nodes.length} up)`;
  fill('answers', answers(s));
  fill('matrix', matrix(s));
  fill('events', events(s));
  const checks = byId('checks-section');
  checks.hidden = s.checks.length === 0;
  if (s.checks.length) fill('checks', checkTable(s.checks));
}

function card(s: StatusDocument, n: NodeStatus): HTMLElement {
  const c = n.condition;
  const services = Object.keys(n.services);
  const movedTo = unique(s.answers.filter((a) => a.failedOver && a.owner === n.name && !a.internal).map((a) => a.servedBy));
  return h(
    'article',
    { class: 'card', 'data-node': n.name, 'data-state': c, 'aria-labelledby': `card-${n.name}` },
    h(
      'div',
      { class: 'card-head' },
      h('h3', { id: `card-${n.name}`, text: n.name }),
      n.role === 'witness' ? h('span', { class: 'chip', text: 'witness' }) : null,
      n.self ? h('span', { class: 'chip', text: 'this agent' }) : null,
      h('span', { class: `badge ${c}`, 'data-testid': 'state' }, h('span', { 'aria-hidden': 'true', text: STATE_ICON[c] }), STATE_TEXT[c]),
    ),
    h('div', { class: 'addr' }, n.address, n.address6 ? h('span', { class: 'muted', text: `  ${n.address6}` }) : null),
    n.privateAddress || n.privateAddress6
      ? h('div', { class: 'addr muted', text: `private ${[n.privateAddress, n.privateAddress6].filter((x) => x).join('  ')}` })
      : null,
    h('div', { class: 'reason', text: n.reason }),
    movedTo.length ? h('div', { class: 'moved', text: `its names answer with ${movedTo.join(', ')}` }) : null,
    h(
      'dl',
      null,
      h('dt', { text: 'since' }),
      h('dd', { text: `${clock(n.since)} (${ago(n.since, s.now)})` }),
      h('dt', { text: 'last heard' }),
      h('dd', { text: n.self ? 'this agent' : n.heardAgoMs === null ? 'never' : `${secs(n.heardAgoMs)} ago` }),
      h('dt', { text: 'checks' }),
      h('dd', { text: n.healthy === null ? 'not reported' : n.healthy ? 'passing' : 'failing' }),
      n.rack ? [h('dt', { text: 'rack' }), h('dd', { text: n.rack })] : null,
      n.state === 'down' ? [h('dt', { text: 'hold-down' }), h('dd', { text: secs(n.holdDownMs) })] : null,
      services.length
        ? [
            h('dt', { text: 'services' }),
            h(
              'dd',
              null,
              services.map((k) => h('span', { class: `svc${n.services[k] ? '' : ' bad'}`, text: `${n.services[k] ? '✓ ' : '✕ '}${k}` })),
            ),
          ]
        : null,
    ),
  );
}

function answerRow(a: AnswerStatus): HTMLElement {
  const addrs = [...a.a, ...a.aaaa];
  const to = a.servedBy.join(', ');
  return h(
    'tr',
    { class: a.failedOver ? 'failed-over' : null, 'data-name': a.name },
    h('th', { scope: 'row', class: 'mono' }, a.name, a.failedOver ? h('span', { class: 'tag', text: 'failed over' }) : null),
    h('td', { class: 'nowrap', text: a.kind + (a.port ? ` :${a.port}` : '') }),
    h('td', { class: 'mono' }, addrs.length ? addrs.join(', ') : h('span', { class: 'none', text: 'no address' })),
    h('td', { class: a.failedOver ? 'to' : null, text: to ? (a.failedOver ? `→ ${to}` : to) : '—' }),
  );
}

function headRow(titles: readonly string[]): HTMLElement {
  return h('thead', null, h('tr', null, titles.map((t) => h('th', { scope: 'col', text: t }))));
}

function answers(s: StatusDocument): HTMLElement {
  return h(
    'table',
    null,
    h('caption', {
      text: s.serving
        ? `What ${s.node} answers now (A and AAAA). Failed-over names answer with another node's address.`
        : `${s.node} is not answering the zone; these are the answers it would give.`,
    }),
    headRow(['Name', 'Kind', 'Answer', 'Node']),
    h('tbody', null, s.answers.map(answerRow)),
  );
}

function matrixCell(s: StatusDocument, observer: string, target: string): HTMLElement {
  const row = s.matrix[observer];
  if (!row) return h('td', null, h('span', { class: 'cell never', text: '—' }));
  const o = row.heard[target];
  if (observer === target) return h('td', null, h('span', { class: 'cell self', text: 'self' }));
  if (!o || !o.everHeard) return h('td', null, h('span', { class: 'cell never', text: 'never' }));
  const cls = !row.fresh ? 'never' : o.ageMs <= 2 * s.peer.intervalMs ? 'fresh' : o.ageMs < s.peer.downAfterMs ? 'late' : 'silent';
  return h('td', null, h('span', { class: `cell ${cls}`, title: `${observer} last heard ${target} ${secs(o.ageMs)} before its row was sent`, text: secs(o.ageMs) }));
}

function matrix(s: StatusDocument): HTMLElement {
  const names = s.nodes.map((n) => n.name);
  const rows = names.map((observer) => {
    const row = s.matrix[observer];
    const age = row ? (observer === s.node ? 'this agent' : `row ${secs(row.rowAgeMs)} old${row.fresh ? '' : ', stale'}`) : 'nothing heard';
    return h(
      'tr',
      null,
      h('th', { scope: 'row' }, observer, h('span', { class: 'rowage', text: age })),
      names.map((target) => matrixCell(s, observer, target)),
    );
  });
  return h(
    'table',
    { class: 'matrix' },
    h(
      'caption',
      null,
      'Each row: how long ago that node had last heard each column node, as of its latest heartbeat here. ',
      h(
        'span',
        { class: 'legend' },
        h('span', { class: 'cell fresh', text: 'fresh' }),
        ' ',
        h('span', { class: 'cell late', text: 'late' }),
        ' ',
        h('span', { class: 'cell silent', text: `silent ≥ ${secs(s.peer.downAfterMs)}` }),
        ' ',
        h('span', { class: 'cell never', text: 'never / stale row' }),
      ),
    ),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'observer' }), 'heard by ↓ / of →'),
        names.map((n) => h('th', { scope: 'col', text: n })),
      ),
    ),
    h('tbody', null, rows),
  );
}

function checkTable(checks: readonly CheckStatus[]): HTMLElement {
  return h(
    'table',
    null,
    headRow(['Check', 'Target', 'Verdict', 'Latest']),
    h(
      'tbody',
      null,
      checks.map((c) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row', text: `${c.kind} ${c.name} (${c.type})` }),
          h('td', { class: 'mono', text: c.target }),
          h('td', { text: c.verdict }),
          h('td', { text: `${c.lastOk === null ? 'pending' : c.lastOk ? '✓ ' : '✕ '}${c.reason}${c.latencyMs !== null ? ` · ${c.latencyMs.toFixed(1)} ms` : ''}` }),
        ),
      ),
    ),
  );
}

function eventTone(e: EventStatus): string {
  if (/\b(down|minority|mismatch|unhealthy|not answering|failed)\b/.test(e.message)) return ' bad';
  if (/\b(up|healthy|answering|majority)\b/.test(e.message)) return ' good';
  return '';
}

function events(s: StatusDocument): HTMLElement {
  if (!s.events.length) return h('p', { class: 'empty', text: 'Nothing yet.' });
  return h(
    'ol',
    { class: 'events' },
    s.events
      .slice(0, 40)
      .map((e) => h('li', null, h('time', { datetime: e.at, text: clock(e.at) }), h('span', { class: `etype${eventTone(e)}`, text: e.type }), h('span', { text: e.message }))),
  );
}

const ICON_COLORS: Record<Tone, string> = { ok: '#16a34a', degraded: '#d97706', bad: '#dc2626', stale: '#64748b' };

/** The tab's icon is a dot in the summary's colour, so a background tab still shows the state. */
function setIcon(tone: Tone): void {
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><circle cx='8' cy='8' r='7' fill='${ICON_COLORS[tone]}'/></svg>`;
  byId('icon').setAttribute('href', `data:image/svg+xml,${encodeURIComponent(svg)}`);
}

/** Keeps the last data on screen, greyed, and says since when it is old. */
function lost(why: string): void {
  document.documentElement.classList.add('stale');
  const sum = byId('summary');
  sum.className = 'summary stale';
  sum.textContent = 'No contact with the agent';
  setIcon('stale');
  fill(
    'banners',
    h(
      'div',
      { class: 'banner bad', role: 'alert' },
      `Cannot reach this agent (${why})${lastOkAt ? `; the data below is from ${clock(new Date(lastOkAt).toISOString())}` : ''}. Retrying every second.`,
    ),
  );
}

async function fetchStatus(): Promise<StatusDocument> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
  try {
    const r = await fetch('/v1/status', { cache: 'no-store', signal: ctrl.signal });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return (await r.json()) as StatusDocument;
  } finally {
    clearTimeout(timer);
  }
}

async function poll(): Promise<void> {
  try {
    const s = await fetchStatus();
    lastOkAt = Date.now();
    document.documentElement.classList.remove('stale');
    render(s);
    byId('updated').textContent = `updated ${clock(s.now)}`;
  } catch (e) {
    lost(e instanceof Error ? (e.name === 'AbortError' ? 'timed out' : e.message || 'error') : 'error');
  }
  setTimeout(() => void poll(), POLL_MS);
}

void poll();
