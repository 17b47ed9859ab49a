import {
  clientCost,
  creditsPerTickFor,
  evaluateModel,
  overloadLevelFor,
  seededRandom,
  type CapacityModelConfig,
  type ClientTraffic,
} from '../../tools/testbroker/capacity-model';

const config: CapacityModelConfig = { capacity: 1000, connectionCost: 1, messageCost: 1, noise: 0 };
const idle: ClientTraffic = { publishRate: 0, fanoutRate: 0, receiveRate: 0 };
const input = (clients: ClientTraffic[], extra: Partial<{ extraCost: number; forcedLevel: number; noiseSample: number }> = {}) => ({
  clients,
  extraCost: 0,
  forcedLevel: 0,
  noiseSample: 0.5,
  ...extra,
});

describe('capacity model: cost', () => {
  it('charges an idle client its connection cost only', () => {
    expect(clientCost(idle, config)).toBe(1);
  });

  it('charges a publisher for each message and for each copy it fans out to', () => {
    // 10 msg/s to 3 subscribers: 10 × (1 + 3) message costs.
    const publisher = { publishRate: 10, fanoutRate: 30, receiveRate: 0 };
    expect(clientCost(publisher, { ...config, messageCost: 2 })).toBe(1 + 2 * 40);
  });

  it('adds up clients and extra load into utilisation', () => {
    const clients = [{ publishRate: 10, fanoutRate: 30, receiveRate: 0 }, ...Array(3).fill({ ...idle, receiveRate: 10 })];
    const out = evaluateModel(config, input(clients, { extraCost: 100 }));
    expect(out.cost).toBe(41 + 3 + 100);
    expect(out.utilisation).toBeCloseTo(0.144, 10);
  });
});

describe('capacity model: overload thresholds', () => {
  it.each([
    [0, 0],
    [0.8, 0],
    [0.81, 1],
    [0.84, 1],
    [0.85, 2],
    [0.96, 4],
    [1.0, 5],
    [1.0001, 6],
    [1.1, 6],
    [1.11, 7],
    [1.4, 9],
    [1.41, 10],
    [50, 10],
  ])('utilisation %p gives level %p', (u, level) => {
    expect(overloadLevelFor(u)).toBe(level);
  });

  it('lowers the credits per tick as the level rises', () => {
    expect(creditsPerTickFor(0)).toBe(200);
    expect(creditsPerTickFor(5)).toBe(110);
    expect(creditsPerTickFor(10)).toBe(20);
  });

  it('puts publishers, not subscribers, under back-pressure once utilisation passes 1.0', () => {
    const publisher = { publishRate: 100, fanoutRate: 300, receiveRate: 0 };
    const subscriber = { ...idle, receiveRate: 100 };
    const clients = [publisher, publisher, subscriber, subscriber, subscriber];
    expect(evaluateModel({ ...config, capacity: 2000 }, input(clients)).backpressureClients).toBe(0);
    const over = evaluateModel({ ...config, capacity: 600 }, input(clients));
    expect(over.utilisation).toBeGreaterThan(1);
    expect(over.backpressureClients).toBe(2);
  });

  it('counts a share of the receivers as not writable in proportion to the excess', () => {
    const subscriber = { ...idle, receiveRate: 10 };
    const clients: ClientTraffic[] = Array(12).fill(subscriber);
    // Cost 12 on capacity 8: utilisation 1.5, so half of the 12 receivers.
    const out = evaluateModel({ ...config, capacity: 8 }, input(clients));
    expect(out.notWritable).toBe(6);
    expect(out.dropRatio).toBeCloseTo(1 / 3, 10);
    expect(evaluateModel(config, input(clients)).notWritable).toBe(0);
    expect(evaluateModel(config, input(clients)).dropRatio).toBe(0);
  });

  it('takes the higher of the forced and the measured level', () => {
    const calm = evaluateModel(config, input([idle], { forcedLevel: 7 }));
    expect(calm.overloadLevel).toBe(7);
    expect(calm.utilisationLevel).toBe(0);
    expect(calm.creditsPerTick).toBe(74);
    // Forcing changes the level only, never the cost or the CPU.
    expect(calm.cpu).toBeCloseTo(0.001, 10);
    expect(evaluateModel(config, input([idle], { forcedLevel: 2, extraCost: 1199 })).overloadLevel).toBe(7);
  });
});

describe('capacity model: cpu and noise', () => {
  it('is the utilisation, capped at 1, without noise', () => {
    expect(evaluateModel(config, input([], { extraCost: 420 })).cpu).toBeCloseTo(0.42, 10);
    expect(evaluateModel(config, input([], { extraCost: 3000 })).cpu).toBe(1);
  });

  it('scales by 1 ± noise, within [0, 1]', () => {
    const noisy = { ...config, noise: 0.2 };
    expect(evaluateModel(noisy, input([], { extraCost: 500, noiseSample: 0 })).cpu).toBeCloseTo(0.4, 10);
    expect(evaluateModel(noisy, input([], { extraCost: 500, noiseSample: 0.5 })).cpu).toBeCloseTo(0.5, 10);
    expect(evaluateModel(noisy, input([], { extraCost: 5000, noiseSample: 0.99 })).cpu).toBe(1);
  });

  it('repeats the same noise sequence for the same seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const seqA = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(seqA);
    expect(Array.from({ length: 100 }, c)).not.toEqual(seqA);
  });

  it('draws uniform numbers in [0, 1), also from seed 0', () => {
    for (const seed of [0, 1, 4294967295]) {
      const next = seededRandom(seed);
      const values = Array.from({ length: 10_000 }, next);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThan(1);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      expect(mean).toBeGreaterThan(0.47);
      expect(mean).toBeLessThan(0.53);
    }
  });
});
