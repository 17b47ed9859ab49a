import type { Policy } from '../config/policy';
import { MAX_WEIGHT_SUM } from '../domain';
import { fmt } from './factors';

/**
 * How many times minRelativeChange the held errors must add up to: three scrapes of an error
 * just under it, so noise that stays on one side for a scrape or two still moves nothing.
 */
export const PERSISTENT_ERROR = 3;

export interface Limited {
  readonly weight: number;
  /** Why the weight is not simply the rounded target; empty when it is. */
  readonly reason: string;
  /** The held relative errors on one side, summed over scrapes (LimitOptions.heldError); undefined once the weight moves. */
  readonly heldError?: number;
}

export interface LimitOptions {
  /** Overload: a decrease takes effect at once, past the step limit and the hysteresis. */
  readonly urgentDecrease: boolean;
  /** Keep the last weight exactly (stale metrics within their grace period). */
  readonly hold: boolean;
  /**
   * This computation folded in a new scrape: its held error counts towards `heldError`.
   * Absent or false: the sum is carried over unchanged.
   */
  readonly newSample?: boolean;
  /** The relative errors (target − last) / last held back so far, summed while they stay on one side. */
  readonly heldError?: number;
}

/**
 * Turns a target into the integer weight to publish: bounded by floor and ceiling, moved
 * at most maxStepRatio from the last weight, and not moved at all when the change would
 * be below minRelativeChange, so noise in the signals does not turn into pushes. An error
 * that persists gets through all the same: the held errors of consecutive scrapes are
 * summed while they stay on one side of the last weight, and once the sum reaches
 * PERSISTENT_ERROR × minRelativeChange the target is taken. Noise changes side and starts
 * the sum again; a bias (a capacity inferred short, a gap the gain turns into a few percent)
 * does not: at the 5 s production interval a steady 6 % error moves after 25 s instead of never.
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
    const error = (weight - last) / last;
    const before = opts.heldError ?? 0;
    const carried = opts.newSample === true && before * error < 0 ? 0 : before;
    const heldError = opts.newSample === true ? carried + error : carried;
    const enough = PERSISTENT_ERROR * minRelativeChange;
    if (opts.newSample === true && Math.abs(heldError) >= enough) {
      const sum = `held errors summed to ${fmt(heldError * 100, 1)}% >= ${fmt(enough * 100, 1)}%`;
      return { weight, reason: reason === '' ? sum : `${reason}; ${sum}` };
    }
    return {
      weight: last,
      reason: weight === last ? '' : `held at ${last}: change ${fmt(change * 100, 1)}% < ${fmt(minRelativeChange * 100, 1)}%`,
      ...(heldError === 0 ? {} : { heldError }),
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
