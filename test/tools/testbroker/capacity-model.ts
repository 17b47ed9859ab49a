// The capacity model of the test broker: pure functions from measured traffic to the
// synthetic CPU and overload state a HiveMQ node of a given size would report. No I/O,
// no clock; docs/test-broker.md explains the model with worked examples.
//
//   cost(client)   = connectionCost + (publishRate + fanoutRate) × messageCost
//                    publishRate: PUBLISH packets/s the client sent over the window;
//                    fanoutRate:  copies/s the broker delivered of those messages, so
//                    publishRate + fanoutRate = publishRate × (1 + subscribers reached).
//   cost           = Σ cost(client) + extraCost (POST /admin/load)
//   utilisation    = cost / capacity
//   cpu (ideal)    = clamp(min(1, utilisation) × (1 + noise × (2r − 1)), 0, 1),
//                    r uniform in [0, 1) from a seeded generator, one draw per tick;
//                    the realistic CPU model (capacity-cpu.ts) replaces it when chosen
//   level          = 0 for u ≤ 0.8; 1..5 in steps of 0.04 up to u = 1.0;
//                    6..10 in steps of 0.1 above (u > 1.4 → 10);
//                    max(level, forced level) while POST /admin/overload is in force
//   credits/tick   = 200 − 18 × level (200 at level 0, 20 at level 10)
//   back-pressure  = clients with publishRate > 0 when level ≥ 6, else 0
//   not-writable   = round(receivers × min(1, u − 1)) for u > 1, else 0; receivers are
//                    clients that were sent at least one message in the window
//   drop ratio     = 1 − 1/u for u > 1, else 0 (share of delivered copies counted dropped)

export interface CapacityModelConfig {
  /** Cost units per second the broker can handle; utilisation 1.0 at this cost. */
  readonly capacity: number;
  /** Cost units per second of every connected client, busy or idle. */
  readonly connectionCost: number;
  /** Cost units of one message handled: one PUBLISH in, or one copy out. */
  readonly messageCost: number;
  /** Amplitude of the multiplicative CPU noise, 0 (none) to below 1. */
  readonly noise: number;
}

export const DEFAULT_CONNECTION_COST = 1;
export const DEFAULT_MESSAGE_COST = 1;

/** Utilisation above which the overload level leaves 0. */
export const OVERLOAD_START_UTILISATION = 0.8;
/** Level steps between OVERLOAD_START_UTILISATION and 1.0 (levels 1..5). */
export const LEVEL_STEP_BELOW_CAPACITY = 0.04;
/** Level steps above capacity (levels 6..10). */
export const LEVEL_STEP_ABOVE_CAPACITY = 0.1;
export const MAX_OVERLOAD_LEVEL = 10;
/** First level at which publishers are under back-pressure (utilisation above 1.0). */
export const BACKPRESSURE_LEVEL = 6;
export const CREDITS_PER_TICK_AT_LEVEL_0 = 200;
export const CREDITS_PER_TICK_STEP = 18;

/** What the broker measured for one client over the window. */
export interface ClientTraffic {
  /** PUBLISH packets per second the client sent. */
  readonly publishRate: number;
  /** Copies per second the broker delivered of this client's messages. */
  readonly fanoutRate: number;
  /** Copies per second the broker delivered to this client. */
  readonly receiveRate: number;
}

export interface ModelInput {
  readonly clients: readonly ClientTraffic[];
  /** Synthetic cost added by POST /admin/load. */
  readonly extraCost: number;
  /** Level forced by POST /admin/overload; 0 when none is in force. */
  readonly forcedLevel: number;
  /** One uniform draw in [0, 1) for the CPU noise. */
  readonly noiseSample: number;
}

export interface ModelOutput {
  readonly cost: number;
  readonly utilisation: number;
  /** Synthetic CPU, 0..1. */
  readonly cpu: number;
  /** The level the utilisation alone gives, before any forcing. */
  readonly utilisationLevel: number;
  readonly overloadLevel: number;
  readonly creditsPerTick: number;
  readonly backpressureClients: number;
  /** The model's not-writable connections (the broker adds real ones it can see). */
  readonly notWritable: number;
  /** Share of delivered copies the model counts as dropped. */
  readonly dropRatio: number;
}

export function clientCost(traffic: ClientTraffic, config: CapacityModelConfig): number {
  return config.connectionCost + (traffic.publishRate + traffic.fanoutRate) * config.messageCost;
}

/** Steps of `step` above 0 that `excess` reaches, counting a partial step as one. */
function stepsAbove(excess: number, step: number): number {
  // The epsilon keeps 1.1 − 1.0 (= 0.10000000000000009) in the first step, not the second.
  return Math.ceil(excess / step - 1e-9);
}

export function overloadLevelFor(utilisation: number): number {
  if (!(utilisation > OVERLOAD_START_UTILISATION)) return 0;
  if (utilisation <= 1) {
    return Math.max(1, stepsAbove(utilisation - OVERLOAD_START_UTILISATION, LEVEL_STEP_BELOW_CAPACITY));
  }
  const belowCapacityLevels = Math.round((1 - OVERLOAD_START_UTILISATION) / LEVEL_STEP_BELOW_CAPACITY);
  return Math.min(MAX_OVERLOAD_LEVEL, belowCapacityLevels + Math.max(1, stepsAbove(utilisation - 1, LEVEL_STEP_ABOVE_CAPACITY)));
}

export function creditsPerTickFor(level: number): number {
  return CREDITS_PER_TICK_AT_LEVEL_0 - CREDITS_PER_TICK_STEP * level;
}

export function evaluateModel(config: CapacityModelConfig, input: ModelInput): ModelOutput {
  let cost = input.extraCost;
  let publishers = 0;
  let receivers = 0;
  for (const client of input.clients) {
    cost += clientCost(client, config);
    if (client.publishRate > 0) publishers += 1;
    if (client.receiveRate > 0) receivers += 1;
  }
  const utilisation = cost / config.capacity;
  const cpu = idealCpu(utilisation, config.noise, input.noiseSample);
  const utilisationLevel = overloadLevelFor(utilisation);
  const overloadLevel = Math.max(utilisationLevel, input.forcedLevel);
  return {
    cost,
    utilisation,
    cpu,
    utilisationLevel,
    overloadLevel,
    creditsPerTick: creditsPerTickFor(overloadLevel),
    backpressureClients: overloadLevel >= BACKPRESSURE_LEVEL ? publishers : 0,
    notWritable: utilisation > 1 ? Math.round(receivers * Math.min(1, utilisation - 1)) : 0,
    dropRatio: utilisation > 1 ? 1 - 1 / utilisation : 0,
  };
}

/**
 * The ideal CPU model (`--cpu-model ideal`): the CPU reading is the scored utilisation,
 * capped at 1, with multiplicative noise. It flatters a CPU-led balancer (issue 13), so
 * benchmarks use capacity-cpu.ts; this stays to repeat older results exactly.
 */
export function idealCpu(utilisation: number, noise: number, noiseSample: number): number {
  const factor = 1 + noise * (2 * noiseSample - 1);
  return clamp01(Math.min(1, utilisation) * factor);
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * A seeded generator of uniform numbers in [0, 1) (Marsaglia's xorshift32): the same
 * seed gives the same noise sequence, so a benchmark run can be repeated exactly.
 */
export function seededRandom(seed: number): () => number {
  // xorshift has the all-zero state as a fixed point; any other start works.
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}
