// One strategy through one scenario: fresh brokers, the balancer, the clients, the
// scenario's events on schedule (run-events.ts) and a sample every second, then
// everything stopped. Every process is started here and stopped here, also when
// something fails. Drains are followed closely (drain-watch.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { launchCapacityBroker, type LaunchedBroker } from '../../tools/testbroker';
import { connectClients } from '../../support/mqtt-clients';
import { sleep } from '../../support/wait';
import { startBalancer, type Balancer, type BrokerAddress, type InstanceView } from './balancers';
import { ClientFleet } from './clients';
import type { DrainWatch } from './drain-watch';
import { NoiseProxy } from './noise-proxy';
import { brokerCpuOptions } from './scenario-broker-cpu';
import { applyEvent, round, within } from './run-events';
import { readsMetrics, type RunPlan } from './run-plan';
import { brokersPresentAt, METRICS_EVENT_KINDS, type Scenario, type ScenarioEvent } from './scenario';
import { PlacementLog } from './stickiness';
import type { BrokerSample, DrainRecord, EventRecord, KillRecord, Sample, StrategyRun } from './samples';

const SAMPLE_PERIOD_MS = 1000;

export interface RunOptions {
  readonly scenario: Scenario;
  /** The strategy, the row's label and, for mqtt-xds, the scrape settings of this run. */
  readonly plan: RunPlan;
  readonly workDir: string;
  readonly log: (message: string) => void;
  /** Set by the caller on SIGINT: the run ends early and still cleans up. */
  readonly aborted: () => boolean;
}

