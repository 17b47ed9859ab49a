// Golden tests at every seam of the pipeline, and over the whole of it: a brokers file, a
// policy and metrics pages in, Envoy resources out as YAML. UPDATE_GOLDEN=1 rewrites them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { computeWeights } from '../../../src/balancing';
import { loadConfig, parsePolicy, type Policy } from '../../../src/config';
import { parseBrokersFile, resolveBrokers } from '../../../src/discovery';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { ControlPlane } from '../../../src/main';
import { Scraper, type FetchLike } from '../../../src/scraping';
import { buildResources } from '../../../src/translation';
import { createLogger } from '../../../src/util/log';

const testdata = path.join(__dirname, 'testdata');
const goldenDir = path.join(__dirname, '..', '..', 'golden', 'pipeline');
const NOW_MS = 1_800_000_000_000;
const logger = createLogger('error', { component: 'golden' });

function read(name: string): string {
  return fs.readFileSync(path.join(testdata, name), 'utf8');
}

function expectYamlGolden(name: string, actual: unknown): void {
  const file = path.join(goldenDir, `${name}.yaml`);
  // JSON first: drops undefined fields and gives every value the shape Envoy's JSON would.
  const text = stringify(JSON.parse(JSON.stringify(actual)), { lineWidth: 0 });
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(goldenDir, { recursive: true });
    fs.writeFileSync(file, text);
  }
  if (!fs.existsSync(file)) throw new Error(`golden file ${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
  expect(text).toEqual(fs.readFileSync(file, 'utf8'));
}

async function discover(): Promise<Broker[]> {
  const entries = parseBrokersFile(read('brokers.yaml'), 'brokers.yaml');
  if (!entries.ok) throw new Error(JSON.stringify(entries.problems));
  const brokers = await resolveBrokers(entries.value);
  if (!brokers.ok) throw new Error(JSON.stringify(brokers.problems));
  return brokers.value;
}

function policy(): Policy {
  const parsed = parsePolicy(read('policy.yaml'), 'policy.yaml');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

/** Serves testdata/<broker>.prom for each broker's metricsUrl, with no network. */
const pages: FetchLike = async (url) => {
  const host = new URL(String(url)).hostname;
  const name = { '10.0.0.11': 'hivemq-0', '10.0.0.12': 'hivemq-1', '10.0.0.13': 'hivemq-2' }[host];
  if (name === undefined) return new Response('not found', { status: 404 });
  return new Response(read(`${name}.prom`), { status: 200, headers: { 'content-type': 'text/plain' } });
};

async function scrape(brokers: readonly Broker[]): Promise<ReadonlyMap<string, BrokerLoad>> {
  const scraper = new Scraper({ logger, onLoads: () => undefined, fetch: pages, nowMs: () => NOW_MS });
  scraper.setBrokers(brokers);
  try {
    return await scraper.scrapeOnce();
  } finally {
    scraper.stop();
  }
}

function weigh(brokers: readonly Broker[], loads: ReadonlyMap<string, BrokerLoad>) {
  const p = policy();
  // The brokers were there before the control plane started: no slow start (as the planner seeds).
  const settled = NOW_MS - p.slowStart.windowMs;
  return computeWeights({
    brokers,
    loads,
    previous: { brokers: brokers.map((b) => ({ name: b.name, firstSeenMs: settled })), plan: { endpoints: [] } },
    policy: p,
    nowMs: NOW_MS,
    moving: new Map(),
  });
}

describe('pipeline golden files', () => {
  it('discovery: the brokers file becomes this Broker set', async () => {
    expectYamlGolden('1-brokers', await discover());
  });

  it('scraping: the metrics pages become these BrokerLoads', async () => {
    const loads = await scrape(await discover());
    expectYamlGolden('2-loads', Object.fromEntries(loads));
  });

  it('balancing: loads and policy become this WeightPlan, with the reasons', async () => {
    const brokers = await discover();
    const outcome = weigh(brokers, await scrape(brokers));
    expectYamlGolden('3-weight-plan', { plan: outcome.plan, decisions: outcome.decisions });
  });

  it('the whole pipeline: files and pages in, Envoy resources out', async () => {
    const loaded = loadConfig({ argv: [], env: {}, cwd: testdata });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const brokers = await discover();
    const outcome = weigh(brokers, await scrape(brokers));
    const plane = new ControlPlane({ config: loaded.value.config, logger });
    expectYamlGolden('4-envoy-resources', buildResources(plane.model(outcome.plan)));
  });
});
