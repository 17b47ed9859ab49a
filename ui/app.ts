// The status page's script (served as /ui/app.js; `npm run build` compiles it with
// ui/tsconfig.json). It listens to /ui/events and redraws the tables and the chart. Text
// from the server (broker names, Envoy's NACK messages) is set as text, never as markup.
export {};

/** The compact view /ui/events sends (src/admin/status-view.ts). */
interface PageView {
  version: string;
  ready: { ready: boolean; reason: string };
  snapshot?: string;
  mode: string;
  rebalanceMode: string;
  brokers: Array<{
    name: string;
    weight: number;
    health: string;
    excluded: boolean;
    utilisation?: number;
    capacity?: number;
    capacitySource: string;
    reason: string;
    connections?: number;
  }>;
  proxies: Array<{
    node: string;
    cluster: string;
    kind: string;
    types: Record<string, { state: string; error?: string; behindMs?: number }>;
  }>;
  omittedProxies: number;
  moves: Array<{
    broker: string;
    kind: string;
    phase: string;
    moved: number;
    budget?: number;
    connections?: number;
    deadlineAt?: string;
    note?: string;
  }>;
  blocked?: string;
  certificates: Array<{ name: string; notAfter?: string; problem?: string }>;
}

const HISTORY_MS = 10 * 60_000;
const SAMPLE_MS = 2000;
const TYPES = ['CDS', 'EDS', 'ECDS', 'SDS', 'LDS'];
const COLOURS = ['#2f6fbd', '#d9822b', '#1f7a3d', '#8e44ad', '#b3261e', '#16a3a3', '#6b6b00', '#c2185b'];
const SVG = 'http://www.w3.org/2000/svg';

let latest: PageView | undefined;
/** Per broker: [time ms, utilisation] samples, oldest first. */
const history = new Map<string, Array<[number, number]>>();
/** Per move: where its progress was first seen, to derive a rate. */
const firstSeen = new Map<string, { atMs: number; moved: number; connections?: number }>();

function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function fillBody(tableId: string, rows: number, emptyText: string, columns: number): HTMLTableSectionElement {
  const body = byId(tableId).querySelector('tbody');
  if (!body) throw new Error(`#${tableId} has no tbody`);
  body.replaceChildren();
  if (rows === 0) {
    const td = body.insertRow().insertCell();
    td.colSpan = columns;
    td.className = 'empty';
    td.textContent = emptyText;
  }
  return body;
}

function percent(x: number | undefined): string {
  return x === undefined ? '–' : `${(x * 100).toFixed(1)} %`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

function utilisationBar(u: number | undefined): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', u !== undefined && u >= 1 ? 'bar hot' : 'bar');
  svg.setAttribute('viewBox', '0 0 100 10');
  svg.setAttribute('preserveAspectRatio', 'none');
  const rect = document.createElementNS(SVG, 'rect');
  rect.setAttribute('height', '10');
  rect.setAttribute('width', String(Math.min(100, Math.max(0, (u ?? 0) * 100))));
  svg.append(rect);
  return svg;
}

function renderHeader(v: PageView): void {
  byId('version').textContent = `v${v.version}`;
  const ready = byId('ready');
  ready.textContent = v.ready.ready ? 'ready' : 'not ready';
  ready.className = `badge ${v.ready.ready ? 'ok' : 'bad'}`;
  ready.title = v.ready.reason;
  byId('snapshot').textContent = v.snapshot ? `snapshot ${v.snapshot}` : 'no snapshot yet';
  byId('mode').textContent = `balancing: ${v.mode}`;
  byId('rebalance-mode').textContent = `rebalance: ${v.rebalanceMode}`;
}

function renderBrokers(v: PageView): void {
  const body = fillBody('brokers', v.brokers.length, 'no brokers', 8);
  for (const b of v.brokers) {
    const row = body.insertRow();
    row.dataset.broker = b.name;
    cell(row, b.name, 'name');
    cell(row, b.excluded ? 'excluded' : String(b.weight), 'num weight');
    cell(row, b.excluded ? 'EXCLUDED' : b.health.toUpperCase(), 'health');
    const u = cell(row, '', 'utilisation');
    u.append(utilisationBar(b.utilisation), percent(b.utilisation));
    cell(row, b.connections === undefined ? '–' : String(b.connections), 'num');
    cell(row, b.capacity === undefined ? '–' : String(Math.round(b.capacity)), 'num capacity');
    cell(row, b.capacitySource, 'capacity-source');
    cell(row, b.reason, 'reason');
  }
}

