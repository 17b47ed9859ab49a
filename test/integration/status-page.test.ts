// The status page in a real headless Chromium (Debian's, scripts/setup-browser) against a
// real control plane and a real Envoy: it lists the plane's brokers, shows a weight change
// without a reload, and shows an Envoy NACKing a listener with Envoy's own message.
// MQTT_XDS_SCREENSHOT=path saves a screenshot of the page at the end (docs/status-page.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { staticWeightPlan } from '../../src/balancing';
import { withOverrides } from '../../src/config';
import type { Broker } from '../../src/domain';
import type { ControlPlane } from '../../src/main';
import { buildResources } from '../../src/translation';
import { startBrokers, startEnvoy, stopBrokers, waitFor, type EnvoyHandle, type TestBroker } from '../support';
import { planeConfig, startPlane, writeBrokersFile, type PlaneSetup } from './plane';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const NODE = 'envoy-status-page';

describe('the status page in Chromium', () => {
  let brokers: TestBroker[];
  let setup: PlaneSetup;
  let plane: ControlPlane;
  let envoy: EnvoyHandle;
  let browser: Browser;
  let page: Page;

  /** The text of every cell matching `selector`, read in the page as it is now. */
  const texts = (selector: string): Promise<string[]> => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));
  const weights = async (): Promise<string> => {
    const names = await texts('#brokers tr[data-broker] td.name');
    const values = await texts('#brokers tr[data-broker] td.weight');
    return names.map((n, i) => `${n}=${values[i]}`).join(' ');
  };
  const ldsState = async (): Promise<string> => (await texts(`#proxies tr[data-node="${NODE}"] td[data-type="LDS"] .state`)).join();

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: run scripts/setup-browser (or set CHROMIUM_BIN)`);
    brokers = await startBrokers(2);
    setup = await planeConfig();
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[0], weight: 1 },
      { broker: brokers[1], weight: 3 },
    ]);
    // Static weights and no load reports: nothing republishes the listener over the broken one below.
    ({ plane } = await startPlane(withOverrides(setup.config, { balancing: { mode: 'static' } })));
    envoy = await startEnvoy({ mode: 'sotw', xdsPort: setup.config.xds.port, nodeId: NODE, waitReady: 'live', loadStats: false });
    await waitFor(async () => envoy.listenerReady(setup.config.listener.port), { timeoutMs: 30_000, what: 'a ready MQTT listener' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`http://127.0.0.1:${setup.config.admin.port}/ui`);
  });

  afterAll(async () => {
    await browser?.close();
    await envoy?.stop();
    await plane?.stop();
    await stopBrokers(brokers ?? []);
  });

  it("lists the running plane's brokers with their weights and the reason", async () => {
    await waitFor(async () => (await weights()) === `${brokers[0].name}=1 ${brokers[1].name}=3`, {
      timeoutMs: 15_000,
      what: 'both brokers on the page',
    });
    expect(await texts('#brokers tr[data-broker] td.health')).toEqual(['SERVING', 'SERVING']);
    expect((await texts('#brokers tr[data-broker] td.reason')).every((r) => r.length > 0)).toBe(true);
    expect(await texts('#live')).toEqual(['live']);
  });

  it('shows a weight change without a reload', async () => {
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    writeBrokersFile(setup.brokersFile, [
      { broker: brokers[0], weight: 7 },
      { broker: brokers[1], weight: 3 },
    ]);
    await waitFor(async () => (await weights()) === `${brokers[0].name}=7 ${brokers[1].name}=3`, {
      timeoutMs: 15_000,
      what: 'the new weight on the page',
    });
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
  });

  it("shows the Envoy SYNCED, then NACKED with Envoy's message for a listener it rejects", async () => {
    await waitFor(async () => (await ldsState()) === 'SYNCED', { timeoutMs: 20_000, what: 'LDS SYNCED on the page' });
    const current: Broker[] = brokers.map((b, i) => ({ name: b.name, address: '127.0.0.1', port: b.port, staticWeight: i === 0 ? 7 : 3 }));
    const good = buildResources(plane.model(staticWeightPlan(current)));
    const bad = JSON.parse(JSON.stringify(good));
    // Envoy binds listeners to IP literals only; our own validation does not look at it.
    bad.listeners[0].address.socket_address.address = 'not-an-ip';
    expect(plane.publish(bad)).toEqual([]);
    await waitFor(async () => (await ldsState()) === 'NACKED', { timeoutMs: 20_000, what: 'LDS NACKED on the page' });
    const message = (await texts(`#proxies tr[data-node="${NODE}"] td[data-type="LDS"] .nack`)).join();
    expect(message).toContain('not-an-ip');
    expect((await texts(`#proxies tr[data-node="${NODE}"] td[data-type="CDS"] .state`)).join()).toBe('SYNCED');
    const shot = process.env.MQTT_XDS_SCREENSHOT;
    if (shot) {
      fs.mkdirSync(path.dirname(shot), { recursive: true });
      await page.screenshot({ path: shot });
    }
    expect(plane.publish(good)).toEqual([]);
    await waitFor(async () => (await ldsState()) === 'SYNCED', { timeoutMs: 20_000, what: 'LDS SYNCED again on the page' });
  });
});
