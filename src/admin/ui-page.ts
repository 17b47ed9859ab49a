// GET /ui, /ui/app.css and /ui/app.js: the status page. The markup and style are here; the
// script is ui/app.ts, compiled by `npm run build` to dist/ui/app.js. Nothing is fetched
// from elsewhere, and the policy below forbids it.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Only this origin's files; no inline script or style; never framed. */
export const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mqtt-xds status</title>
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<header>
  <h1>mqtt-xds</h1>
  <span id="version"></span>
  <span id="ready" class="badge">connecting…</span>
  <span id="snapshot"></span>
  <span id="live" class="badge off">offline</span>
</header>
<main>
  <section>
    <h2>Brokers <small id="mode"></small></h2>
    <table id="brokers">
      <thead><tr><th>Broker</th><th>Weight</th><th>Health</th><th>Utilisation</th><th>Connections</th><th>Capacity</th><th>Capacity source</th><th>Why this weight</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <h2>Utilisation <small>(kept in this page for 10 minutes)</small></h2>
    <div id="chart"></div>
  </section>
  <section>
    <h2>Envoys</h2>
    <table id="proxies">
      <thead><tr><th>Node</th><th>Cluster</th><th>Stream</th><th>CDS</th><th>EDS</th><th>ECDS</th><th>SDS</th><th>LDS</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="proxies-omitted"></p>
  </section>
  <section>
    <h2>Drains and rebalances <small id="rebalance-mode"></small></h2>
    <table id="moves">
      <thead><tr><th>Broker</th><th>Kind</th><th>Phase</th><th>Progress</th><th>ETA</th><th>Note</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="blocked"></p>
  </section>
  <section id="certificates-section">
    <h2>Certificates</h2>
    <table id="certificates">
      <thead><tr><th>Certificate</th><th>Expires</th><th>In</th><th>Problem</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<footer>Read-only. Live from <code>/ui/events</code>; the same data as <code>/status</code> and <code>/proxy-status</code>.</footer>
</body>
</html>
`;

export const PAGE_CSS = `
:root { font-family: system-ui, sans-serif; font-size: 14px; color: #1d2430; background: #f6f7f9; }
body { margin: 0; }
header { display: flex; gap: 1em; align-items: baseline; padding: 0.8em 1.2em; background: #1d2430; color: #fff; }
header h1 { font-size: 1.3em; margin: 0; }
main { padding: 0 1.2em; }
section { margin: 1em 0; background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 0.6em 1em; }
h2 { font-size: 1.05em; margin: 0.2em 0 0.6em; }
small { font-weight: normal; color: #5a6472; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.3em 0.6em; border-bottom: 1px solid #eceff2; vertical-align: top; }
th { font-weight: 600; color: #5a6472; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { color: #3b4452; max-width: 40em; }
td.name, td.utilisation, td.health { white-space: nowrap; }
td.soon { color: #b3261e; font-weight: 600; }
.badge { padding: 0.1em 0.5em; border-radius: 3px; font-size: 0.9em; background: #5a6472; color: #fff; }
.badge.ok, .state.SYNCED { background: #1f7a3d; color: #fff; }
.badge.bad, .state.NACKED { background: #b3261e; color: #fff; }
.badge.off { background: #8a6d00; }
.state { padding: 0.05em 0.4em; border-radius: 3px; font-size: 0.85em; }
.state.PENDING { background: #d9e4f5; }
.state.STALE { background: #f3d27a; }
.nack { display: block; color: #b3261e; font-size: 0.85em; max-width: 28em; overflow-wrap: anywhere; }
.bar { display: inline-block; height: 0.6em; background: #eceff2; width: 8em; margin-right: 0.4em; vertical-align: middle; }
.bar rect { fill: #2f6fbd; }
.bar.hot rect { fill: #b3261e; }
#chart svg { width: 100%; height: 220px; }
#chart .axis { stroke: #c4cad1; stroke-width: 1; }
#chart .grid { stroke: #eceff2; stroke-width: 1; }
#chart text { font-size: 11px; }
#chart text.label { fill: #5a6472; }
#chart polyline { fill: none; stroke-width: 2; }
footer { padding: 1em 1.2em; color: #5a6472; }
`;

/**
 * The compiled page script: dist/ui/app.js beside dist/src when running from dist, or the
 * repository's dist/ui when the sources run directly (ts-jest). Undefined until built.
 */
export function pageScript(): string | undefined {
  if (cachedScript !== undefined) return cachedScript;
  for (const candidate of [path.resolve(__dirname, '../../ui/app.js'), path.resolve(__dirname, '../../dist/ui/app.js')]) {
    try {
      const stat = fs.statSync(candidate);
      // Our own build output; the cap only guards against reading a wrong, huge file.
      if (!stat.isFile() || stat.size > 1 << 20) continue;
      cachedScript = fs.readFileSync(candidate, 'utf8');
      return cachedScript;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}
let cachedScript: string | undefined;
