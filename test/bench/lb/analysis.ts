// Pure: a strategy's samples → the numbers the report compares. docs/lb-benchmark.md
// defines each one; the definitions here are the reference.
import type { ClientStats } from './clients';
import { analyseMoves, type MoveResults } from './move-results';
import { readsMetrics, type ScrapeSettings } from './run-plan';
import type { Sample, StrategyRun } from './samples';
import type { Scenario, StrategyName } from './scenario';
import { stickiness, type BrokerSetChange, type StickinessResult } from './stickiness';
import {
  capacityErrors,
  firstSuspects,
  imbalanceOf,
  inWindow,
  mean,
  oscillation,
  round,
  windowResult,
  type CapacityResult,
  type OscillationResult,
  type SuspectResult,
  type WindowResult,
} from './window-metrics';

export { imbalanceOf, round };

export interface JoinResult {
  readonly broker: string;
  readonly joinSec: number;
  /** Seconds from the join until the broker first held ≥ 90 % of its fair share of cost; null = never. */
  readonly t90Sec: number | null;
}

export interface EdsResult {
  /** EDS responses per Envoy from t = 0 to the end. */
  readonly perEnvoy: number;
  /** EDS responses per Envoy per 5 s, averaged over the steady-state window. */
  readonly per5sSteady: number | null;
  /** Most EDS responses per Envoy in any 5 s of the run. */
  readonly max5s: number;
}

export interface TwoEnvoyResult {
  readonly compared: number;
  readonly identical: number;
  /** Client connections each instance accepted. */
  readonly accepted: readonly number[];
}

/** The move, drain and kill results (move-results.ts) come along when the scenario has them. */
export interface StrategyResult extends MoveResults {
  readonly strategy: StrategyName;
  /** The row's name (StrategyRun.label). */
  readonly label: string;
  /** Strategies that read metrics: the scrape settings of the run. */
  readonly scrape?: ScrapeSettings;
  /** Mean over the steady-state window of max/mean utilisation of the brokers present; 1 = perfect. */
  readonly imbalance: number | null;
  readonly imbalanceSamples: number;
  readonly joins: readonly JoinResult[];
  /** Σ over samples of (brokers with utilisation > 1) × sample period, in seconds. */
  readonly overloadSec: number;
  /** Highest utilisation any broker reached. */
  readonly peakUtilisation: number;
  /** Per broker: mean utilisation and connections over the steady-state window. */
  readonly steady: Readonly<Record<string, { utilisation: number; connections: number }>>;
  /** Peak-to-trough of each broker's smoothed utilisation in the steady window (window-metrics.ts). */
  readonly oscillation: OscillationResult | null;
  /** The scenario's spikeWindowSec, when it has one. */
  readonly spike?: WindowResult;
  /** Strategies that read metrics: when GET /status first called each broker suspect (absent = never). */
  readonly suspects?: Readonly<Record<string, SuspectResult>>;
  /** Strategies that read metrics: the capacities they assumed against the truth, steady window. */
  readonly capacity?: Readonly<Record<string, CapacityResult>>;
  readonly clients: ClientStats;
  readonly eds?: EdsResult;
  readonly twoEnvoys?: TwoEnvoyResult;
  /** Reconnects that reached the id's previous broker (stickiness.ts); absent for runs without placements. */
  readonly stickiness?: StickinessResult;
  readonly samples: number;
}

/** The events that change which brokers a balancer may pick. */
const BROKER_SET_EVENTS = new Set(['broker-join', 'broker-leave', 'drain', 'kill']);

/** The broker-set changes as they happened in the run (its event records, not the plan). */
export function brokerSetChanges(run: StrategyRun): BrokerSetChange[] {
  return run.events
    .filter((e) => BROKER_SET_EVENTS.has(e.kind) && e.error === undefined)
    .map((e) => ({ atSec: e.atSec, ...(e.kind === 'broker-join' && e.broker !== undefined ? { joined: e.broker } : {}) }));
}

const FAIR_SHARE_TARGET = 0.9;
/** Compare the two Envoys' weights every this many samples. */
const COMPARE_EVERY = 5;

