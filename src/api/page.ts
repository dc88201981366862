import { createHash } from 'node:crypto';

/**
 * The status page: one self-contained HTML document (inline CSS and JS, no build step, no external
 * requests) that polls `/v1/status` once a second and redraws. The script builds the DOM with
 * textContent only, so node names, reasons and event messages can never inject markup.
 *
 * The script and style are kept free of backticks and `${` so they can live in String.raw here.
 */

const STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f6fa; --panel: #ffffff; --text: #16202e; --muted: #5b6b80; --line: #e1e6ee; --head: #0f1a2a;
  --up: #137a3f; --up-bg: #e3f6ea; --down: #b42318; --down-bg: #fde8e6; --warn: #9a5b00; --warn-bg: #fff3d6;
  --unk: #56657a; --unk-bg: #eceff4; --accent: #2f5bd3; --fo-bg: #fff7e0;
  --mono: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e141d; --panel: #161e2a; --text: #e5ebf3; --muted: #93a1b5; --line: #263142; --head: #0a0f16;
    --up: #4ade80; --up-bg: #12301f; --down: #ff7b72; --down-bg: #3b1616; --warn: #f5c451; --warn-bg: #3a2d0c;
    --unk: #a3b0c2; --unk-bg: #222c3a; --accent: #7aa2ff; --fo-bg: #2e260f;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
