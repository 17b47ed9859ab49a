// Who may read the admin port's views: /status, the status page, /proxy-status,
// /config-dump and the progress of drains and rebalances. They show broker addresses, the
// Envoys' config and the tenants, so a peer on the network needs the admin token for them.
// A peer on this machine (or in this pod: kubectl port-forward arrives on loopback) reads
// freely, as it could read the files anyway. Probes and /metrics stay open to all: kubelet
// and Prometheus reach them without a secret.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { bearerMatches, isLoopbackHost } from './operator-routes';

/** The paths behind the check; /healthz, /readyz and /metrics are not. */
export function isViewPath(path: string): boolean {
  return (
    path === '/status' ||
    path === '/proxy-status' ||
    path === '/config-dump' ||
    path === '/rebalance' ||
    path === '/ui' ||
    path.startsWith('/ui/') ||
    path.startsWith('/drain/')
  );
}

/** The status page's session cookie, set by POST /ui/login. */
export const UI_SESSION_COOKIE = 'mqtt_xds_ui';

/** A session lasts this long; after it, the page asks for the token again. */
export const UI_SESSION_SECONDS = 12 * 3600;

/**
 * The cookie's value for a token and an expiry (seconds since the epoch): the expiry and a
 * MAC over it keyed by the token. The cookie never carries the token itself, a session ends
 * at its expiry whatever the browser keeps, and a rotated token ends every session.
 */
export function uiSessionValue(token: string, expiresAt: number): string {
  return `${expiresAt}.${createHmac('sha256', token).update(`mqtt-xds status page session until ${expiresAt}`).digest('hex')}`;
}

export type ViewAccess = 'token' | 'open';

export type ViewDecision = { readonly allowed: true } | { readonly allowed: false; readonly status: 401 | 403; readonly error: string };

/**
 * May this request read a view? `peerLocal`: the request came from a loopback address.
 * `open` (admin.viewAccess) leaves the views to whatever guards the port, as before.
 */
export function viewDecision(
  headers: IncomingHttpHeaders,
  peerLocal: boolean,
  token: string | undefined,
  access: ViewAccess,
  nowSeconds = Math.floor(Date.now() / 1000),
): ViewDecision {
  if (access === 'open' || peerLocal) return { allowed: true };
  if (token === undefined || token === '') {
    return {
      allowed: false,
      status: 403,
      error:
        'the views are refused to network peers on an admin port without a token; set admin.tokenFile ' +
        '(then send "Authorization: Bearer <token>"), read from this machine, or set admin.viewAccess open',
    };
  }
  if (headers.authorization !== undefined && bearerMatches(headers.authorization, token)) return { allowed: true };
  if (sessionMatches(headers.cookie, token, nowSeconds)) return { allowed: true };
  return { allowed: false, status: 401, error: 'this view needs "Authorization: Bearer <admin token>" (admin.tokenFile)' };
}

/** Whether a token typed into the sign-in form is the admin token; timing-safe like the bearer check. */
export function bearerMatchesToken(given: string, token: string): boolean {
  return bearerMatches(`Bearer ${given}`, token);
}

function sessionMatches(cookieHeader: string | undefined, token: string, nowSeconds: number): boolean {
  const given = cookieValue(cookieHeader, UI_SESSION_COOKIE);
  const expiresAt = Number(given?.split('.', 1)[0]);
  if (given === undefined || !Number.isSafeInteger(expiresAt) || expiresAt <= nowSeconds) return false;
  const want = Buffer.from(uiSessionValue(token, expiresAt), 'utf8');
  const got = Buffer.from(given, 'utf8');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** One cookie's value from a Cookie header; the first one of that name wins. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True for a loopback peer address as Node reports it (127.0.0.0/8, ::1, IPv4-mapped loopback). */
export function isLoopbackPeer(address: string | undefined): boolean {
  return address !== undefined && isLoopbackHost(address);
}

/** The page a browser on the network gets instead of /ui: one field, posted to /ui/login. */
export function loginPage(wrong: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mqtt-xds status: sign in</title>
</head>
<body>
<main>
<h1>mqtt-xds status</h1>
<p>This page shows the brokers and the Envoys' config, so it needs the admin token (<code>admin.tokenFile</code>).</p>
${wrong ? '<p role="alert">That token is not the admin token.</p>\n' : ''}<form method="post" action="/ui/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Open</button>
</form>
</main>
</body>
</html>
`;
}

/** The login page's headers: like the status page's, but the form may post to this origin. */
export const LOGIN_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

/** The largest login form read; a token file's token is far shorter. */
export const MAX_LOGIN_BYTES = 4096;
