import { Registry } from 'prom-client';
import { AdminServer } from '../../../src/admin';
import { UI_SESSION_COOKIE, cookieValue, isLoopbackPeer, isViewPath, uiSessionValue, viewDecision } from '../../../src/admin/view-access';
import { silentLogger } from '../../../src/util/log';

const TOKEN = 'admin-secret';
const NOW = 1_800_000_000;

describe('viewDecision', () => {
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const cookie = (v: string) => ({ cookie: `theme=dark; ${UI_SESSION_COOKIE}=${v}` });

  it('lets a peer on this machine read, token or not', () => {
    expect(viewDecision({}, true, TOKEN, 'token', NOW)).toEqual({ allowed: true });
    expect(viewDecision({}, true, undefined, 'token', NOW)).toEqual({ allowed: true });
  });

  it('asks a network peer for the token, and takes it as a bearer or a live page session', () => {
    expect(viewDecision({}, false, TOKEN, 'token', NOW)).toMatchObject({
      allowed: false,
      status: 401,
      error: expect.stringMatching(/admin\.tokenFile/),
    });
    expect(viewDecision(bearer('admin-secre'), false, TOKEN, 'token', NOW)).toMatchObject({ allowed: false, status: 401 });
    expect(viewDecision(bearer(TOKEN), false, TOKEN, 'token', NOW)).toEqual({ allowed: true });
    expect(viewDecision(cookie(uiSessionValue(TOKEN, NOW + 60)), false, TOKEN, 'token', NOW)).toEqual({ allowed: true });
  });

  it('refuses a session that expired, was made with another token, or had its expiry changed', () => {
    expect(viewDecision(cookie(uiSessionValue(TOKEN, NOW)), false, TOKEN, 'token', NOW)).toMatchObject({ allowed: false, status: 401 });
    expect(viewDecision(cookie(uiSessionValue('old-token', NOW + 60)), false, TOKEN, 'token', NOW)).toMatchObject({ allowed: false });
    const mac = uiSessionValue(TOKEN, NOW + 60).split('.')[1];
    expect(viewDecision(cookie(`${NOW + 999_999}.${mac}`), false, TOKEN, 'token', NOW)).toMatchObject({ allowed: false });
    expect(viewDecision(cookie('garbage'), false, TOKEN, 'token', NOW)).toMatchObject({ allowed: false });
  });

  it('refuses network peers outright on a port without a token, naming both ways out', () => {
    const d = viewDecision(bearer('anything'), false, undefined, 'token', NOW);
    expect(d).toMatchObject({ allowed: false, status: 403 });
    expect(d.allowed ? '' : d.error).toMatch(/admin\.tokenFile.*admin\.viewAccess open/);
  });

  it('leaves the views to whatever guards the port with admin.viewAccess open', () => {
    expect(viewDecision({}, false, undefined, 'open', NOW)).toEqual({ allowed: true });
    expect(viewDecision({}, false, TOKEN, 'open', NOW)).toEqual({ allowed: true });
  });
});

describe('the pieces of the check', () => {
  it('guards the views and the progress reads, not the probes or /metrics', () => {
    for (const p of ['/status', '/proxy-status', '/config-dump', '/rebalance', '/drain/b1', '/ui', '/ui/', '/ui/events', '/ui/app.js']) {
      expect([p, isViewPath(p)]).toEqual([p, true]);
    }
    for (const p of ['/healthz', '/readyz', '/metrics', '/uix', '/statusz']) expect([p, isViewPath(p)]).toEqual([p, false]);
  });

  it('knows loopback peers as Node reports them', () => {
    expect(['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1'].map(isLoopbackPeer)).toEqual([true, true, true, true]);
    expect(['10.0.0.5', '::ffff:10.0.0.5', 'fe80::1', '', undefined].map(isLoopbackPeer)).toEqual([false, false, false, false, false]);
  });

  it('reads one cookie out of a header', () => {
    expect(cookieValue('a=1; b = 2 ;c=3', 'b')).toBe('2');
    expect(cookieValue('a=1; a=2', 'a')).toBe('1');
    expect(cookieValue('ab=1', 'a')).toBeUndefined();
    expect(cookieValue(undefined, 'a')).toBeUndefined();
  });
});

