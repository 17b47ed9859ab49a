import { Counter, Registry } from 'prom-client';
import { holdStickyWeights, type BrokerDecision } from '../../../src/balancing';
import { defaultConfig, parsePolicy, withOverrides, type Policy } from '../../../src/config';
import type { EndpointHealth, PlannedEndpoint, WeightPlan } from '../../../src/domain';
import type { PlanOutcome } from '../../../src/planner';
import { ModelBuilder, Publisher } from '../../../src/publishing';
import { buildResources } from '../../../src/translation';
import { FakeClock } from '../../../src/util/clock';
import { silentLogger } from '../../../src/util/log';
import { SnapshotCache } from '../../../src/xds';

const endpoints = (weights: Record<string, number>, health: Record<string, EndpointHealth> = {}): PlannedEndpoint[] =>
  Object.entries(weights).map(([name, weight], i) => ({
    name,
    address: `10.0.0.${i + 1}`,
    port: 1883,
    websocketPort: 8083,
    weight,
    health: health[name] ?? 'serving',
  }));
const plan = (weights: Record<string, number>, health: Record<string, EndpointHealth> = {}): WeightPlan => ({
  endpoints: endpoints(weights, health),
});
const weightsOf = (eps: readonly PlannedEndpoint[]): Record<string, number> => Object.fromEntries(eps.map((e) => [e.name, e.weight]));
const BAND = { bandRatio: 0.2 };

describe('holdStickyWeights', () => {
  it('takes the first plan as it is', () => {
    const next = endpoints({ a: 1000, b: 1000 });
    expect(holdStickyWeights(undefined, next, BAND)).toEqual({ endpoints: next, took: 'first plan' });
  });

  it('keeps the held weights while every computed weight stays within the band', () => {
    const held = endpoints({ a: 1000, b: 1000, c: 1000 });
    const out = holdStickyWeights(held, endpoints({ a: 1190, b: 820, c: 1000 }), BAND);
    expect(weightsOf(out.endpoints)).toEqual({ a: 1000, b: 1000, c: 1000 });
    expect(out.took).toBeUndefined();
  });

  it('takes every computed weight once one leaves the band, either way', () => {
    const held = endpoints({ a: 1000, b: 1000, c: 1000 });
    const up = holdStickyWeights(held, endpoints({ a: 1210, b: 950, c: 1050 }), BAND);
    expect(weightsOf(up.endpoints)).toEqual({ a: 1210, b: 950, c: 1050 });
    expect(up.took).toBe('a from 1000 to 1210: 21.0% beyond the ±20.0% band');
    const down = holdStickyWeights(held, endpoints({ a: 1000, b: 790, c: 1000 }), BAND);
    expect(weightsOf(down.endpoints)).toEqual({ a: 1000, b: 790, c: 1000 });
    expect(down.took).toContain('b from 1000 to 790');
  });

  it('measures the drift from the weights held, not from the last computed ones', () => {
    let held = endpoints({ a: 1000, b: 1000 });
    for (const a of [1100, 1150, 1190]) {
      const out = holdStickyWeights(held, endpoints({ a, b: 1000 }), BAND);
      expect(out.took).toBeUndefined();
      held = [...out.endpoints];
    }
    expect(holdStickyWeights(held, endpoints({ a: 1201, b: 1000 }), BAND).took).toContain('a from 1000 to 1201');
  });

  it('takes a DRAINING broker at once, whatever the weights, and its return too', () => {
    const held = endpoints({ a: 1000, b: 1000 });
    const drained = holdStickyWeights(held, endpoints({ a: 1050, b: 1000 }, { b: 'draining' }), BAND);
    expect(drained.endpoints.map((e) => [e.name, e.weight, e.health])).toEqual([
      ['a', 1050, 'serving'],
      ['b', 1000, 'draining'],
    ]);
    expect(drained.took).toBe('b draining');
    expect(holdStickyWeights(drained.endpoints, endpoints({ a: 1050, b: 1000 }), BAND).took).toBe('b serving');
  });

  it('takes a broker added or removed at once, with everybody’s computed weights', () => {
    const held = endpoints({ a: 1000, b: 1000 });
    const added = holdStickyWeights(held, endpoints({ a: 1050, b: 990, c: 100 }), BAND);
    expect(weightsOf(added.endpoints)).toEqual({ a: 1050, b: 990, c: 100 });
    expect(added.took).toBe('brokers added or removed');
    const swapped = holdStickyWeights(held, endpoints({ a: 1000, c: 1000 }), BAND);
    expect(swapped.took).toBe('brokers added, removed or moved');
    const moved = holdStickyWeights(held, [held[0], { ...held[1], port: 1884 }], BAND);
    expect(moved.took).toBe('brokers added, removed or moved');
  });

  it('takes the cut of an overloaded broker at once, even inside the band', () => {
    const held = endpoints({ a: 1000, b: 1000 });
    const next = endpoints({ a: 900, b: 1050 });
    expect(holdStickyWeights(held, next, BAND).took).toBeUndefined();
    const cut = holdStickyWeights(held, next, { ...BAND, overloaded: new Set(['a']) });
    expect(weightsOf(cut.endpoints)).toEqual({ a: 900, b: 1050 });
    expect(cut.took).toBe('a overloaded: cut from 1000 to 900');
    // An overloaded broker whose weight rises inside the band waits like any other.
    expect(holdStickyWeights(held, endpoints({ a: 1100, b: 1000 }), { ...BAND, overloaded: new Set(['a']) }).took).toBeUndefined();
  });

  it('holds nothing with a band of 0', () => {
    const held = endpoints({ a: 1000, b: 1000 });
    const out = holdStickyWeights(held, endpoints({ a: 1001, b: 1000 }), { bandRatio: 0 });
    expect(weightsOf(out.endpoints)).toEqual({ a: 1001, b: 1000 });
  });
});