function renderProxies(v: PageView): void {
  const body = fillBody('proxies', v.proxies.length, 'no Envoy is connected', 3 + TYPES.length);
  for (const p of v.proxies) {
    const row = body.insertRow();
    row.dataset.node = p.node;
    cell(row, p.node, 'node');
    cell(row, p.cluster);
    cell(row, p.kind);
    for (const t of TYPES) {
      const view = p.types[t];
      const td = cell(row, '');
      td.dataset.type = t;
      if (!view) {
        td.textContent = '–';
        continue;
      }
      const badge = document.createElement('span');
      badge.className = `state ${view.state}`;
      badge.textContent = view.state + (view.behindMs ? ` ${duration(view.behindMs)}` : '');
      td.append(badge);
      if (view.error) {
        const msg = document.createElement('span');
        msg.className = view.state === 'NACKED' ? 'nack' : 'nack old';
        msg.textContent = view.state === 'NACKED' ? view.error : `last NACK: ${view.error}`;
        td.append(msg);
      }
    }
  }
  byId('proxies-omitted').textContent = v.omittedProxies > 0 ? `and ${v.omittedProxies} more (see /proxy-status)` : '';
}

/** From the rate seen since the page first saw this move; undefined until it has moved. */
function eta(key: string, moved: number, remaining: number | undefined, nowMs: number): string {
  const first = firstSeen.get(key);
  if (!first || remaining === undefined) return '–';
  if (remaining <= 0) return 'done';
  const rate = (moved - first.moved) / (nowMs - first.atMs);
  return rate > 0 ? duration(remaining / rate) : '–';
}

function renderMoves(v: PageView, nowMs: number): void {
  const body = fillBody('moves', v.moves.length, 'nothing is being drained or rebalanced', 6);
  const seen = new Set<string>();
  for (const m of v.moves) {
    const key = `${m.kind}/${m.broker}`;
    seen.add(key);
    if (!firstSeen.has(key)) firstSeen.set(key, { atMs: nowMs, moved: m.moved, connections: m.connections });
    const row = body.insertRow();
    row.dataset.move = key;
    cell(row, m.broker);
    cell(row, m.kind);
    cell(row, m.phase);
    const total = m.budget ?? (m.connections === undefined ? undefined : m.moved + m.connections);
    cell(row, total === undefined ? `${m.moved} moved` : `${m.moved} / ${total}`, 'num progress');
    const remaining = m.budget !== undefined ? m.budget - m.moved : m.connections;
    let text = eta(key, m.moved, remaining, nowMs);
    if (m.deadlineAt && text !== 'done') text += ` (deadline in ${duration(Date.parse(m.deadlineAt) - nowMs)})`;
    cell(row, text);
    cell(row, m.note ?? '');
  }
  for (const key of [...firstSeen.keys()]) if (!seen.has(key)) firstSeen.delete(key);
  byId('blocked').textContent = v.blocked ? `Nothing moves: ${v.blocked}` : '';
}

function renderCertificates(v: PageView, nowMs: number): void {
  byId('certificates-section').hidden = v.certificates.length === 0;
  const body = fillBody('certificates', v.certificates.length, '', 4);
  for (const c of v.certificates) {
    const row = body.insertRow();
    cell(row, c.name);
    cell(row, c.notAfter ?? 'not served');
    const left = c.notAfter === undefined ? undefined : Date.parse(c.notAfter) - nowMs;
    cell(
      row,
      left === undefined ? '–' : left <= 0 ? 'expired' : duration(left),
      left !== undefined && left < 14 * 86_400_000 ? 'soon' : '',
    );
    cell(row, c.problem ?? '');
  }
}

function sample(nowMs: number): void {
  if (!latest) return;
  const names = new Set(latest.brokers.map((b) => b.name));
  for (const b of latest.brokers) {
    if (b.utilisation === undefined) continue;
    const points = history.get(b.name) ?? [];
    points.push([nowMs, b.utilisation]);
    history.set(b.name, points);
  }
  for (const [name, points] of history) {
    while (points.length > 0 && points[0][0] < nowMs - HISTORY_MS) points.shift();
    if (points.length === 0 || !names.has(name)) history.delete(name);
  }
}

