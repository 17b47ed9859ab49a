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