function policyOf(text: string): Policy {
  const r = parsePolicy(text, 'p.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

const STICKY = 'mqttFilter: { enabled: true, placement: sticky }\n';
const MODULE = { base64: 'AGFzbQEAAAA=', sha256: 'x' };

/** ModelBuilder + Publisher + SnapshotCache, as main.ts wires them, with no push interval. */
function pipeline(policyText: string, mode: 'metrics' | 'static' = 'metrics', websocketPort = 0) {
  const clock = new FakeClock(0);
  const cache = new SnapshotCache();
  const registry = new Registry();
  const rejected = new Counter({ name: 'mqtt_xds_input_rejected_total', help: 'h', labelNames: ['stage', 'code'], registers: [registry] });
  let policy = policyOf(policyText);
  const config = withOverrides(defaultConfig('/tmp'), { balancing: { mode }, listener: { websocketPort } });
  const models = new ModelBuilder({ config, policy: () => policy, logger: silentLogger, mqttFilterModule: () => MODULE });
  let current: PlanOutcome | undefined;
  const publisher = new Publisher({
    cache,
    clock,
    logger: silentLogger,
    registry,
    rejected,
    debounceMs: 10,
    minPushIntervalMs: 0,
    plan: () => current,
    model: (p, d) => models.build(p, d),
    published: () => models.committed(),
  });
  const push = (p: WeightPlan, decisions: readonly BrokerDecision[] = []): void => {
    current = { plan: p, decisions };
    publisher.schedule();
    clock.advance(10);
  };
  /** The weights in the last published ClusterLoadAssignment of `cluster`. */
  const edsOf = (cluster: string): Record<string, number> => {
    const resources = lastResources();
    const cla = resources.endpoints.find((c) => c.cluster_name === cluster);
    if (!cla) throw new Error(`no ${cluster}`);
    return Object.fromEntries(
      (cla.endpoints ?? []).flatMap((l) =>
        (l.lb_endpoints ?? []).map((e) => [e.endpoint?.hostname ?? '', Number(e.load_balancing_weight?.value)]),
      ),
    );
  };
  let last: ReturnType<typeof buildResources> | undefined;
  const lastResources = (): ReturnType<typeof buildResources> => {
    if (!last) throw new Error('nothing published');
    return last;
  };
  // Every publish goes through cache.publish: keep the set it was given, or refuse it.
  const publish = cache.publish.bind(cache);
  let refusing = false;
  cache.publish = (set) => {
    if (refusing) return { ok: false, problems: [{ code: 'TEST_REFUSED', message: 'refused by the test', path: 'test' }] };
    last = set;
    return publish(set);
  };
  const version = (): string | undefined => cache.snapshot()?.version;
  return {
    push,
    edsOf,
    version,
    setPolicy: (text: string) => (policy = policyOf(text)),
    refuse: (on: boolean) => (refusing = on),
  };
}

describe('sticky clusters in the published snapshot', () => {
  it('publishes nothing new for a weight change inside the band, and the new weights beyond it', () => {
    const p = pipeline(STICKY);
    p.push(plan({ a: 1000, b: 1000, c: 1000 }));
    const first = p.version();
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1000, b: 1000, c: 1000 });
    p.push(plan({ a: 1150, b: 900, c: 1000 }));
    expect(p.version()).toBe(first);
    p.push(plan({ a: 1300, b: 880, c: 1000 }));
    expect(p.version()).not.toBe(first);
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1300, b: 880, c: 1000 });
  });

  it('keeps holding the weights that are out when a snapshot with new ones is refused', () => {
    const p = pipeline(STICKY);
    p.push(plan({ a: 1000, b: 1000 }));
    // Beyond the band, but refused: Envoy still has 1000/1000, so that stays the reference.
    p.refuse(true);
    p.push(plan({ a: 1300, b: 1000 }));
    p.refuse(false);
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1000, b: 1000 });
    // 1100 is within the band of what is out (1000), though not of the refused 1300.
    p.push(plan({ a: 1100, b: 1000 }));
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1000, b: 1000 });
    p.push(plan({ a: 1250, b: 1000 }));
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1250, b: 1000 });
  });

  it('publishes a drain, a new broker and an overload cut at once', () => {
    const p = pipeline(STICKY);
    p.push(plan({ a: 1000, b: 1000 }));
    p.push(plan({ a: 1100, b: 1000 }, { b: 'draining' }));
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1100, b: 1000 });
    p.push(plan({ a: 1100, b: 1000, c: 100 }));
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1100, b: 1000, c: 100 });
    const overloaded: BrokerDecision = {
      name: 'a',
      weight: 1000,
      health: 'serving',
      excluded: false,
      capacitySource: 'neutral',
      factors: { catchUp: 1, slowStart: 1, overload: 1, stale: 1, fill: 1 },
      reason: 'cpu 0.95 >= 0.9: overloaded, counted as full',
      inputs: {},
      overloaded: true,
      overloadSevere: true,
    };
    p.push(plan({ a: 1000, b: 1000, c: 110 }), [overloaded]);
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1000, b: 1000, c: 110 });
  });

  it('holds a cut at an overload threshold to the band, and floors the broker at its share of the connections', () => {
    const p = pipeline(STICKY);
    const held = (name: string, connections: number, extra: Partial<BrokerDecision> = {}): BrokerDecision => ({
      name,
      weight: 1000,
      health: 'serving',
      excluded: false,
      capacitySource: 'hint',
      capacity: 400,
      factors: { catchUp: 1, slowStart: 1, overload: 1, stale: 1, fill: 1 },
      reason: '',
      inputs: { connections },
      ...extra,
    });
    p.push(plan({ a: 1000, b: 1000, c: 1000 }), [held('a', 300), held('b', 300), held('c', 300)]);
    const first = p.version();
    // At its threshold a is held to its fair share: inside the band, nothing new goes out.
    const mild = [held('a', 330, { overloaded: true }), held('b', 300), held('c', 300)];
    p.push(plan({ a: 900, b: 1050, c: 1050 }), mild);
    expect(p.version()).toBe(first);
    // A deeper cut at the threshold is floored at 0.9 x its share of the connections held.
    p.push(plan({ a: 100, b: 1300, c: 1300 }), mild);
    const eds = p.edsOf('mqtt_brokers');
    expect(eds.a / (eds.a + eds.b + eds.c)).toBeCloseTo((0.9 * 330) / 930, 2);
    // Counted as full, the cut goes out as computed.
    p.push(plan({ a: 100, b: 1100, c: 1100 }), [
      held('a', 330, { overloaded: true, overloadSevere: true }),
      held('b', 300),
      held('c', 300),
    ]);
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 100, b: 1100, c: 1100 });
  });

  it('leaves weighted placement, static mode and the WebSocket cluster following every change', () => {
    const weighted = pipeline('mqttFilter: { enabled: true, placement: weighted }\n');
    weighted.push(plan({ a: 1000, b: 1000 }));
    weighted.push(plan({ a: 1100, b: 1000 }));
    expect(weighted.edsOf('mqtt_brokers')).toEqual({ a: 1100, b: 1000 });

    const staticMode = pipeline(STICKY, 'static');
    staticMode.push(plan({ a: 1, b: 1 }));
    staticMode.push(plan({ a: 2, b: 1 }));
    expect(staticMode.edsOf('mqtt_brokers')).toEqual({ a: 2, b: 1 });

    const ws = pipeline(STICKY, 'metrics', 8083);
    ws.push(plan({ a: 1000, b: 1000 }));
    ws.push(plan({ a: 1100, b: 1000 }));
    expect(ws.edsOf('mqtt_brokers')).toEqual({ a: 1000, b: 1000 });
    expect(ws.edsOf('mqtt_brokers_ws')).toEqual({ a: 1100, b: 1000 });
  });

  it('takes the computed weights when the band is set to 0 or placement turns weighted', () => {
    const p = pipeline(STICKY);
    p.push(plan({ a: 1000, b: 1000 }));
    p.push(plan({ a: 1100, b: 1000 }));
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1000, b: 1000 });
    p.setPolicy('mqttFilter: { enabled: true, placement: sticky, stickyWeightBand: 0 }\n');
    p.push(plan({ a: 1100, b: 1000 }));
    expect(p.edsOf('mqtt_brokers')).toEqual({ a: 1100, b: 1000 });
  });
});
