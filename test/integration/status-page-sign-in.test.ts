// The status page's sign-in in a real headless Chromium (Debian's, scripts/setup-browser):
// a browser on the network gets the form instead of the page, a wrong token is refused,
// and the right one opens the page, whose live feed then draws the brokers. The admin
// server runs in this process, bound to loopback like every test server; `peerIsLocal`
// makes its requests count as coming from the network.
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Registry } from 'prom-client';
import { AdminServer } from '../../src/admin';
import type { PageView } from '../../src/admin/status-view';
import { silentLogger } from '../../src/util/log';
import { waitFor } from '../support';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const TOKEN = 'a-long-random-admin-token';

const VIEW: PageView = {
  version: '0.1.0',
  ready: { ready: true, reason: 'serving snapshot abc' },
  snapshot: 'abc',
  mode: 'dynamic',
  rebalanceMode: 'off',
  brokers: [
    { name: 'hivemq-0', weight: 400, health: 'SERVING', excluded: false, capacitySource: 'cpu', reason: 'headroom' },
    { name: 'hivemq-1', weight: 600, health: 'SERVING', excluded: false, capacitySource: 'cpu', reason: 'headroom' },
  ],
  proxies: [],
  omittedProxies: 0,
  moves: [],
  certificates: [],
};

describe('signing in to the status page from the network, in Chromium', () => {
  let server: AdminServer;
  let base: string;
  let browser: Browser;
  let page: Page;

  const texts = (selector: string): Promise<string[]> => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: run scripts/setup-browser (or set CHROMIUM_BIN)`);
    server = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      logger: silentLogger,
      readiness: () => ({ ready: true, reason: 'ok' }),
      status: () => ({}),
      token: TOKEN,
      peerIsLocal: () => false,
      page: { view: () => VIEW, intervalMs: 50 },
    });
    base = `http://127.0.0.1:${await server.start()}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the sign-in form, not the page, and refuses a wrong token', async () => {
    const res = await page.goto(`${base}/ui`);
    expect(res?.status()).toBe(401);
    expect(await page.title()).toBe('mqtt-xds status: sign in');
    expect(await page.$('#brokers')).toBeNull();
    await page.fill('#token', 'not-it');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    expect(await texts('[role=alert]')).toEqual(['That token is not the admin token.']);
    expect(await page.context().cookies()).toEqual([]);
  });

  it('opens the live page with the right token, on a session cookie the page script cannot read', async () => {
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForURL(`${base}/ui`), page.click('button[type=submit]')]);
    await waitFor(async () => (await texts('#brokers tr[data-broker] td.name')).join() === 'hivemq-0,hivemq-1', {
      timeoutMs: 15_000,
      what: 'the brokers drawn from the live feed',
    });
    expect(await texts('#live')).toEqual(['live']);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'mqtt_xds_ui', httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(cookie.value).not.toContain(TOKEN);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe('');
  });
});