export async function runStrategy(opts: RunOptions): Promise<StrategyRun> {
  const { scenario, log } = opts;
  const { strategy, label } = opts.plan;
  const started = Date.now();
  fs.mkdirSync(opts.workDir, { recursive: true });
  const brokers = new Map<string, LaunchedBroker>();
  const stopped = new Set<string>();
  let proxy: NoiseProxy | undefined;
  let balancer: Balancer | undefined;
  let fleet: ClientFleet | undefined;
  const timers: NodeJS.Timeout[] = [];
  const drains: DrainWatch[] = [];
  const kills: KillRecord[] = [];
  // A fresh token per run; the brokers and mqtt-xds read it, nothing else.
  const agentToken = scenario.agents ? randomBytes(16).toString('hex') : undefined;
  try {
    const launched = await Promise.all(
      scenario.brokers.map((b, i) =>
        launchCapacityBroker({
          name: b.name,
          capacity: b.capacity,
          noise: b.cpuNoise,
          ...brokerCpuOptions(b.cpu),
          seed: scenario.seed + i + 1,
          ...(agentToken === undefined ? {} : { agentToken }),
        }),
      ),
    );
    for (const b of launched) brokers.set(b.name, b);

    // Only when something is to be done to the pages, so every other run scrapes the brokers directly.
    const badMetrics = readsMetrics(strategy) && scenario.events.some((e) => METRICS_EVENT_KINDS.includes(e.kind));
    if (badMetrics) {
      proxy = new NoiseProxy(scenario.seed);
      await proxy.start();
    }
    const addresses = new Map<string, BrokerAddress>(
      launched.map((b) => [
        b.name,
        {
          name: b.name,
          host: b.host,
          port: b.port,
          metricsUrl: proxy ? proxy.route(b.name, b.metricsUrl) : b.metricsUrl,
          ...(agentToken === undefined ? {} : { agentUrl: b.agentUrl }),
        },
      ]),
    );
    balancer = await startBalancer({
      scenario,
      strategy,
      brokers: addresses,
      workDir: opts.workDir,
      log,
      ...(agentToken === undefined ? {} : { agentToken }),
      ...(opts.plan.scrape ? { scrape: opts.plan.scrape } : {}),
    });
    await probe(balancer);

    const edsPushesAtStart = await balancer.edsPushes?.().catch(() => undefined);
    const t0 = Date.now();
    const placements = new PlacementLog(t0);
    const tNow = (): number => (Date.now() - t0) / 1000;
    const events: EventRecord[] = [];
    const b = balancer;
    const p = proxy;
    for (const event of scenario.events) {
      timers.push(
        setTimeout(() => {
          void applyEvent(event, { balancer: b, brokers, stopped, proxy: p, timers, scenario, drains, kills, tNow }).then(
            (detail) => events.push({ atSec: round(tNow()), kind: event.kind, ...brokerOf(event), ...(detail ? { detail } : {}) }),
            (err: Error) => {
              log(`event ${event.kind} at ${event.atSec} s failed: ${err.message}`);
              events.push({ atSec: round(tNow()), kind: event.kind, ...brokerOf(event), error: err.message });
            },
          );
        }, event.atSec * 1000),
      );
    }
    fleet = new ClientFleet(scenario, [balancer.endpoint], `${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${started.toString(36)}`);
    fleet.start(t0);

    const samples: Sample[] = [];
    for (let k = 1; k <= scenario.durationSec && !opts.aborted(); k++) {
      const wait = t0 + k * SAMPLE_PERIOD_MS - Date.now();
      if (wait > 0) await sleep(wait);
      // A sample that fell more than a period behind is skipped rather than bunched.
      if (Date.now() - (t0 + k * SAMPLE_PERIOD_MS) > SAMPLE_PERIOD_MS) continue;
      samples.push(await takeSample(tNow(), scenario, brokers, stopped, fleet, b, placements));
      if (k % 10 === 0) log(progressLine(samples[samples.length - 1]));
    }
    const drainRecords: DrainRecord[] = [];
    for (const d of drains) drainRecords.push(await d.stop());
    const countersAtEnd = b.counters ? await within(b.counters(), 2000).catch(() => undefined) : undefined;
    return {
      strategy,
      label,
      ...(opts.plan.scrape ? { scrape: opts.plan.scrape } : {}),
      samples,
      events: events.sort((x, y) => x.atSec - y.atSec),
      ...(edsPushesAtStart === undefined ? {} : { edsPushesAtStart }),
      timeline: fleet.timeline(),
      ...(drainRecords.length > 0 ? { drains: drainRecords } : {}),
      ...(kills.length > 0 ? { kills } : {}),
      ...(countersAtEnd ? { countersAtEnd } : {}),
      placements: placements.connections(),
      wallSec: round((Date.now() - started) / 1000),
      workDir: opts.workDir,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    await Promise.all(drains.map((d) => d.stop().catch(() => undefined)));
    await fleet?.stop();
    await balancer?.stop().catch((err: Error) => log(`stopping the balancer: ${err.message}`));
    await Promise.all([...brokers.values()].map((b) => b.stop()));
    await proxy?.stop();
  }
}

async function takeSample(
  tSec: number,
  scenario: Scenario,
  brokers: ReadonlyMap<string, LaunchedBroker>,
  stopped: ReadonlySet<string>,
  fleet: ClientFleet,
  balancer: Balancer,
  placements: PlacementLog,
): Promise<Sample> {
  const present = brokersPresentAt(scenario, tSec);
  // Who is connected where, for stickiness; a broker that does not answer in time is skipped this second.
  const observed = Promise.all(
    [...brokers.values()].map(async (b) => {
      if (stopped.has(b.name)) return;
      const clients = await within(b.clients(), 2000).catch(() => undefined);
      if (clients) placements.observe(b.name, clients);
    }),
  );
  const states = await Promise.all(
    [...brokers.values()].map(async (b): Promise<BrokerSample | undefined> => {
      if (stopped.has(b.name)) return undefined;
      const s = await within(b.state(), 2000).catch(() => undefined);
      if (!s) return undefined;
      return {
        name: b.name,
        present: present.has(b.name),
        capacity: s.capacity,
        cost: s.cost,
        utilisation: s.utilisation,
        connections: s.connections,
        overloadLevel: s.overloadLevel,
        clientConnects: s.clientConnects,
      };
    }),
  );
  const [views, edsPushes, rebalanceDisconnects, suspects, capacities] = await Promise.all([
    balancer.views ? within(balancer.views(), 2000).catch((): InstanceView[] | undefined => undefined) : undefined,
    balancer.edsPushes ? within(balancer.edsPushes(), 2000).catch(() => undefined) : undefined,
    balancer.rebalanceDisconnects ? within(balancer.rebalanceDisconnects(), 2000).catch(() => undefined) : undefined,
    balancer.suspects ? within(balancer.suspects(), 2000).catch(() => undefined) : undefined,
    balancer.capacities ? within(balancer.capacities(), 2000).catch(() => undefined) : undefined,
  ]);
  await observed;
  return {
    tSec: round(tSec),
    brokers: states.filter((s): s is BrokerSample => s !== undefined),
    clients: fleet.snapshot(),
    ...(views ? { views } : {}),
    ...(edsPushes === undefined ? {} : { edsPushes }),
    ...(rebalanceDisconnects === undefined ? {} : { rebalanceDisconnects }),
    ...(suspects && Object.keys(suspects).length > 0 ? { suspects } : {}),
    ...(capacities && Object.keys(capacities).length > 0 ? { capacities } : {}),
  };
}

/** One client through the balancer and back, so t = 0 starts with a working path. */
async function probe(balancer: Balancer): Promise<void> {
  const pool = await connectClients({ ...balancer.endpoint, count: 1, prefix: 'bench-probe', connectTimeoutMs: 10_000 });
  await pool.endAll();
}

function brokerOf(e: ScenarioEvent): { broker?: string } {
  return 'broker' in e && e.broker !== undefined ? { broker: e.broker } : {};
}

function progressLine(s: Sample): string {
  const brokers = s.brokers.map((b) => `${b.name} ${(b.utilisation * 100).toFixed(0)}%/${b.connections}`).join('  ');
  return `  t=${s.tSec.toFixed(0)}s  ${brokers}  clients ${s.clients.connected} (failed ${s.clients.failed}, disconnects ${s.clients.disconnects})`;
}