a { color: var(--accent); }
.mono, code { font-family: var(--mono); font-size: 0.92em; }
header.top { background: var(--head); color: #f2f6fb; padding: 18px 28px 16px; }
.top-row { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px; max-width: 1280px; margin: 0 auto; }
.brand { font-weight: 700; letter-spacing: 0.02em; color: #9fb3ce; font-size: 13px; text-transform: uppercase; }
h1 { margin: 0; font-size: 24px; font-weight: 650; }
.summary { margin-left: auto; display: inline-flex; align-items: center; gap: 8px; padding: 6px 14px; border-radius: 999px; font-weight: 650; background: #26344a; }
.summary::before { content: ""; width: 10px; height: 10px; border-radius: 50%; background: currentColor; }
.summary.ok { color: #6ee7a0; } .summary.degraded { color: #fbcf5a; } .summary.bad { color: #ff8f87; } .summary.stale { color: #b8c4d4; }
.meta { max-width: 1280px; margin: 8px auto 0; color: #a9b7ca; font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 18px; }
.meta b { color: #e6edf6; font-weight: 600; }
.banner { max-width: 1280px; margin: 16px auto 0; padding: 10px 14px; border-radius: 10px; font-weight: 550; }
.banner.bad { background: var(--down-bg); color: var(--down); border: 1px solid currentColor; }
.banner.warn { background: var(--warn-bg); color: var(--warn); border: 1px solid currentColor; }
main { max-width: 1280px; margin: 0 auto; padding: 8px 28px 40px; }
section { margin-top: 22px; }
h2 { font-size: 15px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 0 0 10px; font-weight: 650; }
h2 .count { font-weight: 500; text-transform: none; letter-spacing: 0; }
.cols { display: grid; grid-template-columns: minmax(0, 1.25fr) minmax(0, 1fr); gap: 0 24px; }
@media (max-width: 900px) { .cols { grid-template-columns: minmax(0, 1fr); } main, header.top, footer { padding-left: 14px; padding-right: 14px; } }
@media (max-width: 560px) {
  ol.events li { grid-template-columns: auto 1fr; }
  ol.events li > span:last-child { grid-column: 1 / -1; }
  th, td { padding: 7px 9px; }
}
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; overflow: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 14px; }
.card { background: var(--panel); border: 1px solid var(--line); border-left: 6px solid var(--unk); border-radius: 12px; padding: 14px 16px 12px; transition: border-color 0.3s; }
.card[data-state="up"] { border-left-color: var(--up); }
.card[data-state="suspect"] { border-left-color: var(--warn); }
.card[data-state="down"] { border-left-color: var(--down); background: linear-gradient(0deg, var(--panel), var(--panel)), var(--down-bg); background: color-mix(in srgb, var(--down-bg) 55%, var(--panel)); }
.card-head { display: flex; align-items: center; gap: 8px; }
.card h3 { margin: 0; font-size: 18px; font-weight: 650; }
.chip { font-size: 11px; padding: 1px 7px; border-radius: 999px; background: var(--unk-bg); color: var(--muted); font-weight: 600; letter-spacing: 0.03em; }
.badge { margin-left: auto; display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px; font-size: 12.5px; font-weight: 700; letter-spacing: 0.05em; text-transform: uppercase; }
.badge.up { color: var(--up); background: var(--up-bg); }
.badge.suspect { color: var(--warn); background: var(--warn-bg); }
.badge.down { color: var(--down); background: var(--down-bg); }
.badge.unknown { color: var(--unk); background: var(--unk-bg); }
.card .addr { margin-top: 6px; font-family: var(--mono); font-size: 14px; }
.card .reason { margin-top: 8px; font-size: 13px; color: var(--text); }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 10px 0 0; font-size: 12.5px; color: var(--muted); }
.card dd { margin: 0; color: var(--text); }
.svc { display: inline-block; margin: 0 4px 2px 0; }
.svc.bad { color: var(--down); }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; }
caption { text-align: left; padding: 10px 14px 0; color: var(--muted); font-size: 12.5px; caption-side: bottom; padding-bottom: 10px; }
th, td { padding: 8px 14px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 650; background: color-mix(in srgb, var(--line) 35%, var(--panel)); }
tbody tr:last-child th, tbody tr:last-child td { border-bottom: 0; }
tbody th { font-weight: 600; }
tr.failed-over { background: var(--fo-bg); }
tr.failed-over td.to { color: var(--warn); font-weight: 650; }
.tag { display: inline-block; margin-left: 6px; padding: 0 7px; border-radius: 999px; font-size: 11px; font-weight: 700; letter-spacing: 0.04em; text-transform: uppercase; color: var(--warn); background: var(--warn-bg); border: 1px solid currentColor; }
.none { color: var(--down); font-style: italic; }
.muted { color: var(--muted); }
.nowrap { white-space: nowrap; }
.matrix td, .matrix th { text-align: center; white-space: nowrap; }
.matrix tbody th { text-align: left; }
.cell { display: inline-block; min-width: 64px; padding: 2px 8px; border-radius: 6px; font-family: var(--mono); font-size: 12.5px; }
.cell.fresh { color: var(--up); background: var(--up-bg); }
.cell.late { color: var(--warn); background: var(--warn-bg); }
.cell.silent { color: var(--down); background: var(--down-bg); }
.cell.never { color: var(--unk); background: var(--unk-bg); }
.cell.self { color: var(--muted); background: transparent; }
.legend { display: inline-flex; flex-wrap: wrap; gap: 4px; margin-top: 6px; }
.legend .cell { min-width: 0; font-size: 11.5px; }
.rowage { display: block; font-weight: 400; font-size: 11.5px; color: var(--muted); }
ol.events { list-style: none; margin: 0; padding: 0; max-height: 420px; overflow: auto; }
ol.events li { display: grid; grid-template-columns: 86px 110px 1fr; gap: 10px; padding: 8px 14px; border-bottom: 1px solid var(--line); font-size: 13px; }
ol.events li:last-child { border-bottom: 0; }
ol.events time { font-family: var(--mono); color: var(--muted); font-size: 12px; }
.etype { font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.etype.bad { color: var(--down); }
.etype.good { color: var(--up); }
.moved { margin-top: 8px; font-size: 13px; font-weight: 600; color: var(--warn); }
.empty { padding: 14px; color: var(--muted); }
footer { max-width: 1280px; margin: 0 auto; padding: 0 28px 28px; color: var(--muted); font-size: 12.5px; }
.stale main { opacity: 0.55; filter: grayscale(0.6); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var POLL_MS = 1000;
  var TIMEOUT_MS = 2500;
  var last = null;
  var lastOkAt = 0;
  var failures = 0;

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'class') el.className = attrs[k];
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(el, x); }); return; }
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  function fill(id) {
    var holder = document.createDocumentFragment();
    append(holder, Array.prototype.slice.call(arguments, 1));
    document.getElementById(id).replaceChildren(holder);
  }

  function secs(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 10000) return (ms / 1000).toFixed(1) + ' s';
    return duration(ms / 1000);
  }
  function duration(s) {
    s = Math.round(s);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  function ago(iso, nowIso) {
    return duration(Math.max(0, (Date.parse(nowIso) - Date.parse(iso)) / 1000)) + ' ago';
  }
  function clock(iso) {
    var d = new Date(iso);
    function p(n) { return (n < 10 ? '0' : '') + n; }
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }

  var STATE_TEXT = { up: 'Up', suspect: 'Suspect', down: 'Down', unknown: 'Unknown' };
  var STATE_ICON = { up: '✓', suspect: '!', down: '✕', unknown: '?' };

  function verdict(s) {
    var down = s.nodes.filter(function (n) { return n.condition === 'down'; });
    var odd = s.nodes.filter(function (n) { return n.condition !== 'up'; });
    var moved = s.answers.filter(function (a) { return a.failedOver && a.kind === 'node'; });
    if (s.role !== 'witness' && !s.serving) return { cls: 'bad', text: 'Not serving: ' + (s.minority ? 'minority' : 'no quorum yet') };
    if (s.role === 'witness' && s.minority) return { cls: 'bad', text: 'Witness in the minority' };
    var targets = [];
    moved.forEach(function (a) { a.servedBy.forEach(function (t) { if (targets.indexOf(t) < 0) targets.push(t); }); });
    if (down.length) return { cls: 'degraded', text: 'Degraded: ' + down.map(function (n) { return n.name; }).join(', ') + ' down' + (targets.length ? ' · failed over to ' + targets.join(', ') : '') };
    if (odd.length) return { cls: 'degraded', text: 'Attention: ' + odd.map(function (n) { return n.name + ' ' + n.condition; }).join(', ') };
    return { cls: 'ok', text: 'All ' + s.nodes.length + ' nodes up' };
  }

  function render(s) {
    last = s;
    var v = verdict(s);
    document.title = (v.cls === 'ok' ? '● ' : v.cls === 'bad' ? '✕ ' : '! ') + s.zone + ' — clusterdns';
    setIcon(v.cls);
    document.getElementById('zone').textContent = s.zone;
    var sum = document.getElementById('summary');
    sum.className = 'summary ' + v.cls;
    sum.textContent = v.text;
    fill('meta',
      h('span', null, 'served by ', h('b', { text: s.node }), s.role === 'witness' ? ' (witness)' : ''),
      h('span', null, 'serial ', h('b', { class: 'mono', text: String(s.serial) })),
      h('span', null, 'config ', h('b', { class: 'mono', text: s.configHash })),
      h('span', null, 'majority ', h('b', { text: s.hears.length + ' of ' + s.nodes.length + ' heard' }), ' (needs ' + s.majority + ')'),
      h('span', null, 'failovers ', h('b', { text: String(s.failovers) })),
      h('span', null, 'DNS queries ', h('b', { text: String(s.dns.queries) })),
      h('span', null, 'up ', h('b', { text: duration(s.uptimeSeconds) })),
      h('span', null, 'v' + s.version)
    );
    var banners = [];
    if (s.role !== 'witness' && !s.serving)
      banners.push(h('div', { class: 'banner bad', role: 'alert' }, s.node + ' answers ' + s.unavailableRcode + ' for ' + s.zone + ': ' +
        (s.minority ? 'it hears only ' + s.hears.join(', ') + ' (' + s.hears.length + ' of ' + s.nodes.length + '; a majority is ' + s.majority + ').' : 'it has not heard a majority yet.')));
    if (s.config.mismatch)
      banners.push(h('div', { class: 'banner warn', role: 'alert' }, 'Config mismatch: ' + Object.keys(s.config.hashes).map(function (k) { return k + ' ' + s.config.hashes[k]; }).join(', ') + ' — roll the same config out to every node.'));
    fill('banners', banners.length ? h('div', null, banners) : null);

    fill('nodes', s.nodes.map(card.bind(null, s)));
    document.getElementById('node-count').textContent = '(' + s.nodes.filter(function (n) { return n.condition === 'up'; }).length + ' of ' + s.nodes.length + ' up)';
    fill('answers', answers(s));
    fill('matrix', matrix(s));
    fill('events', events(s));
    var checks = document.getElementById('checks-section');
    checks.hidden = s.checks.length === 0;
    if (s.checks.length) fill('checks', checkTable(s));
  }

  function card(s, n) {
    var c = n.condition;
    var services = Object.keys(n.services);
    var movedTo = [];
    s.answers.forEach(function (a) {
      if (a.failedOver && a.owner === n.name) a.servedBy.forEach(function (t) { if (movedTo.indexOf(t) < 0) movedTo.push(t); });
    });
    return h('article', { class: 'card', 'data-node': n.name, 'data-state': c, 'aria-labelledby': 'card-' + n.name },
      h('div', { class: 'card-head' },
        h('h3', { id: 'card-' + n.name, text: n.name }),
        n.role === 'witness' ? h('span', { class: 'chip', text: 'witness' }) : null,
        n.self ? h('span', { class: 'chip', text: 'this agent' }) : null,
        h('span', { class: 'badge ' + c, 'data-testid': 'state' }, h('span', { 'aria-hidden': 'true', text: STATE_ICON[c] }), STATE_TEXT[c])),
      h('div', { class: 'addr' }, n.address, n.address6 ? h('span', { class: 'muted', text: '  ' + n.address6 }) : null),
      h('div', { class: 'reason', text: n.reason }),
      movedTo.length ? h('div', { class: 'moved', text: 'its names answer with ' + movedTo.join(', ') }) : null,
      h('dl', null,
        h('dt', { text: 'since' }), h('dd', { text: clock(n.since) + ' (' + ago(n.since, s.now) + ')' }),
        h('dt', { text: 'last heard' }), h('dd', { text: n.self ? 'this agent' : n.heardAgoMs === null ? 'never' : secs(n.heardAgoMs) + ' ago' }),
        h('dt', { text: 'checks' }), h('dd', { text: n.healthy === null ? 'not reported' : n.healthy ? 'passing' : 'failing' }),
        n.rack ? [h('dt', { text: 'rack' }), h('dd', { text: n.rack })] : null,
        n.state === 'down' ? [h('dt', { text: 'hold-down' }), h('dd', { text: secs(n.holdDownMs) })] : null,
        services.length ? [h('dt', { text: 'services' }), h('dd', null, services.map(function (k) {
          return h('span', { class: 'svc' + (n.services[k] ? '' : ' bad'), text: (n.services[k] ? '✓ ' : '✕ ') + k });
        }))] : null));
  }

  function answers(s) {
    var rows = s.answers.map(function (a) {
      var addrs = a.a.concat(a.aaaa);
      var to = a.servedBy.join(', ');
      return h('tr', { class: a.failedOver ? 'failed-over' : null, 'data-name': a.name },
        h('th', { scope: 'row', class: 'mono' }, a.name, a.failedOver ? h('span', { class: 'tag', text: 'failed over' }) : null),
        h('td', { class: 'nowrap', text: a.kind + (a.port ? ' :' + a.port : '') }),
        h('td', { class: 'mono' }, addrs.length ? addrs.join(', ') : h('span', { class: 'none', text: 'no address' })),
        h('td', { class: a.failedOver ? 'to' : null, text: to ? (a.failedOver ? '→ ' + to : to) : '—' }));
    });
    return h('table', null,
      h('caption', { text: s.serving ? 'What ' + s.node + ' answers now (A and AAAA). Failed-over names answer with another node\'s address.' : s.node + ' is not answering the zone; these are the answers it would give.' }),
      h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Name' }), h('th', { scope: 'col', text: 'Kind' }), h('th', { scope: 'col', text: 'Answer' }), h('th', { scope: 'col', text: 'Node' }))),
      h('tbody', null, rows));
  }

  function matrix(s) {
    var names = s.nodes.map(function (n) { return n.name; });
    var rows = names.map(function (obs) {
      var row = s.matrix[obs];
      var head = h('th', { scope: 'row' }, obs, h('span', { class: 'rowage', text: row ? (obs === s.node ? 'this agent' : 'row ' + secs(row.rowAgeMs) + ' old' + (row.fresh ? '' : ', stale')) : 'nothing heard' }));
      return h('tr', null, head, names.map(function (target) {
        if (!row) return h('td', null, h('span', { class: 'cell never', text: '—' }));
        var o = row.heard[target];
        if (obs === target) return h('td', null, h('span', { class: 'cell self', text: 'self' }));
        if (!o || !o.everHeard) return h('td', null, h('span', { class: 'cell never', text: 'never' }));
        var cls = o.ageMs <= 2 * s.peer.intervalMs ? 'fresh' : o.ageMs < s.peer.downAfterMs ? 'late' : 'silent';
        if (!row.fresh) cls = 'never';
        return h('td', null, h('span', { class: 'cell ' + cls, title: obs + ' last heard ' + target + ' ' + secs(o.ageMs) + ' before its row was sent', text: secs(o.ageMs) }));
      }));
    });
    return h('table', { class: 'matrix' },
      h('caption', null, 'Each row: how long ago that node had last heard each column node, as of its latest heartbeat here. ',
        h('span', { class: 'legend' },
          h('span', { class: 'cell fresh', text: 'fresh' }), ' ',
          h('span', { class: 'cell late', text: 'late' }), ' ',
          h('span', { class: 'cell silent', text: 'silent ≥ ' + secs(s.peer.downAfterMs) }), ' ',
          h('span', { class: 'cell never', text: 'never / stale row' }))),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, h('span', { class: 'sr-only', text: 'observer' }), 'heard by ↓ / of →'), names.map(function (n) { return h('th', { scope: 'col', text: n }); }))),
      h('tbody', null, rows));
  }

  function checkTable(s) {
    return h('table', null,
      h('thead', null, h('tr', null, ['Check', 'Target', 'Verdict', 'Latest'].map(function (t) { return h('th', { scope: 'col', text: t }); }))),
      h('tbody', null, s.checks.map(function (c) {
        return h('tr', null,
          h('th', { scope: 'row', text: c.kind + ' ' + c.name + ' (' + c.type + ')' }),
          h('td', { class: 'mono', text: c.target }),
          h('td', { text: c.verdict }),
          h('td', { text: (c.lastOk === null ? 'pending' : c.lastOk ? '✓ ' : '✕ ') + c.reason + (c.latencyMs !== null ? ' · ' + c.latencyMs.toFixed(1) + ' ms' : '') }));
      })));
  }

  function events(s) {
    if (!s.events.length) return h('p', { class: 'empty', text: 'Nothing yet.' });
    return h('ol', { class: 'events' }, s.events.slice(0, 40).map(function (e) {
      var tone = /\b(down|minority|mismatch|unhealthy|not answering|failed)\b/.test(e.message) ? ' bad' : /\b(up|healthy|answering|majority)\b/.test(e.message) ? ' good' : '';
      return h('li', null, h('time', { datetime: e.at, text: clock(e.at) }), h('span', { class: 'etype' + tone, text: e.type }), h('span', { text: e.message }));
    }));
  }

  var ICON_COLORS = { ok: '#16a34a', degraded: '#d97706', bad: '#dc2626', stale: '#64748b' };
  function setIcon(cls) {
    var svg = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><circle cx='8' cy='8' r='7' fill='" + ICON_COLORS[cls] + "'/></svg>";
    document.getElementById('icon').setAttribute('href', 'data:image/svg+xml,' + encodeURIComponent(svg));
  }

  function lost(why) {
    failures++;
    document.documentElement.classList.add('stale');
    var sum = document.getElementById('summary');
    sum.className = 'summary stale';
    sum.textContent = 'No contact with the agent';
    setIcon('stale');
    fill('banners', h('div', { class: 'banner bad', role: 'alert' },
      'Cannot reach this agent (' + why + ')' + (lastOkAt ? '; the data below is from ' + clock(new Date(lastOkAt).toISOString()) : '') + '. Retrying every second.'));
  }

  function poll() {
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctrl) ctrl.abort(); }, TIMEOUT_MS);
    fetch('/v1/status', { cache: 'no-store', signal: ctrl ? ctrl.signal : undefined })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (s) {
        failures = 0;
        lastOkAt = Date.now();
        document.documentElement.classList.remove('stale');
        render(s);
        document.getElementById('updated').textContent = 'updated ' + clock(s.now);
      })
      .catch(function (e) { lost(e && e.name === 'AbortError' ? 'timed out' : (e && e.message) || 'error'); })
      .then(function () { clearTimeout(timer); setTimeout(poll, POLL_MS); });
  }
  poll();
})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/** Only this page's own script and style may run, and it may only fetch from its own agent. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>clusterdns status</title>
<link id="icon" rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header class="top">
  <div class="top-row">
    <span class="brand">clusterdns</span>
    <h1 id="zone">loading…</h1>
    <span id="summary" class="summary stale" role="status" aria-live="polite">Connecting…</span>
  </div>
  <div id="meta" class="meta"></div>
  <div id="banners"></div>
</header>
<main>
  <section aria-labelledby="nodes-h">
    <h2 id="nodes-h">Nodes <span id="node-count" class="count"></span></h2>
    <div id="nodes" class="cards"></div>
  </section>
  <div class="cols">
    <section aria-labelledby="answers-h">
      <h2 id="answers-h">Current answers</h2>
      <div id="answers" class="panel"></div>
    </section>
    <section aria-labelledby="matrix-h">
      <h2 id="matrix-h">Who hears whom</h2>
      <div id="matrix" class="panel"></div>
    </section>
  </div>
  <div class="cols">
    <section aria-labelledby="events-h">
      <h2 id="events-h">Recent events</h2>
      <div id="events" class="panel"></div>
    </section>
    <section id="checks-section" aria-labelledby="checks-h" hidden>
      <h2 id="checks-h">Health checks</h2>
      <div id="checks" class="panel"></div>
    </section>
  </div>
</main>
<footer><span id="updated"></span> · <a href="/v1/status">/v1/status</a> · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