describe('the admin port to a network peer', () => {
  let server: AdminServer;
  let base: string;

  async function start(opts: { token?: string; viewAccess?: 'token' | 'open'; local?: boolean }): Promise<void> {
    server = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger: silentLogger,
      readiness: () => ({ ready: true, reason: 'ok' }),
      status: () => ({ brokers: ['b1'] }),
      token: opts.token,
      viewAccess: opts.viewAccess,
      // The test's requests come from loopback; here they stand for a peer on the network.
      peerIsLocal: () => opts.local ?? false,
      page: { view: () => ({ brokers: [] }), intervalMs: 20, heartbeatMs: 60_000, maxLifetimeMs: 60_000 },
      views: {
        proxyStatus: () => ({ status: 200, body: { proxies: [] } }),
        configDump: () => ({ status: 200, body: { resources: [] } }),
      },
    });
    base = `http://127.0.0.1:${await server.start()}`;
  }
  afterEach(() => server.stop());

  const signIn = (token: string) =>
    fetch(`${base}/ui/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });

  it('keeps probes and metrics open, and asks for the token for every view', async () => {
    await start({ token: TOKEN });
    for (const p of ['/healthz', '/readyz', '/metrics']) expect([p, (await fetch(base + p)).status]).toEqual([p, 200]);
    for (const p of ['/status', '/proxy-status', '/config-dump?node=x', '/ui/events', '/ui/app.css']) {
      const res = await fetch(base + p);
      expect([p, res.status]).toEqual([p, 401]);
      expect(await res.json()).toEqual({ error: expect.stringMatching(/Authorization: Bearer/) });
    }
    const ok = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ brokers: ['b1'] });
  });

  it('gives a browser the sign-in form, and a page session for the right token only', async () => {
    await start({ token: TOKEN });
    const form = await fetch(`${base}/ui`);
    expect(form.status).toBe(401);
    expect(form.headers.get('content-security-policy')).toMatch(/form-action 'self'/);
    expect(await form.text()).toMatch(/<form method="post" action="\/ui\/login">/);

    const wrong = await signIn('nope');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toMatch(/not the admin token/);

    const right = await signIn(TOKEN);
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/ui');
    const setCookie = right.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/HttpOnly; SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);
    const session = setCookie.split(';')[0];
    const page = await fetch(`${base}/ui`, { headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/mqtt-xds status/);
    // The session reads the page's feed, and the JSON views too (the same reads, in a browser).
    const events = await fetch(`${base}/ui/events`, { method: 'HEAD', headers: { cookie: session } });
    expect(events.status).toBe(200);
    expect((await fetch(`${base}/status`, { headers: { cookie: session } })).status).toBe(200);
  });

  it('reads no more of a sign-in than a form needs', async () => {
    await start({ token: TOKEN });
    const res = await fetch(`${base}/ui/login`, { method: 'POST', body: 'token=' + 'x'.repeat(10_000) }).catch((e: Error) => e);
    // Node may answer 413 or see the socket closed while it still sends; either way no session.
    if (res instanceof Error) expect(res.message).toMatch(/fetch failed/);
    else {
      expect(res.status).toBe(413);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    expect((await fetch(`${base}/ui/login`)).status).toBe(405);
  });

  it('refuses every view to the network on a port without a token, and offers no sign-in', async () => {
    await start({});
    const res = await fetch(`${base}/status`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/admin\.tokenFile/) });
    expect((await fetch(`${base}/ui`)).status).toBe(403);
    expect((await signIn('')).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('serves the views to anyone with admin.viewAccess open, and to a peer on this machine', async () => {
    await start({ viewAccess: 'open' });
    expect((await fetch(`${base}/status`)).status).toBe(200);
    await server.stop();
    await start({ token: TOKEN, local: true });
    expect((await fetch(`${base}/status`)).status).toBe(200);
    expect((await fetch(`${base}/ui`)).status).toBe(200);
  });
});
