// The operator's balancing policy: one YAML document (a file, later a ConfigMap key).
// docs/policy.md documents every field, its default and the algorithm that reads it.
import { BROKER_NAME } from '../domain/broker';
import { MAX_WEIGHT_SUM } from '../domain/weight-plan';
import { fail, ok, type Problem, type Result } from '../util/result';
import { describeNode, parseYamlDoc } from '../util/yaml-doc';
import { checkPolicy } from './policy-checks';
import { DEFAULT_LIMITS, LIMITS } from './policy-limits';
import { DEFAULT_MQTT_FILTER, MAX_STICKY_SALTS, MQTT_FILTER } from './policy-mqtt-filter';
import { TENANTS, UNKNOWN_SERVER_NAME_READER } from './policy-tenants';
import {
  AUTO_CAPACITY,
  CONTROLLER_MODES,
  LAGGARD_ACTIONS,
  MOVE_ORDERS,
  REBALANCE_MODES,
  SMOOTHING_UNITS,
  SUSPECT_DIRECTIONS,
  type BrokerOverride,
  type CapacityClass,
  type OverloadPolicy,
  type Policy,
  type SignalWeights,
} from './policy-types';
import {
  flag,
  mapOf,
  name,
  numberIn,
  numberOr,
  numberOrOff,
  oneOf,
  partial,
  section,
  type Fields,
  type ReadContext,
  type Reader,
} from './policy-schema';

export { diffPolicies } from './policy-diff';
export * from './policy-types';
export type { ConnectionLimitsPolicy, ConnectRatePolicy, LimitsPolicy } from './policy-limits';
export type { MqttFilterPolicy } from './policy-mqtt-filter';
export { TENANT_NAME, type TenantPolicy, type UnknownServerName } from './policy-tenants';

const DEFAULT_POLICY: Policy = deepFreeze({
  weightScale: 1000,
  bounds: { floor: 1, ceiling: 100_000 },
  signals: { connections: 1, publishRate: 0, cpu: 0 },
  capacity: {
    classes: {},
    brokers: {},
    default: AUTO_CAPACITY,
    inference: { minCpu: 0.05, alpha: 0.2, maxThrottledRatio: 0.05, maxStepRatio: 1.2, minRelativeCpu: 0.5 },
  },
  catchUp: { maxBoost: 4, gain: 1, quietConnections: 20, fill: { below: 0.25, until: 0.05, weightFactor: 0.05 } },
  overload: {
    levelThreshold: 1,
    cpuThreshold: 0.9,
    throttledThreshold: 0.25,
    backpressureClientsThreshold: 1,
    notWritableRatioThreshold: 0.05,
    weightFactor: 0.01,
    holdMs: 15_000,
    confirmSamples: 2,
    onScrapeTimeout: true,
  },
  suspect: { direction: 'both', tolerance: 0.25, minConnections: 20, samples: 2 },
  controller: { mode: 'damped', horizonMs: 'auto', deadband: 0.03, minFactor: 0.05, maxGain: 20, lifetimeMs: 'auto' },
  slowStart: { windowMs: 60_000, startFraction: 0.1 },
  autoscaling: { targetUtilisation: 0.7 },
  smoothing: { per: 'second', alpha: 0.3, minRelativeChange: 0.1, maxStepRatio: 2 },
  stale: { graceMs: 30_000, decayMs: 60_000 },
  overrides: {},
  limits: DEFAULT_LIMITS,
  tenants: {},
  unknownServerName: 'default',
  mqttFilter: DEFAULT_MQTT_FILTER,
  rebalance: {
    mode: 'dry-run',
    tolerance: 0.1,
    minExcess: 10,
    ratePerSec: 200,
    maxInFlight: 1000,
    order: 'oldest-first',
    batchSize: 100,
    safeOnly: false,
    ackTimeoutMs: 30_000,
    laggardAction: 'proceed',
    agentTimeoutMs: 5_000,
    retryAfterMs: 30_000,
    stickySaltsMax: 1000,
    stickySaltTtlMs: 3_600_000,
  },
  drain: { moveClients: true, deadlineMs: 600_000 },
});

