// Seeded randomness for the benchmark: the same scenario seed gives every strategy the
// same arrival jitter, lifetimes, backoffs and metric noise, so runs differ only in the
// balancer. A small 32-bit generator (splitmix-style mixing) is plenty for jitter.

export type Random = () => number;

/** Uniform numbers in [0, 1) from `seed`; independent streams come from different labels. */
export function seeded(seed: number, label = ''): Random {
  let state = (seed ^ hashLabel(label)) >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random();
}

/**
 * The wait before reconnect attempt `failures` (0 = first retry): the exponential cap
 * min × 2^failures bounded by max, then "equal jitter" (half fixed, half random), and
 * never below min. Spreads a reconnect storm without letting any client wait past max.
 */
export function backoffMs(random: Random, failures: number, minMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
  return Math.max(minMs, cap / 2 + (cap / 2) * random());
}
