import type { Policy } from '../config/policy';
import { MAX_WEIGHT_SUM } from '../domain';
import { fmt } from './factors';

export interface Limited {
  readonly weight: number;
  /** Why the weight is not simply the rounded target; empty when it is. */
  readonly reason: string;
}

export interface LimitOptions {
  /** Overload: a decrease takes effect at once, past the step limit and the hysteresis. */
  readonly urgentDecrease: boolean;
  /** Keep the last weight exactly (stale metrics within their grace period). */
  readonly hold: boolean;
}

/**
 * Turns a target into the integer weight to publish: bounded by floor and ceiling, moved
 * at most maxStepRatio from the last weight, and not moved at all when the change would
 * be below minRelativeChange, so noise in the signals does not turn into pushes.
 */
export function limitWeight(target: number, last: number | undefined, opts: LimitOptions, policy: Policy): Limited {
  const { floor, ceiling } = policy.bounds;
  const { maxStepRatio, minRelativeChange } = policy.smoothing;
  // Defence in depth: scraping refuses absurd pages, but a non-finite target must never
  // become a weight (validation would then refuse every snapshot after it).
  const bound = (x: number): number =>
    Number.isFinite(x) ? Math.min(ceiling, Math.max(floor, Math.round(x))) : Math.min(ceiling, Math.max(floor, last ?? floor));
  if (last === undefined) return { weight: bound(target), reason: '' };
  if (opts.hold) return { weight: bound(last), reason: '' };
  if (opts.urgentDecrease && target < last * (1 - minRelativeChange)) return { weight: bound(target), reason: '' };

  let stepped = target;
  let reason = '';
  if (target > last * maxStepRatio) {
    stepped = last * maxStepRatio;
    reason = `step limited to x${maxStepRatio} of ${last}`;
  } else if (target < last / maxStepRatio) {
    stepped = last / maxStepRatio;
    reason = `step limited to /${maxStepRatio} of ${last}`;
  }
  const weight = bound(stepped);
  const change = Math.abs(weight - last) / last;
  // A last weight outside the bounds (the policy changed) must move, however little.
  if (change < minRelativeChange && bound(last) === last) {
    return {
      weight: last,
      reason: weight === last ? '' : `held at ${last}: change ${fmt(change * 100, 1)}% < ${fmt(minRelativeChange * 100, 1)}%`,
    };
  }
  return { weight, reason };
}

/**
 * Envoy rejects a locality whose weights sum past uint32. Scales every weight down by the
 * same factor (keeping each ≥ 1) and takes any rounding excess from the largest weights,
 * ties broken by position, so every replica gets the same answer.
 */
export function fitWeightSum(weights: readonly number[], maxSum = MAX_WEIGHT_SUM): { weights: number[]; factor: number } {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= maxSum) return { weights: [...weights], factor: 1 };
  const factor = maxSum / sum;
  const out = weights.map((w) => Math.max(1, Math.floor(w * factor)));
  let excess = out.reduce((a, b) => a + b, 0) - maxSum;
  const order = out.map((_, i) => i).sort((a, b) => out[b] - out[a] || a - b);
  for (const i of order) {
    if (excess <= 0) break;
    const take = Math.min(excess, out[i] - 1);
    out[i] -= take;
    excess -= take;
  }
  return { weights: out, factor };
}
