import type { ControllerPolicy, Policy } from '../config/policy';
import { alphaOver } from './policy-state';
import { clamp, fmt, type Factor } from './factors';

// The damped controller (docs/policy.md, "The controller"): a broker's share of new
// connections is its fair share times 1 + gain × its relative gap to the fleet's mean.
//
// Why it cannot herd. Let R be the fleet's new connections per second, N its connections
// and ℓ = N / R their mean lifetime. With gain G = ℓ / H, a broker with gap g (connections
// it lacks to reach the mean) receives g × τ / H extra connections per period τ: the gap
// closes by the fraction a = τ / H per period, whatever R is. The signal the gap is read
// from arrives m = D / τ periods late (D: the dead time, a scrape plus the EWMA's delay).
// The loop x(n+1) = x(n) − a·x(n−m) converges without overshoot when
// a ≤ m^m / (m+1)^(m+1), and H = e·(D + τ) gives a = 1 / (e·(m+1)), which satisfies it for
// every m, because (m / (m+1))^m ≥ 1/e. A gain measured twice too high still converges
// (the loop's stability limit is above 2a), with at most a small overshoot. Clients that
// leave on their own only add damping. The deadband keeps noise inside it from moving
// anything, and the factor is bounded both ways.

/** Timing of one turn of the loop, from the measured scrape interval and the smoothing. */
export interface LoopTiming {
  /** Time between two scrapes folded in (τ). */
  readonly periodMs: number;
  /** How late a change shows in the smoothed signal (D): one period, plus the EWMA's mean delay. */
  readonly deadTimeMs: number;
  /** The time a gap is closed in (H). */
  readonly horizonMs: number;
}

/** A scrape interval assumed before two scrapes have been seen: mqtt-xds's default. */
export const ASSUMED_PERIOD_MS = 5000;

export function loopTiming(periodMs: number | undefined, smoothing: Policy['smoothing'], policy: ControllerPolicy): LoopTiming {
  const period = periodMs !== undefined && periodMs > 0 ? periodMs : ASSUMED_PERIOD_MS;
  const alpha = alphaOver(smoothing.alpha, period, smoothing.per);
  const deadTimeMs = period + (period * (1 - alpha)) / alpha;
  const horizonMs = policy.horizonMs === 'auto' ? Math.E * (deadTimeMs + period) : policy.horizonMs;
  return { periodMs: period, deadTimeMs, horizonMs };
}

export interface Gain {
  readonly value: number;
  /** Mean connection lifetime the gain comes from, when there is one. */
  readonly lifetimeMs?: number;
  /** `measured`: connections over arrivals; `configured`: controller.lifetimeMs; `none`: gain 1. */
  readonly source: 'measured' | 'configured' | 'none';
  readonly reason: string;
}

/**
 * G = ℓ / H, bounded by maxGain. `arrivalsPerSec` are the new connections per second of the
 * brokers whose `connections` are given (or undefined when nobody counts them).
 */
export function controllerGain(
  connections: number,
  arrivalsPerSec: number | undefined,
  timing: LoopTiming,
  policy: ControllerPolicy,
): Gain {
  const horizon = `horizon ${seconds(timing.horizonMs)}`;
  if (policy.lifetimeMs !== 'auto') {
    const value = clamp(policy.lifetimeMs / timing.horizonMs, 0, policy.maxGain);
    return {
      value,
      lifetimeMs: policy.lifetimeMs,
      source: 'configured',
      reason: `gain ${fmt(value)} (lifetime ${seconds(policy.lifetimeMs)} as configured, ${horizon})`,
    };
  }
  if (arrivalsPerSec === undefined || !(connections > 0)) {
    return { value: 1, source: 'none', reason: `gain 1 (no connect rate to measure lifetimes from, ${horizon})` };
  }
  if (!(arrivalsPerSec > 0)) {
    return {
      value: policy.maxGain,
      source: 'measured',
      reason: `gain ${fmt(policy.maxGain)} (no client arrives: at its bound, ${horizon})`,
    };
  }
  const lifetimeMs = (connections / arrivalsPerSec) * 1000;
  const value = clamp(lifetimeMs / timing.horizonMs, 0, policy.maxGain);
  return { value, lifetimeMs, source: 'measured', reason: `gain ${fmt(value)} (mean lifetime ${seconds(lifetimeMs)}, ${horizon})` };
}

/**
 * The factor on a broker's fair share: 1 + gain × relative gap, the gap shrunk by the
 * deadband and both sides softened by `quietConnections` as in catch-up, bounded to
 * [minFactor, maxBoost]. During slow start a boost is ramped in with the weight; a cut is not.
 * An overloaded broker (`full`: the utilisation it counts as) is not softened, and gets the
 * floor in an idle fleet, where there is no mean to compare with.
 */
export function dampedFactor(
  util: number | undefined,
  meanUtil: number | undefined,
  gain: Gain,
  settings: { readonly deadband: number; readonly minFactor: number; readonly maxBoost: number; readonly quietConnections: number },
  capacityConnections: number,
  rampProgress: number,
  full?: number,
): Factor {
  const own = full === undefined ? util : Math.max(full, util ?? 0);
  if (own === undefined) return { value: 1, reason: 'no usable signal: x1' };
  if (meanUtil === undefined || meanUtil <= 0) {
    return full === undefined
      ? { value: 1, reason: `util ${fmt(own)}, fleet idle: x1` }
      : { value: settings.minFactor, reason: `overloaded in an idle fleet: x${fmt(settings.minFactor)}` };
  }
  const quiet = full === undefined && capacityConnections > 0 ? settings.quietConnections / capacityConnections : 0;
  const gap = (meanUtil - own) / (meanUtil + quiet);
  const outside = Math.sign(gap) * Math.max(0, Math.abs(gap) - settings.deadband);
  const raw = clamp(1 + gain.value * outside, settings.minFactor, Math.max(1, settings.maxBoost));
  const value = raw > 1 ? 1 + (raw - 1) * rampProgress : raw;
  const ramped = value !== raw ? ` (x${fmt(raw)} ramped in by slow start)` : '';
  const within = outside === 0 ? ', within the deadband' : '';
  return { value, reason: `util ${fmt(own)} vs mean ${fmt(meanUtil)}${within}: x${fmt(value)}${ramped}` };
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
