// The test broker's simulated state over time: the ledger's measured traffic, the pure
// capacity and CPU models, the admin overrides (forced overload, extra load) and the
// counters that integrate over time (process CPU seconds, CFS periods, dropped messages).
// The broker calls `tick` on a timer; every value it exports comes from the last tick's
// snapshot. Time is always passed in, so tests drive it with a fake clock.
import { ClientLedger, type ClientInfo, type WindowConfig } from './capacity-ledger';
import {
  accumulateCpu,
  INITIAL_CPU_STATE,
  limitSourceOf,
  resolveCpuConfig,
  stepCpu,
  viewedCpu,
  viewedLimitCores,
  workUtilisation,
  ZERO_CPU_COUNTERS,
  type CpuCounters,
  type CpuModelConfig,
  type CpuReading,
  type CpuState,
} from './capacity-cpu';
import { evaluateModel, seededRandom, type CapacityModelConfig, type ClientTraffic, type ModelOutput } from './capacity-model';

export interface SimulationConfig extends CapacityModelConfig, WindowConfig, Partial<Omit<CpuModelConfig, 'cores'>> {
  /** Seed of the CPU noise generator. */
  readonly seed: number;
  /** The node's CPU limit in cores: process_cpu_seconds_total grows by cpu × cores per second. */
  readonly cores: number;
  /** How often the broker ticks; a GC-like spike lasts whole ticks. Default 100. */
  readonly tickMs?: number;
}

/** Seeds the spike generator apart from the noise one, so the noise sequence is the ideal model's. */
const SPIKE_SEED_SALT = 0x5bd1e995;

export interface Override {
  readonly value: number;
  /** When it lapses (ms, same clock as `tick`); undefined = until replaced. */
  readonly untilMs?: number;
}

export interface CapacitySnapshot extends ModelOutput, CpuReading, CpuCounters {
  readonly atMs: number;
  readonly capacity: number;
  readonly connections: number;
  readonly extraCost: number;
  readonly forcedOverload?: Override;
  readonly extraLoad?: Override;
  /** PUBLISH packets received from clients since start. */
  readonly incomingPublishes: number;
  /** Message copies sent to subscribers since start. */
  readonly outgoingPublishes: number;
  /** Copies the model counts as dropped since start (whole messages). */
  readonly droppedMessages: number;
  readonly cpuModel: CpuModelConfig['cpuModel'];
  /**
   * The cores the CPU reading is divided by (capacity-cpu.ts, viewedLimitCores), exported as
   * the mqtt-xds agent's CPU limit: `cores` in the limit view, so that
   * rate(processCpuSeconds) / cpuLimitCores is `cpu` again; the host's cores or the
   * rounded-up quota in the failure views.
   */
  readonly cpuLimitCores: number;
  readonly cpuLimitSource: 'cgroup-v2' | 'host';
  /** CPU used over cpuLimitCores: `cpu` as the chosen view reads it. */
  readonly viewedCpu: number;
  /** Sessions accepted since start from clients that chose their own id (see countClientConnect). */
  readonly clientConnects: number;
}

/** Keeps the last `size` values, for Dropwizard-style quantiles. */
class SlidingReservoir {
  private readonly values: number[] = [];
  private next = 0;
  count = 0;

  constructor(private readonly size: number) {}

  add(value: number): void {
    this.count += 1;
    if (this.values.length < this.size) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % this.size;
  }

  /** Linear interpolation at position q × (n + 1) of the sorted values; 0 when empty. */
  quantile(q: number): number {
    const sorted = [...this.values].sort((a, b) => a - b);
    const n = sorted.length;
    if (n === 0) return 0;
    const pos = q * (n + 1);
    if (pos < 1) return sorted[0];
    if (pos >= n) return sorted[n - 1];
    const lower = sorted[Math.floor(pos) - 1];
    const upper = sorted[Math.floor(pos)];
    return lower + (pos - Math.floor(pos)) * (upper - lower);
  }
}

export const PAYLOAD_QUANTILES = [0.5, 0.75, 0.95, 0.98, 0.99, 0.999] as const;

export class CapacitySimulation {
  readonly ledger: ClientLedger;
  private readonly random: () => number;
  private readonly spikeRandom: () => number;
  private readonly cpuConfig: CpuModelConfig;
  private cpuState: CpuState = INITIAL_CPU_STATE;
  private counters: CpuCounters = ZERO_CPU_COUNTERS;
  private readonly payloadSizes = new SlidingReservoir(1028);
  private incoming = 0;
  private outgoing = 0;
  private dropped = 0;
  private connects = 0;
  private forced?: Override;
  private extra?: Override;
  private snapshot: CapacitySnapshot;

  constructor(
    readonly config: SimulationConfig,
    startMs: number,
  ) {
    this.ledger = new ClientLedger(config);
    this.random = seededRandom(config.seed);
    this.spikeRandom = seededRandom(config.seed ^ SPIKE_SEED_SALT);
    this.cpuConfig = resolveCpuConfig(config);
    this.snapshot = this.evaluate(startMs, 0, [], 0);
  }

