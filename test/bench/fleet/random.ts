// Seeded randomness for the fleet simulation: the same seed gives every balancer the same
// arrivals, lifetimes, EDS delays and metric noise, so peers in one run differ only in how
// they place clients. Counts are drawn from distributions (binomial, Poisson) instead of
// simulating a million clients one by one.

import { seeded as uniformStream } from '../lb/rng';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
}

/** bench:lb's seeded generator (lb/rng.ts), with a standard normal on top; streams by label. */
export function seeded(seed: number, label = ''): Random {
  const next = uniformStream(seed, label);
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // Box-Muller; 1 - next() keeps the logarithm finite.
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const a = 2 * Math.PI * next();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  return { next, normal };
}

/** Poisson by inversion: used for small means only (cost grows with the mean). */
function poisson(rng: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

/**
 * How many of `n` independent trials of probability `p` succeed. Exact enough for the
 * simulation and cheap at any n: Poisson for a small expected count, the normal
 * approximation (rounded, clamped to 0..n) otherwise.
 */
export function binomial(rng: Random, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean < 12) return Math.min(n, poisson(rng, mean));
  if (n - mean < 12) return n - Math.min(n, poisson(rng, n - mean));
  const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * rng.normal());
  return x < 0 ? 0 : x > n ? n : x;
}

/** Splits `n` over shares (summing to 1) as a multinomial draw, by successive binomials. */
export function multinomial(rng: Random, n: number, shares: ArrayLike<number>, out: Float64Array): void {
  let left = n;
  let rest = 1;
  for (let i = 0; i < shares.length; i++) {
    const last = i === shares.length - 1;
    const take = last ? left : rest > 0 ? binomial(rng, left, Math.min(1, shares[i] / rest)) : 0;
    out[i] = take;
    left -= take;
    rest -= shares[i];
  }
}