export function analyse(scenario: Scenario, run: StrategyRun): StrategyResult {
  const { samples } = run;
  const inSteady = inWindow(samples, scenario.steadyState);
  const ratios = inSteady.map(imbalanceOf).filter((r): r is number => r !== undefined);
  const period = samplePeriodSec(samples);
  let overloadSec = 0;
  let peakUtilisation = 0;
  for (const s of samples) {
    for (const b of s.brokers) {
      if (b.utilisation > 1) overloadSec += period;
      peakUtilisation = Math.max(peakUtilisation, b.utilisation);
    }
  }
  const empty: ClientStats = {
    attempts: 0,
    connects: 0,
    failed: 0,
    refused: 0,
    timedOut: 0,
    closedEarly: 0,
    disconnects: 0,
    lifetimeEnds: 0,
    connected: 0,
    publishes: 0,
    received: 0,
  };
  return {
    strategy: run.strategy,
    label: run.label,
    ...(run.scrape ? { scrape: run.scrape } : {}),
    imbalance: ratios.length > 0 ? mean(ratios) : null,
    imbalanceSamples: ratios.length,
    joins: scenario.events.flatMap((e) => (e.kind === 'broker-join' ? [joinResult(samples, e.broker, e.atSec)] : [])),
    overloadSec,
    peakUtilisation,
    steady: steadyByBroker(inSteady),
    oscillation: oscillation(samples, scenario.steadyState),
    ...(scenario.spikeWindow ? { spike: windowResult(samples, scenario.spikeWindow, period) } : {}),
    ...(readsMetrics(run.strategy) ? { suspects: firstSuspects(samples), capacity: capacityErrors(samples, scenario.steadyState) } : {}),
    clients: samples.length > 0 ? samples[samples.length - 1].clients : empty,
    ...edsPart(scenario, run, inSteady),
    ...twoEnvoyPart(scenario, samples),
    ...analyseMoves(scenario, run),
    ...(run.placements ? { stickiness: stickiness(run.placements, brokerSetChanges(run)) } : {}),
    samples: samples.length,
  };
}

/** The broker's cost against its fair share: total cost of the brokers present × its share of their capacity. */
export function fairShareFraction(s: Sample, broker: string): number | undefined {
  const present = s.brokers.filter((b) => b.present);
  const mine = present.find((b) => b.name === broker);
  const totalCost = present.reduce((n, b) => n + b.cost, 0);
  const totalCapacity = present.reduce((n, b) => n + b.capacity, 0);
  if (!mine || totalCost <= 0 || totalCapacity <= 0) return undefined;
  return mine.cost / ((totalCost * mine.capacity) / totalCapacity);
}

export function joinResult(samples: readonly Sample[], broker: string, joinSec: number): JoinResult {
  for (const s of samples) {
    if (s.tSec < joinSec) continue;
    const f = fairShareFraction(s, broker);
    if (f !== undefined && f >= FAIR_SHARE_TARGET) return { broker, joinSec, t90Sec: round(s.tSec - joinSec) };
  }
  return { broker, joinSec, t90Sec: null };
}

function steadyByBroker(inSteady: readonly Sample[]): StrategyResult['steady'] {
  const sums = new Map<string, { u: number; c: number; n: number }>();
  for (const s of inSteady) {
    for (const b of s.brokers) {
      if (!b.present) continue;
      const acc = sums.get(b.name) ?? { u: 0, c: 0, n: 0 };
      acc.u += b.utilisation;
      acc.c += b.connections;
      acc.n += 1;
      sums.set(b.name, acc);
    }
  }
  return Object.fromEntries([...sums].map(([name, a]) => [name, { utilisation: round(a.u / a.n, 3), connections: round(a.c / a.n, 1) }]));
}

function edsPart(scenario: Scenario, run: StrategyRun, inSteady: readonly Sample[]): { eds?: EdsResult } {
  const series = run.samples.filter((s) => s.edsPushes !== undefined);
  if (series.length === 0 || run.edsPushesAtStart === undefined) return {};
  const envoys = scenario.envoys;
  const perEnvoy = (series[series.length - 1].edsPushes! - run.edsPushesAtStart) / envoys;
  const steady = inSteady.filter((s) => s.edsPushes !== undefined);
  const span = steady.length > 1 ? steady[steady.length - 1].tSec - steady[0].tSec : 0;
  const per5sSteady = span > 0 ? ((steady[steady.length - 1].edsPushes! - steady[0].edsPushes!) / envoys / span) * 5 : null;
  let max5s = 0;
  for (let i = 0; i < series.length; i++) {
    // The window (t_i − 5 s, t_i]: counted from the last sample at or before t_i − 5 s.
    let j = i;
    while (j > 0 && series[i].tSec - series[j - 1].tSec < 5) j--;
    const start = j === 0 ? run.edsPushesAtStart : series[j - 1].edsPushes!;
    max5s = Math.max(max5s, (series[i].edsPushes! - start) / envoys);
  }
  return {
    eds: { perEnvoy: round(perEnvoy, 1), per5sSteady: per5sSteady === null ? null : round(per5sSteady, 2), max5s: round(max5s, 1) },
  };
}

function twoEnvoyPart(scenario: Scenario, samples: readonly Sample[]): { twoEnvoys?: TwoEnvoyResult } {
  if (scenario.envoys < 2) return {};
  const withViews = samples.filter((s) => s.views && s.views.length >= 2);
  if (withViews.length === 0) return {};
  let compared = 0;
  let identical = 0;
  withViews.forEach((s, i) => {
    if (i % COMPARE_EVERY !== 0) return;
    compared += 1;
    const [a, b] = s.views!;
    if (sameWeights(a.weights, b.weights)) identical += 1;
  });
  const last = withViews[withViews.length - 1].views!;
  return { twoEnvoys: { compared, identical, accepted: last.map((v) => v.accepted ?? 0) } };
}

function sameWeights(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

function samplePeriodSec(samples: readonly Sample[]): number {
  if (samples.length < 2) return 1;
  return (samples[samples.length - 1].tSec - samples[0].tSec) / (samples.length - 1);
}
