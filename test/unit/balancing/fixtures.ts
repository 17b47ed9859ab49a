import { computeWeights, type WeighOutcome } from '../../../src/balancing';
import { defaultPolicy, parsePolicy, type Policy } from '../../../src/config/policy';
import type { Broker, BrokerLoad, LoadSignals } from '../../../src/domain';
import type { PolicyState } from '../../../src/balancing';

/** A policy written as the operator would write it; throws on problems so tests stay short. */
export function policy(...yamlLines: string[]): Policy {
  const r = parsePolicy(yamlLines.length === 0 ? '{}' : yamlLines.join('\n') + '\n', 'test-policy.yaml');
  if (!r.ok) throw new Error(`bad test policy: ${JSON.stringify(r.problems)}`);
  return r.value;
}

export type Patch<T> = { [K in keyof T]?: T[K] extends object ? Patch<T[K]> : T[K] };

/** `base` with the patch merged in, key by key; for tuning one knob without YAML. */
export function tuned(patch: Patch<Policy>, base: Policy = defaultPolicy()): Policy {
  return merge(base, patch) as Policy;
}

function merge(base: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || typeof base !== 'object' || base === null) return patch ?? base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v);
  return out;
}

/**
 * The proportional controller (catch-up and fill mode) with overloads cut on one scrape:
 * the algorithm before the damped controller, which the tests written for it pin down.
 */
export const PROPORTIONAL: Policy = tuned({
  controller: { mode: 'proportional' },
  overload: { confirmSamples: 1 },
  smoothing: { per: 'scrape' },
});

/**
 * PROPORTIONAL with no slow start, no smoothing, no hysteresis or step limit: each factor
 * shows on its own, and inference rates apply per scrape, whatever the time between them.
 */
export const RAW: Policy = tuned({
  controller: { mode: 'proportional' },
  overload: { confirmSamples: 1 },
  slowStart: { windowMs: 0 },
  catchUp: { quietConnections: 0, fill: { below: 'off' } },
  smoothing: { per: 'scrape', alpha: 1, minRelativeChange: 0, maxStepRatio: 1000 },
});

/** RAW plus capacity classes s/m/l of 10k/20k/40k connections and the given broker → class map. */
export function rawWithClasses(brokers: Record<string, string>, patch: Patch<Policy> = {}): Policy {
  return tuned(
    {
      ...patch,
      capacity: {
        classes: { s: { connections: 10_000 }, m: { connections: 20_000 }, l: { connections: 40_000 } },
        brokers,
        ...patch.capacity,
      },
    },
    RAW,
  );
}

export function broker(name: string, extra: Partial<Broker> = {}): Broker {
  const n = name.charCodeAt(name.length - 1) % 250;
  return { name, address: `10.0.0.${n}`, port: 1883, ...extra };
}

export function load(name: string, scrapedAtMs: number | undefined, signals: LoadSignals, extra: Partial<BrokerLoad> = {}): BrokerLoad {
  return { broker: name, signals, consecutiveFailures: 0, stale: false, ...(scrapedAtMs === undefined ? {} : { scrapedAtMs }), ...extra };
}

export function loads(nowMs: number, signals: Record<string, LoadSignals>): Map<string, BrokerLoad> {
  return new Map(Object.entries(signals).map(([name, s]) => [name, load(name, nowMs, s)]));
}

export function weightsOf(out: WeighOutcome): Record<string, number> {
  return Object.fromEntries(out.plan.endpoints.map((e) => [e.name, e.weight]));
}

export function decisionOf(out: WeighOutcome, name: string): WeighOutcome['decisions'][number] {
  const d = out.decisions.find((x) => x.name === name);
  if (d === undefined) throw new Error(`no decision for ${name}`);
  return d;
}

/** Runs computeWeights round after round, carrying the state; `step` gives each round's loads. */
export function rounds(
  n: number,
  opts: { brokers: Broker[]; policy: Policy; startMs?: number; intervalMs?: number; previous?: PolicyState },
  step: (round: number, nowMs: number) => Map<string, BrokerLoad>,
): WeighOutcome[] {
  const out: WeighOutcome[] = [];
  let previous = opts.previous;
  for (let r = 0; r < n; r++) {
    const nowMs = (opts.startMs ?? 1_000_000) + r * (opts.intervalMs ?? 10_000);
    const o = computeWeights({ brokers: opts.brokers, loads: step(r, nowMs), previous, policy: opts.policy, nowMs });
    out.push(o);
    previous = o.state;
  }
  return out;
}

/** A deterministic pseudo-random sequence in [0, 1) (LCG), so noisy tests never flake. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Splits `total` new clients by weight, largest remainder first (ties by position): how round robin spreads a batch. */
export function splitByWeight(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let rest = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((_, i) => i).sort((a, b) => exact[b] - out[b] - (exact[a] - out[a]) || a - b);
  for (const i of order) {
    if (rest <= 0) break;
    out[i] += 1;
    rest -= 1;
  }
  return out;
}
