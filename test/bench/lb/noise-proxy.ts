// Noisy metrics for the `noise` event: an HTTP proxy between mqtt-xds's scraper and the
// brokers' /metrics that multiplies the instantaneous gauges (connections, CPU,
// not-writable and back-pressure clients) by an independent factor 1 ± ratio on every
// scrape while noise is on. Counters pass untouched (HiveMQ's counters are exact), except
// process CPU seconds: mqtt-xds reads CPU as their rate over the agent's CPU limit, so the
// noise goes on their increase since the last scrape, which keeps the counter monotonic
// (a noisy value would look like a reset). The test broker's own --noise
// (brokers[].cpuNoise) touches CPU only and is fixed at launch; this one can start and stop
// mid-run.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { javaDouble } from '../../tools/testbroker/capacity-metrics';
import { seeded, type Random } from './rng';

const NOISY_GAUGES: ReadonlyArray<{ name: string; max?: number; integer: boolean }> = [
  { name: 'com_hivemq_networking_connections_current', integer: true },
  { name: 'com_hivemq_mqtt_connection_not_writable_current', integer: true },
  { name: 'com_hivemq_overload_protection_clients_backpressure_active', integer: true },
  { name: 'com_hivemq_system_os_global_cpu_total_total', max: 100, integer: false },
];
/** Counters whose increase gets the noise: a rate of them is a signal. */
const NOISY_COUNTERS: readonly string[] = ['process_cpu_seconds_total'];

export class NoiseProxy {
  private readonly server: http.Server;
  private readonly upstream = new Map<string, string>();
  private readonly ratio = new Map<string, number>();
  private readonly random: Random;
  /** Its own stream, so the gauges get the same noise as before the counters got any. */
  private readonly counterRandom: Random;
  /** Per broker and counter: the real value last seen and the value served for it. */
  private readonly counters = new Map<string, { real: number; served: number }>();
  private port = 0;

  constructor(seed: number) {
    this.random = seeded(seed, 'metrics-noise');
    this.counterRandom = seeded(seed, 'metrics-noise-counters');
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The URL mqtt-xds should scrape for `broker`, whose real page is `metricsUrl`. */
  route(broker: string, metricsUrl: string): string {
    this.upstream.set(broker, metricsUrl);
    return `http://127.0.0.1:${this.port}/${encodeURIComponent(broker)}/metrics`;
  }

  /** 0 switches the noise off. */
  setNoise(broker: string, ratio: number): void {
    this.ratio.set(broker, ratio);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const broker = decodeURIComponent((req.url ?? '').split('/')[1] ?? '');
    const target = this.upstream.get(broker);
    if (!target) {
      res.writeHead(404).end(`no broker ${broker}\n`);
      return;
    }
    try {
      const upstream = await fetch(target, { signal: AbortSignal.timeout(5000) });
      const text = await upstream.text();
      const ratio = this.ratio.get(broker) ?? 0;
      res.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'text/plain' });
      // Once a counter was served noisy it stays offset, so it never seems to go down.
      res.end(upstream.ok ? this.addNoise(broker, text, ratio) : text);
    } catch (err) {
      // The broker is gone (it left) or slow: the scraper sees what it would see directly.
      res.writeHead(502).end(`${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  private addNoise(broker: string, text: string, ratio: number): string {
    return text
      .split('\n')
      .map((line) => {
        const counter = NOISY_COUNTERS.find((name) => line.startsWith(`${name} `));
        if (counter) return this.noisyCounter(`${broker}/${counter}`, line, ratio);
        if (ratio <= 0) return line;
        const gauge = NOISY_GAUGES.find((g) => line.startsWith(`${g.name} `) || line.startsWith(`${g.name}{`));
        if (!gauge) return line;
        const space = line.lastIndexOf(' ');
        const value = Number(line.slice(space + 1));
        if (!Number.isFinite(value)) return line;
        let noisy = Math.max(0, value * (1 + ratio * (2 * this.random() - 1)));
        if (gauge.max !== undefined) noisy = Math.min(gauge.max, noisy);
        if (gauge.integer) noisy = Math.round(noisy);
        return `${line.slice(0, space)} ${javaDouble(noisy)}`;
      })
      .join('\n');
  }

  private noisyCounter(key: string, line: string, ratio: number): string {
    const space = line.lastIndexOf(' ');
    const real = Number(line.slice(space + 1));
    if (!Number.isFinite(real)) return line;
    const last = this.counters.get(key);
    // First sight or a real reset (the broker restarted): served as it is.
    const served =
      last === undefined || real < last.real
        ? real
        : last.served + (real - last.real) * (ratio > 0 ? 1 + ratio * (2 * this.counterRandom() - 1) : 1);
    this.counters.set(key, { real, served });
    return served === real ? line : `${line.slice(0, space)} ${javaDouble(served)}`;
  }
}
