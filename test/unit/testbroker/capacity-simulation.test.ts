import { CapacitySimulation, type SimulationConfig } from '../../tools/testbroker/capacity-simulation';

const config: SimulationConfig = {
  capacity: 100,
  connectionCost: 1,
  messageCost: 1,
  noise: 0,
  windowMs: 5000,
  bucketMs: 250,
  seed: 7,
  cores: 2,
};

/** A publisher sending `rate` msg/s to `subscribers` plain subscribers, for `seconds`. */
function run(sim: CapacitySimulation, startMs: number, seconds: number, rate: number, subscribers: string[]): number {
  const stepMs = 1000 / rate;
  let t = startMs;
  for (; t < startMs + seconds * 1000; t += stepMs) {
    sim.onPublish('pub', 100, t);
    for (const s of subscribers) sim.onDeliver('pub', s, t);
    sim.tick(t);
  }
  return t;
}

describe('CapacitySimulation', () => {
  it('turns real traffic into cost, utilisation and CPU', () => {
    const sim = new CapacitySimulation(config, 0);
    for (const id of ['pub', 's1', 's2', 's3']) sim.ledger.connect(id, 0, true);
    expect(sim.tick(0).utilisation).toBeCloseTo(0.04, 10);

    const end = run(sim, 0, 10, 10, ['s1', 's2', 's3']);
    const s = sim.tick(end);
    // pub: 1 + 10 × (1 + 3) = 41; three subscribers: 3.
    expect(s.cost).toBeCloseTo(44, 0);
    expect(s.utilisation).toBeCloseTo(0.44, 1);
    expect(s.cpu).toBeCloseTo(s.utilisation, 10);
    expect(s.incomingPublishes).toBe(100);
    expect(s.outgoingPublishes).toBe(300);
    expect(s.connections).toBe(4);
    expect(s.overloadLevel).toBe(0);
  });

  it('counts client sessions for benchmarks, also after those clients left', () => {
    const sim = new CapacitySimulation(config, 0);
    expect(sim.tick(0).clientConnects).toBe(0);
    sim.countClientConnect();
    sim.countClientConnect();
    sim.ledger.connect('a', 0, true);
    sim.ledger.disconnect('a');
    const s = sim.tick(1000);
    expect(s.clientConnects).toBe(2);
    expect(s.connections).toBe(0);
  });

  it('integrates CPU seconds over time, per simulated core', () => {
    const sim = new CapacitySimulation(config, 0);
    sim.setExtraLoad(50, undefined, 0);
    sim.tick(0);
    sim.tick(10_000);
    // cpu 0.5 × 2 cores × 10 s.
    expect(sim.last.processCpuSeconds).toBeCloseTo(10, 10);
  });

  it('counts the share of deliveries above capacity as dropped', () => {
    const sim = new CapacitySimulation({ ...config, capacity: 20 }, 0);
    for (const id of ['pub', 's1']) sim.ledger.connect(id, 0, true);
    const end = run(sim, 0, 10, 20, ['s1']);
    // cost 1 + 20 × 2 + 1 = 42 on 20: over capacity, ~half of 20 copies/s dropped.
    const s = sim.tick(end);
    expect(s.utilisation).toBeGreaterThan(2);
    expect(s.droppedMessages).toBeGreaterThan(60);
    expect(s.droppedMessages).toBeLessThan(s.outgoingPublishes);
    expect(s.backpressureClients).toBe(1);
  });

  it('forces an overload level for a while, then lets it lapse', () => {
    const sim = new CapacitySimulation(config, 0);
    sim.forceOverload(5, 3000, 1000);
    expect(sim.tick(1000).overloadLevel).toBe(5);
    expect(sim.tick(3999).forcedOverload).toEqual({ value: 5, untilMs: 4000 });
    expect(sim.tick(4000).overloadLevel).toBe(0);
    expect(sim.last.forcedOverload).toBeUndefined();
  });

  it('replaces extra load and removes it with 0', () => {
    const sim = new CapacitySimulation(config, 0);
    sim.setExtraLoad(90, undefined, 0);
    expect(sim.tick(10).utilisationLevel).toBe(3);
    sim.setExtraLoad(130, undefined, 20);
    expect(sim.tick(30)).toMatchObject({ extraCost: 130, overloadLevel: 8 });
    sim.setExtraLoad(0, undefined, 40);
    expect(sim.tick(50)).toMatchObject({ extraCost: 0, overloadLevel: 0, extraLoad: undefined });
  });

  it('reports the larger of the real and the modelled not-writable connections', () => {
    const sim = new CapacitySimulation(config, 0);
    expect(sim.tick(0, 4).notWritable).toBe(4);
  });

  it('repeats its noisy CPU sequence for the same seed', () => {
    const cpus = (seed: number): number[] => {
      const sim = new CapacitySimulation({ ...config, noise: 0.2, seed }, 0);
      sim.setExtraLoad(50, undefined, 0);
      return Array.from({ length: 20 }, (_, i) => sim.tick(i * 100).cpu);
    };
    const first = cpus(11);
    expect(cpus(11)).toEqual(first);
    expect(cpus(12)).not.toEqual(first);
    for (const cpu of first) {
      expect(cpu).toBeGreaterThanOrEqual(0.4);
      expect(cpu).toBeLessThanOrEqual(0.6);
    }
  });

  it('summarises payload sizes Dropwizard-style', () => {
    const sim = new CapacitySimulation(config, 0);
    sim.ledger.connect('pub', 0, true);
    for (let i = 1; i <= 100; i++) sim.onPublish('pub', i, i);
    const { quantiles, count } = sim.payloadSizeQuantiles();
    expect(count).toBe(100);
    expect(Object.fromEntries(quantiles)).toMatchObject({ 0.5: 50.5, 0.999: 100 });
  });
});
