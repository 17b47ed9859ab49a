import type { WeightPlan } from '../domain';

export type PushVerdict = { readonly push: true; readonly why: string } | { readonly push: false; readonly retryAtMs: number };

/**
 * Decides whether a new plan goes out now or waits. Weight adjustments from metrics are
 * limited to one push per `minIntervalMs`, so noisy metrics cannot make Envoy churn;
 * the newest plan goes out when the interval is over. What must not wait goes at once:
 * the first plan, a change of membership or health (a broker added, removed, draining),
 * and a cut (a weight falling to half or less: overload protection).
 */
export function gatePush(
  published: WeightPlan | undefined,
  next: WeightPlan,
  lastWeightPushMs: number,
  nowMs: number,
  minIntervalMs: number,
): PushVerdict {
  if (!published) return { push: true, why: 'first plan' };
  const before = new Map(published.endpoints.map((e) => [e.name, e]));
  if (before.size !== next.endpoints.length) return { push: true, why: 'membership changed' };
  for (const e of next.endpoints) {
    const b = before.get(e.name);
    if (!b || b.address !== e.address || b.port !== e.port || b.websocketPort !== e.websocketPort || b.health !== e.health) {
      return { push: true, why: 'membership or health changed' };
    }
    if (e.weight * 2 <= b.weight) return { push: true, why: `weight of ${e.name} cut from ${b.weight} to ${e.weight}` };
  }
  if (nowMs - lastWeightPushMs >= minIntervalMs) return { push: true, why: 'weights adjusted' };
  return { push: false, retryAtMs: lastWeightPushMs + minIntervalMs };
}
