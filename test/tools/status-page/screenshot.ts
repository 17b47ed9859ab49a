// Takes docs/images/status-page.png: a control plane in metrics mode over three capacity test
// brokers, a real Envoy, clients arriving in waves and one broker drained, with the page open
// in Debian's chromium the whole time so its chart has a history.
//   npm run build && ENVOY_BIN=… node dist/test/tools/status-page/screenshot.js [out.png]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { withOverrides } from '../../../src/config';
import { planeConfig, startPlane } from '../../integration/plane';
import { connectClients, sleep, startEnvoy, untilHealthy, type ClientPool } from '../../support';
import { REPO_ROOT } from '../../support/repo-root';
import { launchCapacityBroker } from '../testbroker/launch';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'docs', 'images', 'status-page.png'));
  const brokers = await Promise.all([
    launchCapacityBroker({ name: 'hivemq-0', capacity: 120 }),
    launchCapacityBroker({ name: 'hivemq-1', capacity: 120 }),
    launchCapacityBroker({ name: 'hivemq-2', capacity: 60 }),
  ]);
  const setup = await planeConfig();
  fs.writeFileSync(
    setup.brokersFile,
    'brokers:\n' +
      brokers
        .map(
          (b) =>
            `  - name: ${b.name}\n    host: 127.0.0.1\n    port: ${b.port}\n    metricsUrl: ${b.metricsUrl}\n    agentUrl: ${b.agentUrl}\n`,
        )
        .join(''),
  );
  const config = withOverrides(setup.config, {
    balancing: { mode: 'metrics', minPushIntervalMs: 300 },
    scrape: { intervalMs: 500, timeoutMs: 400 },
  });
  const { plane } = await startPlane(config);
  const envoy = await startEnvoy({ mode: 'delta', xdsPort: config.xds.port, nodeId: 'edge-envoy-0', waitReady: 'live' });
  const pools: ClientPool[] = [];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    await untilHealthy(envoy, 3, 'three healthy brokers');
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`http://127.0.0.1:${config.admin.port}/ui`);
    for (let wave = 0; wave < 6; wave++) {
      pools.push(await connectClients({ host: '127.0.0.1', port: config.listener.port, count: 20, prefix: `wave${wave}` }));
      await sleep(8000);
    }
    const drain = await fetch(`http://127.0.0.1:${config.admin.port}/drain/hivemq-2`, { method: 'POST' });
    console.log(`drain hivemq-2: ${drain.status}`);
    await sleep(4000);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
    await Promise.all(pools.map((p) => p.endAll()));
    await envoy.stop();
    await plane.stop();
    await Promise.all(brokers.map((b) => b.stop()));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