  /** The state as of the last tick. */
  get last(): CapacitySnapshot {
    return this.snapshot;
  }

  onPublish(clientId: string, payloadBytes: number, nowMs: number): void {
    this.incoming += 1;
    this.payloadSizes.add(payloadBytes);
    this.ledger.recordPublish(clientId, nowMs);
  }

  onDeliver(publisherId: string | undefined, receiverId: string, nowMs: number): void {
    this.outgoing += 1;
    this.ledger.recordDelivery(publisherId, receiverId, nowMs);
  }

  /**
   * One more client session accepted. The broker leaves out sessions whose id it assigned
   * (an empty client id): Envoy's MQTT health check connects that way, and benchmarks use
   * this count to see how many clients a balancer routed to the broker.
   */
  countClientConnect(): void {
    this.connects += 1;
  }

  /** Level 0 ends any forcing; `durationMs` undefined forces until the next call. */
  forceOverload(level: number, durationMs: number | undefined, nowMs: number): void {
    this.forced = level === 0 ? undefined : { value: level, untilMs: untilOf(durationMs, nowMs) };
  }

  /** Replaces the extra cost; 0 removes it. */
  setExtraLoad(extraCost: number, durationMs: number | undefined, nowMs: number): void {
    this.extra = extraCost === 0 ? undefined : { value: extraCost, untilMs: untilOf(durationMs, nowMs) };
  }

  payloadSizeQuantiles(): { quantiles: Array<[number, number]>; count: number } {
    return {
      quantiles: PAYLOAD_QUANTILES.map((q) => [q, this.payloadSizes.quantile(q)]),
      count: this.payloadSizes.count,
    };
  }

  clients(nowMs: number): ClientInfo[] {
    return this.ledger.list(nowMs);
  }

  /**
   * Re-evaluates the model at `nowMs`. Over the time since the previous tick, CPU seconds
   * and CFS periods grow at the previous tick's CPU (it held meanwhile) and drops at the
   * delivery rate now measured times the previous tick's drop ratio. `realNotWritable` is what the
   * broker sees on its sockets; the larger of it and the model's value is reported.
   */
  tick(nowMs: number, realNotWritable = 0): CapacitySnapshot {
    const previous = this.snapshot;
    const elapsedS = Math.max(0, nowMs - previous.atMs) / 1000;
    this.counters = accumulateCpu(this.counters, previous, this.config.cores, elapsedS);
    const traffic = this.ledger.traffic(nowMs);
    const fanoutRate = traffic.reduce((sum, t) => sum + t.fanoutRate, 0);
    this.dropped += fanoutRate * previous.dropRatio * elapsedS;
    this.snapshot = this.evaluate(nowMs, nowMs - previous.atMs, traffic, realNotWritable);
    return this.snapshot;
  }

  private evaluate(nowMs: number, elapsedMs: number, traffic: readonly ClientTraffic[], realNotWritable: number): CapacitySnapshot {
    if (lapsed(this.forced, nowMs)) this.forced = undefined;
    if (lapsed(this.extra, nowMs)) this.extra = undefined;
    const extraCost = this.extra?.value ?? 0;
    const noiseSample = this.random();
    const output = evaluateModel(this.config, { clients: traffic, extraCost, forcedLevel: this.forced?.value ?? 0, noiseSample });
    const cpu = this.cpuConfig;
    const realistic = cpu.cpuModel === 'realistic';
    const step = stepCpu(cpu, this.cpuState, {
      utilisation: output.utilisation,
      workUtilisation: realistic ? workUtilisation(traffic, extraCost, this.config, cpu.cpuFanoutExponent) : output.utilisation,
      elapsedMs,
      tickMs: this.config.tickMs ?? 100,
      noise: this.config.noise,
      // The ideal model draws nothing more, so its sequence is the one it always was.
      draws: realistic
        ? { noise: noiseSample, spikeStart: this.spikeRandom(), spikeLength: this.spikeRandom(), spikeSize: this.spikeRandom() }
        : { noise: noiseSample, spikeStart: 1, spikeLength: 0, spikeSize: 0 },
    });
    this.cpuState = step.state;
    return {
      ...output,
      ...step.reading,
      ...this.counters,
      notWritable: Math.max(output.notWritable, realNotWritable),
      atMs: nowMs,
      capacity: this.config.capacity,
      connections: this.ledger.size,
      extraCost,
      forcedOverload: this.forced,
      extraLoad: this.extra,
      incomingPublishes: this.incoming,
      outgoingPublishes: this.outgoing,
      droppedMessages: Math.floor(this.dropped),
      cpuModel: cpu.cpuModel,
      cpuLimitCores: viewedLimitCores(cpu),
      cpuLimitSource: limitSourceOf(cpu.cpuView),
      viewedCpu: viewedCpu(step.reading.cpu, cpu),
      clientConnects: this.connects,
    };
  }
}

function untilOf(durationMs: number | undefined, nowMs: number): number | undefined {
  return durationMs === undefined ? undefined : nowMs + durationMs;
}

function lapsed(override: Override | undefined, nowMs: number): boolean {
  return override?.untilMs !== undefined && nowMs >= override.untilMs;
}
