// Bad metrics for mqtt-xds: an HTTP proxy between its scraper and the brokers' /metrics,
// used by the strategies that read metrics when a scenario has `noise`, `metrics-lie` or
// `metrics-slow` events. The broker itself carries on unchanged; only what mqtt-xds is
// told changes:
//   - noise: the instantaneous gauges × an independent 1 ± ratio on every scrape, and
//     the increase of process CPU seconds likewise (page-rewrite.ts);
//   - lies: idle (load gauges 0, counters standing still), frozen (the last page served
//     before the lie, byte for byte) or doubled (load gauges and counter increases × 2);
//   - slowness: the page answers only after a delay, as a broker too busy to answer.
// The test broker's own --noise (brokers[].cpuNoise) touches CPU only and is fixed at
// launch; these can start and stop mid-run.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rewritePage, type CounterState } from './page-rewrite';
import { seeded, type Random } from './rng';
import type { LieMode } from './scenario';

export class NoiseProxy {
  private readonly server: http.Server;
  private readonly upstream = new Map<string, string>();
  private readonly ratio = new Map<string, number>();
  private readonly lies = new Map<string, LieMode>();
  private readonly delays = new Map<string, number>();
  /** The last page served per broker: what a frozen page repeats. */
  private readonly lastServed = new Map<string, { status: number; type: string; body: string }>();
  private readonly random: Random;
  /** Its own stream, so the gauges get the same noise as before the counters got any. */
  private readonly counterRandom: Random;
  private readonly counters = new Map<string, CounterState>();
  /** Timers that end a lie or a delay, and pending slow answers: all cleared by stop(). */
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiting = new Set<() => void>();
  /** Per lie or delay and broker: bumped by every setting, so only the latest one's timer ends it. */
  private readonly generations = new Map<string, number>();
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

  /** Until `durationMs` is over (or a later lie replaces it); undefined ends the lie. */
  setLie(broker: string, mode: LieMode | undefined, durationMs?: number): void {
    this.setTimed(this.lies, broker, mode, durationMs);
  }

  /** Every answer for `broker` waits `delayMs` first; 0 ends it. */
  setDelay(broker: string, delayMs: number, durationMs?: number): void {
    this.setTimed(this.delays, broker, delayMs > 0 ? delayMs : undefined, durationMs);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const release of this.waiting) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private setTimed<T>(map: Map<string, T>, broker: string, value: T | undefined, durationMs: number | undefined): void {
    const key = `${map === this.lies ? 'lie' : 'delay'}/${broker}`;
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.set(key, generation);
    if (value === undefined) map.delete(broker);
    else map.set(broker, value);
    if (value === undefined || durationMs === undefined) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // A later setting for the broker outlives this one's end.
      if (this.generations.get(key) === generation) map.delete(broker);
    }, durationMs);
    this.timers.add(timer);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const broker = decodeURIComponent((req.url ?? '').split('/')[1] ?? '');
    const target = this.upstream.get(broker);
    if (!target) {
      res.writeHead(404).end(`no broker ${broker}\n`);
      return;
    }
    const delayMs = this.delays.get(broker);
    if (delayMs !== undefined) await this.wait(delayMs);
    // The scraper gave up (its timeout) or the proxy stopped meanwhile.
    if (res.destroyed || res.writableEnded) return;
    const frozen = this.lies.get(broker) === 'frozen' ? this.lastServed.get(broker) : undefined;
    if (frozen) {
      res.writeHead(frozen.status, { 'Content-Type': frozen.type }).end(frozen.body);
      return;
    }
    try {
      const upstream = await fetch(target, { signal: AbortSignal.timeout(5000) });
      const text = await upstream.text();
      const lie = this.lies.get(broker);
      const body = upstream.ok
        ? rewritePage(text, {
            ratio: this.ratio.get(broker) ?? 0,
            ...(lie === 'idle' || lie === 'doubled' ? { lie } : {}),
            gaugeRandom: this.random,
            counterRandom: this.counterRandom,
            counters: this.countersOf(broker),
          })
        : text;
      const type = upstream.headers.get('content-type') ?? 'text/plain';
      if (upstream.ok) this.lastServed.set(broker, { status: upstream.status, type, body });
      res.writeHead(upstream.status, { 'Content-Type': type }).end(body);
    } catch (err) {
      // The broker is gone (it left) or slow: the scraper sees what it would see directly.
      res.writeHead(502).end(`${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  private countersOf(broker: string): CounterState {
    let state = this.counters.get(broker);
    if (!state) this.counters.set(broker, (state = new Map()));
    return state;
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        this.waiting.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      this.waiting.add(release);
    });
  }
}