function renderChart(nowMs: number): void {
  const width = 1000;
  const height = 220;
  const pad = { left: 44, right: 130, top: 10, bottom: 24 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  let highest = 1;
  for (const points of history.values()) for (const [, u] of points) highest = Math.max(highest, u);
  // Gridlines at round percentages: every 25 % up to 100 %, every 50 % above.
  const step = highest <= 1 ? 0.25 : 0.5;
  const top = Math.ceil(highest / step - 1e-9) * step;
  // The page keeps 10 minutes; a younger history spans the chart from its first sample (at least a minute).
  let oldest = nowMs;
  for (const points of history.values()) if (points.length > 0) oldest = Math.min(oldest, points[0][0]);
  const spanMs = Math.min(HISTORY_MS, Math.max(60_000, nowMs - oldest));
  const x = (t: number): number => pad.left + ((t - (nowMs - spanMs)) / spanMs) * plotW;
  const y = (u: number): number => pad.top + plotH - (u / top) * plotH;

  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'utilisation per broker over the last 10 minutes');
  const line = (cls: string, x1: number, y1: number, x2: number, y2: number): void => {
    const l = document.createElementNS(SVG, 'line');
    for (const [k, val] of Object.entries({ x1, y1, x2, y2 })) l.setAttribute(k, String(val));
    l.setAttribute('class', cls);
    svg.append(l);
  };
  const text = (s: string, tx: number, ty: number, anchor = 'start', colour?: string): void => {
    const t = document.createElementNS(SVG, 'text');
    t.setAttribute('x', String(tx));
    t.setAttribute('y', String(ty));
    t.setAttribute('text-anchor', anchor);
    // A presentation attribute, not a style: the page's policy allows no inline style.
    if (colour) t.setAttribute('fill', colour);
    else t.setAttribute('class', 'label');
    t.textContent = s;
    svg.append(t);
  };
  for (let u = 0; u <= top + 1e-9; u += step) {
    line('grid', pad.left, y(u), pad.left + plotW, y(u));
    text(`${Math.round(u * 100)} %`, pad.left - 6, y(u) + 4, 'end');
  }
  line('axis', pad.left, pad.top + plotH, pad.left + plotW, pad.top + plotH);
  for (let i = 5; i >= 0; i--) {
    const agoMs = (spanMs * i) / 5;
    text(i === 0 ? 'now' : `-${duration(agoMs)}`, x(nowMs - agoMs), height - 6, 'middle');
  }
  [...history.keys()].sort().forEach((name, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = history.get(name) ?? [];
    const poly = document.createElementNS(SVG, 'polyline');
    poly.setAttribute('points', points.map(([t, u]) => `${x(t).toFixed(1)},${y(u).toFixed(1)}`).join(' '));
    poly.setAttribute('stroke', colour);
    poly.dataset.broker = name;
    svg.append(poly);
    text(name, pad.left + plotW + 10, pad.top + 14 + i * 16, 'start', colour);
  });
  if (history.size === 0) text('no utilisation yet (no fresh broker metrics)', pad.left + plotW / 2, pad.top + plotH / 2, 'middle');
  byId('chart').replaceChildren(svg);
}

function render(): void {
  if (!latest) return;
  const now = Date.now();
  renderHeader(latest);
  renderBrokers(latest);
  renderProxies(latest);
  renderMoves(latest, now);
  renderCertificates(latest, now);
  renderChart(now);
}

function connect(): void {
  const live = byId('live');
  const source = new EventSource('/ui/events');
  source.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'badge ok';
  });
  // The server ends each stream after its lifetime; EventSource reconnects by itself.
  source.addEventListener('error', () => {
    live.textContent = source.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting…';
    live.className = 'badge off';
  });
  source.addEventListener('status', (e: MessageEvent<string>) => {
    const first = latest === undefined;
    latest = JSON.parse(e.data) as PageView;
    if (first) sample(Date.now());
    render();
  });
}

setInterval(() => {
  sample(Date.now());
  if (latest) renderChart(Date.now());
}, SAMPLE_MS);
connect();
