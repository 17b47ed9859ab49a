import type { BrokerDecision } from '../../../src/balancing';
import { fleetSignal } from '../../../src/balancing';

const decision = (name: string, utilisation: number | undefined, capacity: number | undefined, excluded = false): BrokerDecision => ({
  name,
  weight: excluded ? 0 : 1000,
  health: 'serving',
  excluded,
  ...(utilisation === undefined ? {} : { utilisation }),
  ...(capacity === undefined ? {} : { capacity }),
  capacitySource: 'hint',
  factors: { catchUp: 1, slowStart: 1, overload: 1, stale: 1, fill: 1 },
  reason: '',
  inputs: {},
});

describe('the scale-out signal', () => {
  it('weighs each broker by its capacity, and recommends enough brokers of the mean capacity for the target', () => {
    // Load 0.9 × 1000 + 0.6 × 2000 = 2100 of 3000: 0.7 overall.
    const s = fleetSignal([decision('small', 0.9, 1000), decision('large', 0.6, 2000)], 0.5);
    expect(s.utilisation).toBeCloseTo(0.7);
    // 2100 / (0.5 × 1500) = 2.8, so 3.
    expect(s.recommendedBrokers).toBe(3);
    expect(s.counted).toBe(2);
  });

  it('recommends exactly the brokers that meet the target, and at least one', () => {
    expect(fleetSignal([decision('a', 0.7, 1000), decision('b', 0.7, 1000)], 0.7).recommendedBrokers).toBe(2);
    expect(fleetSignal([decision('a', 0, 1000)], 0.7).recommendedBrokers).toBe(1);
  });

  it('leaves out excluded brokers and those without a utilisation or capacity, and says nothing without any', () => {
    const s = fleetSignal(
      [decision('a', 0.5, 1000), decision('gone', 2, 1000, true), decision('new', undefined, 1000), decision('x', 0.9, undefined)],
      0.5,
    );
    expect(s).toEqual({ utilisation: 0.5, recommendedBrokers: 1, counted: 1 });
    expect(fleetSignal([decision('new', undefined, undefined)], 0.7)).toEqual({ counted: 0 });
  });
});
