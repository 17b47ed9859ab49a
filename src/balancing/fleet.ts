// What the weights of one computation share across brokers: the fleet's mean, fill mode,
// the damped controller's gain, and whether a plan changed.
import type { Policy } from '../config/policy';
import type { EnvoyBrokerLoad, WeightPlan } from '../domain';
import type { ResolvedCapacity } from './capacity';
import { controllerGain, loopTiming, type Gain } from './controller';
import type { View } from './observe';

/** A broker in the plan, with its capacity and utilisation worked out. */
export interface Assessed extends View {
  readonly capacity: ResolvedCapacity;
  readonly utilisation?: number;
}

/**
 * The damped controller's gain from the brokers with fresh metrics: their connections over
 * the new connections per second (the Envoys' count when given, else the brokers' CONNECT
 * rates), and the loop's timing from the median measured scrape interval.
 */
export function fleetGain(assessed: readonly Assessed[], arrivalsPerSec: number | undefined, policy: Policy): Gain {
  const fresh = assessed.filter((a) => a.metrics === 'fresh');
  const intervals = fresh.map((a) => a.state.sampleIntervalMs).filter((v): v is number => v !== undefined);
  const timing = loopTiming(median(intervals), policy.smoothing, policy.controller);
  const connections = (list: readonly Assessed[]): number => list.reduce((sum, a) => sum + (a.current?.connections ?? 0), 0);
  if (arrivalsPerSec !== undefined) return controllerGain(connections(fresh), arrivalsPerSec, timing, policy.controller);
  const counting = fresh.filter((a) => a.state.smoothed?.connectRate !== undefined);
  const rate = counting.length === 0 ? undefined : counting.reduce((sum, a) => sum + (a.state.smoothed?.connectRate ?? 0), 0);
  return controllerGain(connections(counting), rate, timing, policy.controller);
}

/**
 * The window the Envoys' arrival rate is averaged over. One report covers a second, in which
 * a quiet fleet opens zero or a few connections: taken alone, a zero would send the gain to
 * maxGain for that computation. Longer than the loop's dead time at 1 s scrapes, short beside
 * a client's lifetime.
 */
export const ARRIVALS_WINDOW_MS = 15_000;
/** Until the samples span this long, the rate is not used (the brokers' CONNECT rates stand in). */
export const ARRIVALS_MIN_SPAN_MS = 5_000;

export type ArrivalSamples = readonly (readonly [atMs: number, perSec: number])[];

/**
 * The samples of the last ARRIVALS_WINDOW_MS, and their time-weighted mean: each value is
 * the rate over the time since the sample before it. Undefined without reports, or while the
 * samples span less than ARRIVALS_MIN_SPAN_MS.
 */
export function averageArrivals(
  prev: ArrivalSamples | undefined,
  latest: number | undefined,
  nowMs: number,
): { readonly samples?: ArrivalSamples; readonly perSec?: number } {
  if (latest === undefined) return {};
  const kept = (prev ?? []).filter(([at]) => at >= nowMs - ARRIVALS_WINDOW_MS && at < nowMs);
  const samples: ArrivalSamples = [...kept, [nowMs, latest]];
  const span = nowMs - samples[0][0];
  if (span < ARRIVALS_MIN_SPAN_MS) return { samples };
  let sum = 0;
  for (let i = 1; i < samples.length; i++) sum += samples[i][1] * (samples[i][0] - samples[i - 1][0]);
  return { samples, perSec: sum / span };
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Why fill mode is on, or undefined: some broker taking new clients is `below` or more
 * under the mean utilisation (or, once on, still `until` or more under it).
 */
export function fillReason(
  assessed: readonly Assessed[],
  meanUtil: number | undefined,
  policy: Policy,
  wasFilling: boolean,
): string | undefined {
  const { below, until } = policy.catchUp.fill;
  if (below === 'off' || meanUtil === undefined || meanUtil <= 0) return undefined;
  let furthest: { name: string; gap: number } | undefined;
  for (const a of assessed) {
    if (a.draining || a.pin !== undefined || a.utilisation === undefined) continue;
    // Softened like catch-up, so a gap of a few connections (an idle fleet) is no gap.
    const quiet = a.capacity.connections > 0 ? policy.catchUp.quietConnections / a.capacity.connections : 0;
    const gap = 1 - (a.utilisation + quiet) / (meanUtil + quiet);
    if (furthest === undefined || gap > furthest.gap) furthest = { name: a.broker.name, gap };
  }
  if (furthest === undefined || furthest.gap < (wasFilling ? until : below)) return undefined;
  return `${furthest.name} is ${Math.round(furthest.gap * 100)}% below the mean`;
}

export function weightedMean(pairs: readonly (readonly [number, number])[]): number | undefined {
  let sum = 0;
  let total = 0;
  for (const [value, weight] of pairs) {
    sum += value * weight;
    total += weight;
  }
  return total > 0 ? sum / total : undefined;
}

export function samePlan(a: WeightPlan | undefined, b: WeightPlan): boolean {
  if (a === undefined || a.endpoints.length !== b.endpoints.length) return false;
  return a.endpoints.every((x, i) => {
    const y = b.endpoints[i];
    return (
      x.name === y.name &&
      x.address === y.address &&
      x.port === y.port &&
      x.websocketPort === y.websocketPort &&
      x.weight === y.weight &&
      x.health === y.health
    );
  });
}

/** New connections per second the Envoys opened across the fleet; undefined without reports. */
export function arrivalsOf(envoys: ReadonlyMap<string, EnvoyBrokerLoad> | undefined): number | undefined {
  let sum: number | undefined;
  for (const e of envoys?.values() ?? []) if (e.envoys > 0) sum = (sum ?? 0) + e.openedPerSec;
  return sum;
}