/** The built-in policy (frozen); what an empty mapping `{}` means. */
export function defaultPolicy(): Policy {
  return DEFAULT_POLICY;
}

// Class names are a bit stricter than broker names (domain/broker.ts).
const CLASS_NAME = {
  pattern: /^[a-z][a-z0-9-]{0,62}$/,
  allowed: 'lower-case letters, digits and "-", starting with a letter, at most 63 characters',
};
const DAY_MS = 86_400_000;

const int = (min: number, max: number): Reader<number> => numberIn({ min, max, integer: true });
const weight = int(1, MAX_WEIGHT_SUM);
const fraction = numberIn({ min: 0, max: 1, minExclusive: true });
const nonNegative = numberIn({ min: 0, max: Infinity });
const positive = numberIn({ min: 0, max: Infinity, minExclusive: true });
const durationMs = int(0, DAY_MS);
const className = name(CLASS_NAME.pattern, `a class name (${CLASS_NAME.allowed})`);

const capacityFields: Fields<CapacityClass> = { connections: int(1, Number.MAX_SAFE_INTEGER), publishRatePerSec: positive };
const signalFields: Fields<SignalWeights> = { connections: nonNegative, publishRate: nonNegative, cpu: nonNegative };
const overloadFields: Fields<OverloadPolicy> = {
  levelThreshold: numberOrOff({ min: 1, max: Infinity, integer: true }),
  cpuThreshold: numberOrOff({ min: 0, max: 1, minExclusive: true }),
  throttledThreshold: numberOrOff({ min: 0, max: 1, minExclusive: true }),
  backpressureClientsThreshold: numberOrOff({ min: 1, max: Infinity, integer: true }),
  notWritableRatioThreshold: numberOrOff({ min: 0, max: 1, minExclusive: true }),
  weightFactor: fraction,
  holdMs: int(0, DAY_MS),
  confirmSamples: int(1, 10),
  onScrapeTimeout: flag,
};

