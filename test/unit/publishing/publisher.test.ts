import { Counter, Registry } from 'prom-client';
import { defaultConfig, defaultPolicy } from '../../../src/config';
import type { WeightPlan } from '../../../src/domain';
import type { PlanOutcome } from '../../../src/planner';
import { ModelBuilder, Publisher } from '../../../src/publishing';
import { FakeClock } from '../../../src/util/clock';
import { silentLogger } from '../../../src/util/log';
import { SnapshotCache } from '../../../src/xds';

const DEBOUNCE_MS = 50;
const MIN_PUSH_INTERVAL_MS = 10_000;

function plan(weights: Record<string, number>): WeightPlan {
  return {
    endpoints: Object.entries(weights).map(([name, weight], i) => ({
      name,
      address: `10.0.0.${i + 1}`,
      port: 1883,
      weight,
      health: 'serving' as const,
    })),
  };
}

function setup(opts: { heldBy?: () => string | undefined } = {}) {
  const clock = new FakeClock(0);
  const cache = new SnapshotCache();
  const registry = new Registry();
  const rejected = new Counter({ name: 'mqtt_xds_input_rejected_total', help: 'h', labelNames: ['stage', 'code'], registers: [registry] });
  const models = new ModelBuilder({ config: defaultConfig('/tmp'), policy: defaultPolicy, logger: silentLogger });
  let current: PlanOutcome | undefined;
  const planned = jest.fn((_nowMs: number) => current);
  const publisher = new Publisher({
    cache,
    clock,
    logger: silentLogger,
    registry,
    rejected,
    debounceMs: DEBOUNCE_MS,
    minPushIntervalMs: MIN_PUSH_INTERVAL_MS,
    plan: planned,
    model: (p) => models.build(p),
    heldBy: opts.heldBy,
  });
  const published: string[] = [];
  cache.subscribe((snap) => published.push(snap.version));
  const setPlan = (p: WeightPlan, decisions: PlanOutcome['decisions'] = []): void => {
    current = { plan: p, decisions };
  };
  return { clock, cache, registry, publisher, planned, published, setPlan };
}

describe('Publisher', () => {
  it('coalesces a burst of inputs into one publish after the debounce', () => {
    const t = setup();
    t.setPlan(plan({ a: 100, b: 100 }));
    for (let i = 0; i < 5; i++) {
      t.publisher.schedule();
      t.clock.advance(5);
    }
    expect(t.published).toHaveLength(0);
    t.clock.advance(DEBOUNCE_MS);
    expect(t.planned).toHaveBeenCalledTimes(1);
    expect(t.published).toHaveLength(1);
    expect(t.publisher.publishedPlan()).toEqual(plan({ a: 100, b: 100 }));
  });

  it('holds a weight-only change behind the gate and pushes it at retryAt without new input', () => {
    const t = setup();
    t.setPlan(plan({ a: 100, b: 100 }));
    t.publisher.schedule();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(1);

    t.setPlan(plan({ a: 120, b: 100 }));
    t.publisher.schedule();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(1);

    // The first push was at DEBOUNCE_MS; the gate opens MIN_PUSH_INTERVAL_MS later.
    t.clock.advance(MIN_PUSH_INTERVAL_MS - DEBOUNCE_MS - 1);
    expect(t.published).toHaveLength(1);
    t.clock.advance(1);
    expect(t.published).toHaveLength(2);
    expect(t.publisher.publishedPlan()).toEqual(plan({ a: 120, b: 100 }));
  });

  it('lets a policy change through the gate at once', () => {
    const t = setup();
    t.setPlan(plan({ a: 100, b: 100 }));
    t.publisher.schedule();
    t.clock.advance(DEBOUNCE_MS);

    t.setPlan(plan({ a: 120, b: 100 }));
    t.publisher.policyApplied();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(2);
    expect(t.clock.pending()).toBe(0);
  });

  it("lets a changed broker list through the gate at once (an operator's weight), and paces metrics again after it", () => {
    const t = setup();
    t.setPlan(plan({ a: 100, b: 100 }));
    t.publisher.schedule();
    t.clock.advance(DEBOUNCE_MS);
    t.setPlan(plan({ a: 300, b: 100 }));
    t.publisher.brokersChanged();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(2);
    // A metrics-driven change right after it waits for the gate again.
    t.setPlan(plan({ a: 310, b: 100 }));
    t.publisher.schedule();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(2);
    t.clock.advance(MIN_PUSH_INTERVAL_MS);
    expect(t.published).toHaveLength(3);
  });

  it('keeps the last good snapshot and counts the refusal when a weight overflows uint32', async () => {
    const t = setup();
    t.setPlan(plan({ a: 100, b: 100 }));
    t.publisher.policyApplied();
    t.clock.advance(DEBOUNCE_MS);
    const good = t.cache.snapshot()?.version;

    t.setPlan(plan({ a: 2 ** 32, b: 100 }));
    t.publisher.policyApplied();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.cache.snapshot()?.version).toBe(good);
    expect(t.publisher.publishedPlan()).toEqual(plan({ a: 100, b: 100 }));
    const metrics = await t.registry.getSingleMetricAsString('mqtt_xds_input_rejected_total');
    expect(metrics).toMatch(/mqtt_xds_input_rejected_total\{stage="translation",code="[A-Z_]+"\} 1/);
  });

  it('publishes nothing while held, and the plan once the hold is lifted and input is scheduled', () => {
    let held: string | undefined = 'policy not applied';
    const t = setup({ heldBy: () => held });
    t.setPlan(plan({ a: 100 }));
    t.publisher.schedule();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(0);
    expect(t.publisher.status().held).toBe('policy not applied');

    held = undefined;
    t.publisher.policyApplied();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(1);
  });

  it('fires no timer after stop', () => {
    const t = setup();
    t.setPlan(plan({ a: 100 }));
    t.publisher.schedule();
    t.publisher.stop();
    t.clock.advance(DEBOUNCE_MS);
    expect(t.published).toHaveLength(0);
  });

  it('reports a broker as overloaded while its weight is cut for overload, and leaves excluded brokers out', async () => {
    const t = setup();
    const decision = (name: string, overload: number, excluded = false): PlanOutcome['decisions'][number] => ({
      name,
      weight: 100,
      health: 'serving',
      excluded,
      capacitySource: 'hint',
      factors: { catchUp: 1, slowStart: 1, overload, stale: 1, fill: 1 },
      reason: '',
      inputs: {},
    });
    t.setPlan(plan({ a: 100, b: 20 }), [decision('a', 1), decision('b', 0.2), decision('c', 1, true)]);
    t.publisher.schedule();
    t.clock.advance(DEBOUNCE_MS);
    const values = (await t.registry.getSingleMetric('mqtt_xds_broker_overloaded')?.get())?.values ?? [];
    expect(values.map((v) => `${v.labels.broker} ${v.value}`).sort()).toEqual(['a 0', 'b 1']);
  });
});
