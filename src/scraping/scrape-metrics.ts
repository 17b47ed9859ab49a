import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SCRAPE_ERROR_CODES, type ScrapeErrorCode } from './fetch-page';

/** The scraper's own Prometheus metrics, labelled by broker name. */
export class ScrapeMetrics {
  private readonly duration: Histogram<'broker'>;
  private readonly errors: Counter<'broker' | 'code'>;
  private readonly staleGauge: Gauge<'broker'>;
  private readonly quick: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.duration = new Histogram({
      name: 'mqtt_xds_scrape_duration_seconds',
      help: "Time to fetch and parse one broker's metrics page, failed attempts included",
      labelNames: ['broker'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.errors = new Counter({
      name: 'mqtt_xds_scrape_errors_total',
      help: 'Failed scrapes of a broker, by stable error code',
      labelNames: ['broker', 'code'],
      registers,
    });
    this.staleGauge = new Gauge({
      name: 'mqtt_xds_broker_stale',
      help: '1 while the last good scrape of a broker is older than the staleness limit (or there is none)',
      labelNames: ['broker'],
      registers,
    });
    this.quick = new Counter({
      name: 'mqtt_xds_scrape_quick_rounds_total',
      help: 'Rounds brought forward to scrape.quickIntervalMs because an overload or a suspect page awaited its confirming scrape',
      registers,
    });
  }

  observed(broker: string, seconds: number): void {
    this.duration.observe({ broker }, seconds);
  }
  failed(broker: string, code: ScrapeErrorCode): void {
    this.errors.inc({ broker, code });
  }
  stale(broker: string, isStale: boolean): void {
    this.staleGauge.set({ broker }, isStale ? 1 : 0);
  }
  hurried(): void {
    this.quick.inc();
  }
  /** A broker left discovery: drop its series so they do not linger forever. */
  forget(broker: string): void {
    this.duration.remove({ broker });
    this.staleGauge.remove({ broker });
    for (const code of SCRAPE_ERROR_CODES) this.errors.remove({ broker, code });
  }
}
