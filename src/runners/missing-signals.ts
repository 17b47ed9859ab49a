// Never silently neutral: when a broker's page lacks a signal the policy weighs or infers
// capacity from (BrokerDecision.missingSignals), say so once when it starts and once when
// it ends, per broker and signal, and keep mqtt_xds_signal_missing{broker,signal} at 1/0.
import { Gauge, type Registry } from 'prom-client';
import type { BrokerDecision } from '../balancing';
import type { WeighedSignal } from '../domain';
import type { Logger } from '../util/log';

/** What balancing does without the signal, and how to give it one. */
const CONSEQUENCE: Readonly<Record<WeighedSignal, string>> = {
  cpu:
    'the page has no CPU the control plane can use: signals.cpu drops out and capacity is not inferred (it falls back to neutral). ' +
    "Scrape the mqtt-xds agent's /metrics (CPU of the container's limit) or HiveMQ Enterprise's Prometheus extension " +
    '(whole-machine CPU), or give the broker a capacity class',
  publishRate: 'the page has no PUBLISH counters: signals.publishRate drops out of its utilisation',
  connections:
    'the page has no com_hivemq_networking_connections_current: signals.connections drops out and capacity is not inferred; ' +
    'does metricsUrl point at a HiveMQ metrics page?',
};

export interface MissingChanges {
  /** Broker → its missing signals now; brokers with none are left out. */
  readonly now: ReadonlyMap<string, ReadonlySet<WeighedSignal>>;
  readonly started: ReadonlyArray<readonly [string, WeighedSignal]>;
  /** The broker is still decided on and no longer lacks the signal (its page has it, or the policy no longer uses it). */
  readonly ended: ReadonlyArray<readonly [string, WeighedSignal]>;
}

/** Pure: what changed between the missing signals known before and these decisions. */
export function missingChanges(
  before: ReadonlyMap<string, ReadonlySet<WeighedSignal>>,
  decisions: readonly BrokerDecision[],
): MissingChanges {
  const now = new Map<string, ReadonlySet<WeighedSignal>>();
  const started: Array<readonly [string, WeighedSignal]> = [];
  const ended: Array<readonly [string, WeighedSignal]> = [];
  for (const d of decisions) {
    const was = before.get(d.name);
    const missing = new Set(d.missingSignals ?? []);
    if (missing.size > 0) now.set(d.name, missing);
    for (const s of missing) if (!was?.has(s)) started.push([d.name, s]);
    for (const s of was ?? []) if (!missing.has(s)) ended.push([d.name, s]);
  }
  return { now, started, ended };
}

/** The shell around missingChanges: logs transitions and keeps the gauge. */
export class MissingSignalReport {
  private known: ReadonlyMap<string, ReadonlySet<WeighedSignal>> = new Map();
  /** Brokers with a series in the gauge, so one that leaves (or static mode) leaves no series behind. */
  private readonly withSeries = new Set<string>();
  private readonly gauge: Gauge<'broker' | 'signal'>;

  constructor(
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.gauge = new Gauge({
      name: 'mqtt_xds_signal_missing',
      help: "1 while a broker's metrics page lacks a signal the policy weighs or infers capacity from; 0 once it is back",
      labelNames: ['broker', 'signal'],
      registers: [registry],
    });
  }

  /** Called with every computed plan's decisions; cheap when nothing is missing. */
  observe(decisions: readonly BrokerDecision[]): void {
    if (this.withSeries.size === 0 && !decisions.some((d) => d.missingSignals !== undefined)) return;
    const c = missingChanges(this.known, decisions);
    for (const [broker, signal] of c.started) {
      this.gauge.set({ broker, signal }, 1);
      this.withSeries.add(broker);
      this.log.warn('broker metrics lack a signal the policy uses; balancing goes on without it', {
        broker,
        signal,
        consequence: CONSEQUENCE[signal],
      });
    }
    for (const [broker, signal] of c.ended) {
      this.gauge.set({ broker, signal }, 0);
      // The page has it again, or the policy no longer uses it (a class given, the broker excluded).
      this.log.info('broker no longer lacks a signal the policy uses', { broker, signal });
    }
    const present = new Set(decisions.map((d) => d.name));
    for (const broker of this.withSeries) {
      if (present.has(broker)) continue;
      for (const signal of Object.keys(CONSEQUENCE)) this.gauge.remove({ broker, signal });
      this.withSeries.delete(broker);
    }
    this.known = c.now;
  }
}