const D = DEFAULT_POLICY;
const POLICY: Reader<Policy> = section<Policy>(
  {
    weightScale: weight,
    bounds: section({ floor: weight, ceiling: weight }, D.bounds),
    signals: section(signalFields, D.signals),
    capacity: section(
      {
        classes: mapOf(CLASS_NAME, partial(capacityFields, ['connections'])),
        brokers: mapOf(BROKER_NAME, className),
        default: className,
        inference: section(
          {
            minCpu: fraction,
            alpha: fraction,
            maxThrottledRatio: numberIn({ min: 0, max: 1 }),
            maxStepRatio: numberIn({ min: 1, max: 1000, minExclusive: true }),
            minRelativeCpu: numberIn({ min: 0, max: 1 }),
          },
          D.capacity.inference,
        ),
      },
      D.capacity,
    ),
    catchUp: section(
      {
        maxBoost: numberIn({ min: 1, max: 100 }),
        gain: numberIn({ min: 0, max: 4 }),
        quietConnections: numberIn({ min: 0, max: 1_000_000 }),
        fill: section(
          { below: numberOrOff({ min: 0, max: 1, minExclusive: true }), until: numberIn({ min: 0, max: 1 }), weightFactor: fraction },
          D.catchUp.fill,
        ),
      },
      D.catchUp,
    ),
    overload: section(overloadFields, D.overload),
    controller: section(
      {
        mode: oneOf(CONTROLLER_MODES),
        horizonMs: numberOr('auto', { min: 1000, max: DAY_MS, integer: true }),
        deadband: numberIn({ min: 0, max: 0.5 }),
        minFactor: numberIn({ min: 0.001, max: 1 }),
        maxGain: numberIn({ min: 0, max: 1000, minExclusive: true }),
        lifetimeMs: numberOr('auto', { min: 1000, max: 365 * DAY_MS, integer: true }),
      },
      D.controller,
    ),
    suspect: section(
      {
        direction: oneOf(SUSPECT_DIRECTIONS),
        tolerance: numberIn({ min: 0, max: 10 }),
        minConnections: int(0, 1_000_000),
        samples: int(1, 10),
      },
      D.suspect,
    ),
    slowStart: section({ windowMs: durationMs, startFraction: fraction }, D.slowStart),
    autoscaling: section({ targetUtilisation: fraction }, D.autoscaling),
    smoothing: section(
      {
        per: oneOf(SMOOTHING_UNITS),
        alpha: fraction,
        minRelativeChange: numberIn({ min: 0, max: 0.5 }),
        maxStepRatio: numberIn({ min: 1, max: 1000, minExclusive: true }),
      },
      D.smoothing,
    ),
    stale: section({ graceMs: durationMs, decayMs: durationMs }, D.stale),
    overrides: mapOf(
      BROKER_NAME,
      partial<BrokerOverride>({
        weight,
        exclude: flag,
        drain: flag,
        capacityClass: className,
        capacity: partial(capacityFields),
        signals: partial(signalFields),
        overload: partial(overloadFields),
      }),
    ),
    rebalance: section(
      {
        mode: oneOf(REBALANCE_MODES),
        tolerance: numberIn({ min: 0, max: 10 }),
        minExcess: int(1, 1_000_000),
        ratePerSec: numberIn({ min: 0, max: 100_000, minExclusive: true }),
        maxInFlight: int(1, 10_000_000),
        order: oneOf(MOVE_ORDERS),
        batchSize: int(1, 1000),
        safeOnly: flag,
        ackTimeoutMs: int(100, DAY_MS),
        laggardAction: oneOf(LAGGARD_ACTIONS),
        agentTimeoutMs: int(100, 600_000),
        retryAfterMs: int(0, DAY_MS),
        stickySaltsMax: int(0, MAX_STICKY_SALTS),
        stickySaltTtlMs: int(60_000, 7 * DAY_MS),
      },
      D.rebalance,
    ),
    drain: section({ moveClients: flag, deadlineMs: int(1000, 7 * DAY_MS) }, D.drain),
    limits: LIMITS,
    tenants: TENANTS,
    unknownServerName: UNKNOWN_SERVER_NAME_READER,
    mqttFilter: MQTT_FILTER,
  },
  D,
);

/**
 * Parses and validates a policy document. Reports every problem at once, each with its
 * path (`overrides.broker-a.weight`) and line. Unknown keys are errors, with a suggestion.
 */
export function parsePolicy(text: string, source: string): Result<Policy> {
  const yaml = parseYamlDoc(text, { path: source, code: 'POLICY_SYNTAX' });
  if (yaml.syntaxProblems.length > 0) return fail(yaml.syntaxProblems);
  if (yaml.empty) {
    // A half-written file must not silently drop every override (an excluded broker would return).
    return fail([{ code: 'POLICY_EMPTY', path: source, line: 1, message: `${source} is empty; write "{}" to use the built-in defaults` }]);
  }
  const ctx: ReadContext = { yaml, problems: [], lines: new Map() };
  const root = yaml.doc.contents;
  const value = POLICY(root, '', root, ctx);
  if (ctx.problems.length === 1 && ctx.problems[0].code === 'POLICY_NOT_A_MAPPING' && ctx.problems[0].path === '') {
    return fail([{ ...ctx.problems[0], path: source, message: `expected a mapping of policy settings, got ${describeNode(root)}` }]);
  }
  if (value === undefined || ctx.problems.length > 0) return fail(ctx.problems);
  const cross: Problem[] = checkPolicy(value, ctx.lines);
  return cross.length > 0 ? fail(cross) : ok(deepFreeze(value));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
