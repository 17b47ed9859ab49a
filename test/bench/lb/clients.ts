// The benchmark's MQTT clients: each population's clients arrive on schedule, connect
// through the balancer (mqtt.js, clean session, no automatic reconnect), send their
// traffic, and reconnect by themselves with jittered exponential backoff, so a reconnect
// storm after a broker leaves is modelled the way real devices behave. Counters separate
// what the clients suffered (failed attempts, unrequested disconnects) from what the
// harness asked for (lifetime ends, the final stop).
import mqtt, { type MqttClient } from 'mqtt';
import { backoffMs, seeded, uniform, type Random } from './rng';
import type { Population, Scenario } from './scenario';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ClientStats {
  /** CONNECTs started. */
  attempts: number;
  /** Attempts that reached CONNACK. */
  connects: number;
  /** Attempts that did not: refused + timedOut + closedEarly. */
  failed: number;
  /** The balancer refused the TCP connection (ECONNREFUSED). */
  refused: number;
  /** No CONNACK within the connect timeout. */
  timedOut: number;
  /** TCP accepted, then closed before CONNACK (e.g. a proxy with no healthy upstream). */
  closedEarly: number;
  /** Established connections closed without the client asking. */
  disconnects: number;
  /** Connections the client closed itself at the end of its lifetime. */
  lifetimeEnds: number;
  /** Clients holding a connection right now. */
  connected: number;
  publishes: number;
  received: number;
}

/**
 * When things happened to the clients, in milliseconds since t = 0, in the order they
 * happened: enough to replay how many were connected at any moment and how fast a
 * broker's clients were disconnected.
 */
export interface ClientTimeline {
  /** CONNACKs. */
  readonly connects: number[];
  /** Established connections closed without the client asking (counted in `disconnects`). */
  readonly disconnects: number[];
  /** Attempts that got no CONNACK. */
  readonly failures: number[];
  /** Connections the client closed at the end of its lifetime. */
  readonly lifetimeEnds: number[];
}

const CONNECT_TIMEOUT_MS = 10_000;
const PAYLOAD = Buffer.alloc(32, 0x61);

export class ClientFleet {
  private readonly stats: ClientStats = {
    attempts: 0,
    connects: 0,
    failed: 0,
    refused: 0,
    timedOut: 0,
    closedEarly: 0,
    disconnects: 0,
    lifetimeEnds: 0,
    connected: 0,
    publishes: 0,
    received: 0,
  };
  private readonly clients: SimClient[] = [];
  private readonly times: ClientTimeline = { connects: [], disconnects: [], failures: [], lifetimeEnds: [] };
  private t0Ms = Date.now();
  private stopped = false;

  constructor(
    private readonly scenario: Scenario,
    private readonly endpoints: readonly Endpoint[],
    private readonly idPrefix: string,
  ) {
    if (endpoints.length === 0) throw new Error('ClientFleet needs at least one endpoint');
  }

  /** Schedules every arrival relative to `t0Ms` (t = 0 of the scenario; default now). */
  start(t0Ms = Date.now()): void {
    this.t0Ms = t0Ms;
    const lateMs = Date.now() - t0Ms;
    let n = 0;
    for (const pop of this.scenario.populations) {
      for (let i = 0; i < pop.count; i++) {
        const random = seeded(this.scenario.seed, `${pop.name}/${i}`);
        const endpoint = this.endpoints[n++ % this.endpoints.length];
        const client = new SimClient(this, pop, `${this.idPrefix}-${pop.name}-${i}`, endpoint, random);
        this.clients.push(client);
        const atMs = (pop.arrival.startSec + (pop.arrival.rampSec * i) / pop.count) * 1000;
        client.schedule(atMs - lateMs, () => client.connect());
      }
    }
  }

  snapshot(): ClientStats {
    return { ...this.stats };
  }

