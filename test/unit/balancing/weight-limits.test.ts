import { fitWeightSum, limitWeight } from '../../../src/balancing/weight-limits';
import { MAX_WEIGHT_SUM } from '../../../src/domain';
import { tuned } from './fixtures';

const policy = tuned({ bounds: { floor: 1, ceiling: 10_000 }, smoothing: { minRelativeChange: 0.1, maxStepRatio: 2 } });
const normal = { urgentDecrease: false, hold: false };

describe('limitWeight', () => {
  it.each<[string, number, number | undefined, { urgentDecrease: boolean; hold: boolean }, number]>([
    ['takes the rounded target on the first computation', 1234.4, undefined, normal, 1234],
    ['bounds the first target too', 50_000, undefined, normal, 10_000],
    ['holds a change below minRelativeChange', 1090, 1000, normal, 1000],
    ['passes a change at minRelativeChange', 1100, 1000, normal, 1100],
    ['limits a rise to maxStepRatio', 5000, 1000, normal, 2000],
    ['limits a fall to 1/maxStepRatio', 100, 1000, normal, 500],
    ['lets an overload decrease through at once', 10, 1000, { urgentDecrease: true, hold: false }, 10],
    ['still ignores a tiny overload wiggle', 960, 1000, { urgentDecrease: true, hold: false }, 1000],
    ['never speeds up a rise for an overloaded broker', 5000, 1000, { urgentDecrease: true, hold: false }, 2000],
    ['holds exactly when told to', 5000, 1000, { urgentDecrease: false, hold: true }, 1000],
    ['moves a last weight the bounds no longer allow, however little', 10_500, 10_400, normal, 10_000],
    ['never publishes below the floor', 0.2, 1, normal, 1],
  ])('%s', (_, target, last, opts, expected) => {
    expect(limitWeight(target, last, opts, policy).weight).toBe(expected);
  });
});

describe('fitWeightSum', () => {
  it.each<[string, number[], number[]]>([
    ['leaves a sum within uint32 alone', [1, 2, 3], [1, 2, 3]],
    ['scales a sum past uint32 down', [MAX_WEIGHT_SUM, MAX_WEIGHT_SUM], [2_147_483_647, 2_147_483_647]],
    ['keeps tiny weights at 1 and takes the excess from the largest', [MAX_WEIGHT_SUM, 1, 1], [MAX_WEIGHT_SUM - 2, 1, 1]],
  ])('%s', (_, weights, expected) => {
    const fitted = fitWeightSum(weights);
    expect(fitted.weights).toEqual(expected);
    expect(fitted.weights.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_WEIGHT_SUM);
  });

  it('fits a hundred thousand brokers at the ceiling', () => {
    const fitted = fitWeightSum(Array.from({ length: 100_000 }, (_, i) => (i % 2 === 0 ? MAX_WEIGHT_SUM : 1)));
    expect(fitted.weights.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_WEIGHT_SUM);
    expect(Math.min(...fitted.weights)).toBe(1);
  });
});

describe('limitWeight: an error that persists gets through the hysteresis', () => {
  const sample = (heldError?: number) => ({ ...normal, newSample: true, ...(heldError === undefined ? {} : { heldError }) });

  it('holds a change below minRelativeChange once, and remembers it', () => {
    const first = limitWeight(1060, 1000, sample(), policy);
    expect(first.weight).toBe(1000);
    expect(first.heldError).toBeCloseTo(0.06, 9);
  });

  /** The weights published over scrapes that each ask for `target`, starting from 1000. */
  const over = (target: number, scrapes: number): number[] => {
    let heldError: number | undefined;
    return Array.from({ length: scrapes }, () => {
      const out = limitWeight(target, 1000, sample(heldError), policy);
      heldError = out.heldError;
      return out.weight;
    });
  };

  it('lets it through once the held errors on one side add up to 3 × minRelativeChange', () => {
    // 8 % a scrape: 24 % after three, 32 % after four; then the sum starts again.
    expect(over(1080, 5)).toEqual([1000, 1000, 1000, 1080, 1000]);
    expect(limitWeight(1060, 1000, sample(0.25), policy).heldError).toBeUndefined();
  });

  it('the same for a fall', () => {
    expect(over(930, 5)).toEqual([1000, 1000, 1000, 1000, 930]);
  });

  it('a tiny error still never moves a weight before many scrapes have shown it', () => {
    // 0.7 % a scrape: 29.4 % after 42, 30.1 % after 43.
    expect(over(1007, 42).every((w) => w === 1000)).toBe(true);
    expect(over(1007, 43).at(-1)).toBe(1007);
  });

  it('starts again when the error changes side: noise around the weight is not summed', () => {
    const up = limitWeight(1060, 1000, sample(), policy);
    const down = limitWeight(950, 1000, sample(up.heldError), policy);
    expect(down.weight).toBe(1000);
    expect(down.heldError).toBeCloseTo(-0.05, 9);
    const upAgain = limitWeight(1060, 1000, sample(down.heldError), policy);
    expect(upAgain.heldError).toBeCloseTo(0.06, 9);
  });

  it('counts an error once per scrape, not once per computation', () => {
    const first = limitWeight(1060, 1000, sample(), policy);
    const between = limitWeight(1060, 1000, { ...normal, newSample: false, heldError: first.heldError }, policy);
    expect(between.weight).toBe(1000);
    expect(between.heldError).toBeCloseTo(0.06, 9);
  });

  it('forgets the sum when told to hold', () => {
    expect(limitWeight(1060, 1000, { ...sample(0.09), hold: true }, policy).heldError).toBeUndefined();
  });
});
