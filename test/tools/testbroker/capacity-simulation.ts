// The test broker's simulated state over time: the ledger's measured traffic, the pure
// capacity model, the admin overrides (forced overload, extra load) and the counters
// that integrate over time (process CPU seconds, dropped messages). The broker calls
// `tick` on a timer; every value it exports comes from the last tick's snapshot. Time is
// always passed in, so tests drive it with a fake clock.
import { ClientLedger, type ClientInfo, type WindowConfig } from './capacity-ledger';
import { evaluateModel, seededRandom, type CapacityModelConfig, type ClientTraffic, type ModelOutput } from './capacity-model';

export interface SimulationConfig extends CapacityModelConfig, WindowConfig {
  /** Seed of the CPU noise generator. */
  readonly seed: number;
  /** Cores the simulated node has: process_cpu_seconds_total grows by cpu × cores per second. */
  readonly cores: number;
}

export interface Override {
  readonly value: number;
  /** When it lapses (ms, same clock as `tick`); undefined = until replaced. */
  readonly untilMs?: number;
}

export interface CapacitySnapshot extends ModelOutput {
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
  /** Synthetic CPU integrated over time. */
  readonly processCpuSeconds: number;
  /**
   * The node's CPU in cores (`cores`), exported as the mqtt-xds agent's CPU limit, so that
   * rate(processCpuSeconds) / cpuLimitCores is the synthetic CPU again.
   */
  readonly cpuLimitCores: number;
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
  private readonly payloadSizes = new SlidingReservoir(1028);
  private incoming = 0;
  private outgoing = 0;
  private dropped = 0;
  private cpuSeconds = 0;
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
    this.snapshot = this.evaluate(startMs, [], 0);
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
   * grow at the previous tick's CPU (it held meanwhile) and drops at the delivery rate
   * now measured times the previous tick's drop ratio. `realNotWritable` is what the
   * broker sees on its sockets; the larger of it and the model's value is reported.
   */
  tick(nowMs: number, realNotWritable = 0): CapacitySnapshot {
    const previous = this.snapshot;
    const elapsedS = Math.max(0, nowMs - previous.atMs) / 1000;
    this.cpuSeconds += previous.cpu * this.config.cores * elapsedS;
    const traffic = this.ledger.traffic(nowMs);
    const fanoutRate = traffic.reduce((sum, t) => sum + t.fanoutRate, 0);
    this.dropped += fanoutRate * previous.dropRatio * elapsedS;
    this.snapshot = this.evaluate(nowMs, traffic, realNotWritable);
    return this.snapshot;
  }

  private evaluate(nowMs: number, traffic: readonly ClientTraffic[], realNotWritable: number): CapacitySnapshot {
    if (lapsed(this.forced, nowMs)) this.forced = undefined;
    if (lapsed(this.extra, nowMs)) this.extra = undefined;
    const extraCost = this.extra?.value ?? 0;
    const output = evaluateModel(this.config, {
      clients: traffic,
      extraCost,
      forcedLevel: this.forced?.value ?? 0,
      noiseSample: this.random(),
    });
    return {
      ...output,
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
      processCpuSeconds: this.cpuSeconds,
      cpuLimitCores: this.config.cores,
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
