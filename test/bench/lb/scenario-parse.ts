// Scenario YAML → Scenario, with every problem listed by path and line. The membership
// timeline (joins and leaves) is checked by replaying it, so an event that names a broker
// that is not there at that moment is refused before anything starts.
import YAML from 'yaml';
import { parsePolicy } from '../../../src/config/policy';
import { fail, ok, type Problem, type Result } from '../../../src/util/result';
import { parseYamlDoc } from '../../../src/util/yaml-doc';
import { TRAFFIC_KINDS, type BrokerSpec, type Population, type Scenario, type ScenarioEvent, type Traffic } from './scenario';
import { PRODUCTION_SCRAPE } from './run-plan';
import { checkTimeline, MAX_DURATION_SEC, readEvent, readSteadyState, readWindow } from './scenario-events-parse';
import { readBrokerCpu } from './scenario-broker-cpu';
import { FieldReader, type PathPart } from './scenario-fields';

// Guards for a 2-core machine: the broker's capacity model, not real CPU, must be the bottleneck.
export const MAX_TOTAL_CLIENTS = 4000;
export const MAX_TOTAL_PUBLISH_PER_SEC = 1000;

// Broker names end up in the brokers file, the policy and HAProxy/NGINX server names.
const BROKER_NAME = { re: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, allowed: 'lower-case letters, digits and "-"' };
const POPULATION_NAME = { re: /^[A-Za-z0-9][A-Za-z0-9_-]*$/, allowed: 'letters, digits, "_" and "-"' };
const TOPIC = { re: /^[^#+\u0000]+(\/#)?$/, allowed: 'a topic without wildcards, optionally ending in "/#"' };

const DEFAULT_TOPIC: Record<Traffic['kind'], string> = {
  'cheap-publisher': 'bench/cheap',
  'fanout-publisher': 'bench/fanout',
  subscriber: 'bench/fanout',
  'shared-subscriber': 'bench/cheap/#',
};

export function parseScenario(text: string, source: string): Result<Scenario> {
  const yaml = parseYamlDoc(text, { path: source, code: 'SCENARIO_SYNTAX' });
  if (yaml.syntaxProblems.length > 0) return fail(yaml.syntaxProblems);
  if (yaml.empty) return fail([{ code: 'SCENARIO_EMPTY', path: source, message: 'the scenario file is empty' }]);
  const r = new FieldReader(yaml);
  const root = r.object(
    yaml.doc.toJS(),
    [],
    [
      'name',
      'durationSec',
      'scrapeIntervalMs',
      'seed',
      'brokers',
      'populations',
      'events',
      'envoys',
      'steadyStateSec',
      'spikeWindowSec',
      'policy',
      'agents',
      'rebalanceTickMs',
    ],
  );
  if (!root) return fail(r.problems);

  const name = r.string(root.name, ['name'], POPULATION_NAME);
  const durationSec = r.number(root.durationSec, ['durationSec'], { min: 5, max: MAX_DURATION_SEC });
  const scrapeIntervalMs =
    r.optionalNumber(root.scrapeIntervalMs, ['scrapeIntervalMs'], { min: 100, max: 60_000, integer: true }) ??
    // Left out: mqtt-xds's own default, so the scenario measures what ships.
    (root.scrapeIntervalMs === undefined ? PRODUCTION_SCRAPE.intervalMs : undefined);
  const seed = r.optionalNumber(root.seed, ['seed'], { min: 0, max: 2 ** 32 - 1, integer: true }) ?? 1;
  const envoys = r.optionalNumber(root.envoys, ['envoys'], { min: 1, max: 2, integer: true }) ?? 1;
  const agents = r.optionalBoolean(root.agents, ['agents']) ?? false;
  const rebalanceTickMs = r.optionalNumber(root.rebalanceTickMs, ['rebalanceTickMs'], { min: 100, max: 60_000, integer: true });

  const rawBrokers = r.list(root.brokers, ['brokers']) ?? [];
  const brokerEntries = rawBrokers.map((b, i) => readBroker(r, b, ['brokers', i]));
  const brokers = brokerEntries.filter((b): b is BrokerEntry => b !== undefined);
  // Names of every listed broker, valid or not, so one bad capacity does not make events "unknown".
  const names = new Set<string>();
  rawBrokers.forEach((b, i) => {
    const n = (b as { name?: unknown } | null)?.name;
    if (typeof n !== 'string') return;
    if (names.has(n)) r.report(['brokers', i, 'name'], 'SCENARIO_DUPLICATE', `broker "${n}" is listed twice`);
    names.add(n);
  });

  const populations = (r.list(root.populations, ['populations']) ?? [])
    .map((p, i) => readPopulation(r, p, ['populations', i]))
    .filter((p): p is Population => p !== undefined);
  const popNames = new Set<string>();
  populations.forEach((p, i) => {
    if (popNames.has(p.name)) r.report(['populations', i, 'name'], 'SCENARIO_DUPLICATE', `population "${p.name}" is listed twice`);
    popNames.add(p.name);
  });
  if (Array.isArray(root.populations) && root.populations.length === 0) {
    r.report(['populations'], 'SCENARIO_MISSING', 'needs at least one population');
  }
  const totalClients = populations.reduce((n, p) => n + p.count, 0);
  if (totalClients > MAX_TOTAL_CLIENTS) {
    r.report(['populations'], 'SCENARIO_TOO_BIG', `${totalClients} clients in all; this benchmark allows at most ${MAX_TOTAL_CLIENTS}`);
  }
  const totalRate = populations.reduce((n, p) => n + p.count * p.traffic.publishPerSec, 0);
  if (totalRate > MAX_TOTAL_PUBLISH_PER_SEC) {
    r.report(
      ['populations'],
      'SCENARIO_TOO_BIG',
      `${totalRate.toFixed(0)} PUBLISH/s in all; at most ${MAX_TOTAL_PUBLISH_PER_SEC}, raise capacities' scale instead`,
    );
  }

  const listed = (r.list(root.events, ['events'], { optional: true }) ?? [])
    .map((e, i) => ({ event: readEvent(r, e, ['events', i], names), path: ['events', i] as PathPart[] }))
    .filter((e): e is { event: ScenarioEvent; path: PathPart[] } => e.event !== undefined);
  for (const b of brokers) {
    if (b.startSec !== undefined)
      listed.push({ event: { atSec: b.startSec, kind: 'broker-join', broker: b.spec.name }, path: [...b.path, 'startSec'] });
    if (b.stopSec !== undefined)
      listed.push({ event: { atSec: b.stopSec, kind: 'broker-leave', broker: b.spec.name }, path: [...b.path, 'stopSec'] });
  }
  // Stable: at the same second, file order (joins from startSec after listed events).
  listed.sort((a, b) => a.event.atSec - b.event.atSec);
  const joined = new Set(listed.filter((e) => e.event.kind === 'broker-join').map((e) => (e.event as { broker: string }).broker));
  const initialBrokers = brokers.map((b) => b.spec.name).filter((n) => !joined.has(n));
  // The timeline is only checked over a complete broker list; otherwise it would repeat earlier problems.
  if (brokers.length === rawBrokers.length && rawBrokers.length > 0) {
    if (initialBrokers.length === 0) {
      r.report(['brokers'], 'SCENARIO_NO_BROKERS', 'every broker joins later; at least one must be there at t = 0');
    }
    checkTimeline(r, initialBrokers, listed, durationSec);
  }

  const steadyState = readSteadyState(r, root.steadyStateSec, durationSec);
  const spikeWindow =
    root.spikeWindowSec === undefined || durationSec === undefined
      ? undefined
      : readWindow(r, root.spikeWindowSec, ['spikeWindowSec'], durationSec);
  let policyYaml: string | undefined;
  if (root.policy !== undefined) {
    policyYaml = YAML.stringify(root.policy);
    const parsed = parsePolicy(policyYaml, 'policy');
    if (!parsed.ok) {
      for (const p of parsed.problems) {
        r.report(['policy'], p.code, `${p.path === 'policy' || p.path === '' ? '' : `policy.${p.path}: `}${p.message}`);
      }
    }
  }

  if (r.problems.length > 0 || name === undefined || durationSec === undefined || scrapeIntervalMs === undefined || !steadyState) {
    return fail(r.problems.length ? r.problems : [{ code: 'SCENARIO_INVALID', path: source, message: 'invalid scenario' }]);
  }
  return ok({
    name,
    durationSec,
    scrapeIntervalMs,
    seed,
    brokers: brokers.map((b) => b.spec),
    initialBrokers,
    populations,
    events: listed.map((e) => e.event),
    envoys: envoys as 1 | 2,
    steadyState,
    ...(spikeWindow === undefined ? {} : { spikeWindow }),
    ...(policyYaml === undefined ? {} : { policyYaml }),
    agents,
    ...(rebalanceTickMs === undefined ? {} : { rebalanceTickMs }),
  });
}

interface BrokerEntry {
  spec: BrokerSpec;
  startSec?: number;
  stopSec?: number;
  path: PathPart[];
}

function readBroker(r: FieldReader, value: unknown, path: PathPart[]): BrokerEntry | undefined {
  const b = r.object(value, path, ['name', 'capacity', 'startSec', 'stopSec', 'cpuNoise', 'cpu']);
  if (!b) return undefined;
  const name = r.string(b.name, [...path, 'name'], BROKER_NAME);
  const capacity = r.number(b.capacity, [...path, 'capacity'], { min: 0, max: 1e9, minExclusive: true });
  const startSec = r.optionalNumber(b.startSec, [...path, 'startSec'], { min: 0, max: MAX_DURATION_SEC, minExclusive: true });
  const stopSec = r.optionalNumber(b.stopSec, [...path, 'stopSec'], { min: 0, max: MAX_DURATION_SEC, minExclusive: true });
  const cpuNoise = r.optionalNumber(b.cpuNoise, [...path, 'cpuNoise'], { min: 0, max: 0.99 }) ?? 0;
  const cpu = readBrokerCpu(r, b.cpu, [...path, 'cpu']);
  if (startSec !== undefined && stopSec !== undefined && stopSec <= startSec) {
    r.report([...path, 'stopSec'], 'SCENARIO_ORDER', `stopSec (${stopSec}) must come after startSec (${startSec})`);
  }
  if (name === undefined || capacity === undefined) return undefined;
  return { spec: { name, capacity, cpuNoise, cpu }, startSec, stopSec, path };
}

function readPopulation(r: FieldReader, value: unknown, path: PathPart[]): Population | undefined {
  const p = r.object(value, path, ['name', 'count', 'arrival', 'lifetimeSec', 'reconnect', 'traffic']);
  if (!p) return undefined;
  const name = r.string(p.name, [...path, 'name'], POPULATION_NAME);
  const count = r.number(p.count, [...path, 'count'], { min: 1, max: MAX_TOTAL_CLIENTS, integer: true });
  const arrival = r.object(p.arrival, [...path, 'arrival'], ['startSec', 'rampSec']);
  const startSec = arrival && r.number(arrival.startSec, [...path, 'arrival', 'startSec'], { min: 0, max: MAX_DURATION_SEC });
  const rampSec = arrival && r.number(arrival.rampSec ?? 0, [...path, 'arrival', 'rampSec'], { min: 0, max: MAX_DURATION_SEC });
  const lifetimeSec = r.optionalNumber(p.lifetimeSec, [...path, 'lifetimeSec'], { min: 1, max: 86_400 });
  const rc = p.reconnect === undefined ? {} : r.object(p.reconnect, [...path, 'reconnect'], ['minBackoffMs', 'maxBackoffMs']);
  const minBackoffMs =
    rc && r.number(rc.minBackoffMs ?? 200, [...path, 'reconnect', 'minBackoffMs'], { min: 10, max: 600_000, integer: true });
  const maxBackoffMs =
    rc && r.number(rc.maxBackoffMs ?? 10_000, [...path, 'reconnect', 'maxBackoffMs'], { min: 10, max: 600_000, integer: true });
  if (minBackoffMs !== undefined && maxBackoffMs !== undefined && maxBackoffMs < minBackoffMs) {
    r.report(
      [...path, 'reconnect', 'maxBackoffMs'],
      'SCENARIO_ORDER',
      `maxBackoffMs (${maxBackoffMs}) is below minBackoffMs (${minBackoffMs})`,
    );
  }
  const traffic = readTraffic(r, p.traffic, [...path, 'traffic']);
  if (
    name === undefined ||
    count === undefined ||
    startSec === undefined ||
    rampSec === undefined ||
    minBackoffMs === undefined ||
    maxBackoffMs === undefined ||
    traffic === undefined
  ) {
    return undefined;
  }
  return {
    name,
    count,
    arrival: { startSec, rampSec },
    ...(lifetimeSec === undefined ? {} : { lifetimeSec }),
    reconnect: { minBackoffMs, maxBackoffMs },
    traffic,
  };
}

function readTraffic(r: FieldReader, value: unknown, path: PathPart[]): Traffic | undefined {
  const t = r.object(value, path, ['kind', 'publishPerSec', 'topic', 'group']);
  if (!t) return undefined;
  const kind = r.oneOf(t.kind, [...path, 'kind'], TRAFFIC_KINDS);
  if (!kind) return undefined;
  const publishes = kind === 'cheap-publisher' || kind === 'fanout-publisher';
  let publishPerSec = 0;
  if (publishes) {
    publishPerSec = r.number(t.publishPerSec, [...path, 'publishPerSec'], { min: 0, max: 10, minExclusive: true }) ?? 0;
  } else if (t.publishPerSec !== undefined) {
    r.report([...path, 'publishPerSec'], 'SCENARIO_NOT_ALLOWED', `a ${kind} does not publish`);
  }
  const topic = r.string(t.topic ?? DEFAULT_TOPIC[kind], [...path, 'topic'], TOPIC);
  if (topic?.endsWith('/#') && publishes) {
    r.report([...path, 'topic'], 'SCENARIO_FORMAT', 'a publisher needs a topic without "#"');
  }
  if (t.group !== undefined && kind !== 'shared-subscriber') {
    r.report([...path, 'group'], 'SCENARIO_NOT_ALLOWED', 'only a shared-subscriber has a share group');
  }
  const group = r.string(t.group ?? 'g', [...path, 'group'], { re: /^[^/+#]+$/, allowed: 'no "/", "+" or "#"' });
  if (topic === undefined || group === undefined) return undefined;
  return { kind, publishPerSec, topic, group };
}

export function describeProblems(problems: readonly Problem[], source: string): string {
  return problems.map((p) => `  ${source}${p.line === undefined ? '' : `:${p.line}`}: ${p.path}: ${p.message} [${p.code}]`).join('\n');
}