  /** A copy of the event times so far. */
  timeline(): ClientTimeline {
    return {
      connects: [...this.times.connects],
      disconnects: [...this.times.disconnects],
      failures: [...this.times.failures],
      lifetimeEnds: [...this.times.lifetimeEnds],
    };
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Cancels every timer and closes every connection at once; nothing is counted afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.clients.map((c) => c.shutdown()));
  }

  /** @internal for SimClient */
  count(key: keyof ClientStats, delta = 1): void {
    if (!this.stopped) this.stats[key] += delta;
  }

  /** @internal for SimClient: stamps the time of one event. */
  stamp(kind: keyof ClientTimeline): void {
    if (!this.stopped) this.times[kind].push(Date.now() - this.t0Ms);
  }
}

class SimClient {
  private client: MqttClient | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private failures = 0;
  private closingOnPurpose = false;

  constructor(
    private readonly fleet: ClientFleet,
    private readonly pop: Population,
    private readonly clientId: string,
    private readonly endpoint: Endpoint,
    private readonly random: Random,
  ) {}

  schedule(ms: number, fn: () => void): void {
    if (this.fleet.isStopped) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.fleet.isStopped) fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
  }

  connect(): void {
    this.closingOnPurpose = false;
    this.fleet.count('attempts');
    const client = mqtt.connect({
      host: this.endpoint.host,
      port: this.endpoint.port,
      protocol: 'mqtt',
      protocolVersion: 4,
      clientId: this.clientId,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    this.client = client;
    let established = false;
    let lastError: (Error & { code?: string | number }) | undefined;
    client.on('error', (err) => {
      lastError = err;
    });
    client.once('connect', () => {
      established = true;
      this.failures = 0;
      this.fleet.count('connects');
      this.fleet.count('connected');
      this.fleet.stamp('connects');
      this.onEstablished(client);
    });
    client.on('message', () => this.fleet.count('received'));
    client.once('close', () => {
      if (this.client === client) this.client = undefined;
      client.end(true);
      if (this.fleet.isStopped) return;
      if (!established) {
        this.fleet.count('failed');
        this.fleet.stamp('failures');
        if (lastError?.code === 'ECONNREFUSED') this.fleet.count('refused');
        else if (/timeout/i.test(lastError?.message ?? '')) this.fleet.count('timedOut');
        else this.fleet.count('closedEarly');
        this.retryLater();
        return;
      }
      this.fleet.count('connected', -1);
      if (this.closingOnPurpose) {
        this.fleet.count('lifetimeEnds');
        this.fleet.stamp('lifetimeEnds');
        this.connect();
      } else {
        this.fleet.count('disconnects');
        this.fleet.stamp('disconnects');
        this.retryLater();
      }
    });
  }

  private retryLater(): void {
    const { minBackoffMs, maxBackoffMs } = this.pop.reconnect;
    this.schedule(backoffMs(this.random, this.failures, minBackoffMs, maxBackoffMs), () => this.connect());
    this.failures += 1;
  }

  private onEstablished(client: MqttClient): void {
    const { traffic } = this.pop;
    if (traffic.kind === 'subscriber') client.subscribe(traffic.topic, { qos: 0 });
    if (traffic.kind === 'shared-subscriber') client.subscribe(`$share/${traffic.group}/${traffic.topic}`, { qos: 0 });
    if (traffic.publishPerSec > 0) {
      const topic = traffic.kind === 'cheap-publisher' ? `${traffic.topic}/${this.clientId}` : traffic.topic;
      const periodMs = 1000 / traffic.publishPerSec;
      const tick = (): void => {
        if (this.client !== client || !client.connected) return;
        client.publish(topic, PAYLOAD, { qos: 0 });
        this.fleet.count('publishes');
        this.schedule(periodMs, tick);
      };
      // A random phase, so a ramp of publishers does not publish in lock-step.
      this.schedule(periodMs * this.random(), tick);
    }
    if (this.pop.lifetimeSec !== undefined) {
      this.schedule(this.pop.lifetimeSec * 1000 * uniform(this.random, 0.5, 1.5), () => {
        if (this.client !== client) return;
        this.closingOnPurpose = true;
        client.end(false);
      });
    }
  }

  shutdown(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const client = this.client;
    this.client = undefined;
    if (!client) return Promise.resolve();
    return new Promise((resolve) => client.end(true, {}, () => resolve()));
  }
}
