// A fake fleet for Rebalancer tests: agents answer from memory, connections follow their lists.
import { Registry } from 'prom-client';
import type { BrokerDecision } from '../../../src/balancing';
import type { Policy } from '../../../src/config/policy';
import type { Broker, BrokerLoad } from '../../../src/domain';
import { Rebalancer, type AgentClient, type AgentError, type AgentResult, type RebalancerDeps } from '../../../src/rebalance';
import { createLogger } from '../../../src/util/log';

/** A fleet whose agents answer from memory; connections follow the agents' client lists. */
export class Fleet {
  nowMs = 1_000_000;
  leader = true;
  acked = true;
  /** Node ids of Envoys that have not ACKed; when any, drainingAcked names them. */
  laggards: string[] = [];
  readonly registry = new Registry();
  readonly logLines: string[] = [];
  failWith: AgentError | undefined;
  reconnect = true;
  /** How long each disconnect request takes on the fake clock. */
  disconnectMs = 0;
  readonly disconnectTimes: { atMs: number; n: number }[] = [];
  readonly clients = new Map<string, AgentClient[]>();
  readonly disconnectCalls: { broker: string; ids: readonly string[] }[] = [];
  moving: ReadonlyMap<string, string> = new Map();
  brokers: Broker[] = [];
  policy: Policy;

  constructor(counts: Record<string, number>, policy: Policy) {
    this.policy = policy;
    for (const [name, n] of Object.entries(counts)) {
      this.brokers.push({ name, address: '10.0.0.1', port: 1883, agentUrl: `http://${name}` });
      this.clients.set(
        name,
        Array.from({ length: n }, (_, i) => ({
          clientId: `${name}-${i}`,
          mqttVersion: 5,
          cleanStart: true,
          sessionExpirySec: 0,
          sharedSubscriber: i % 10 === 0,
          connectedSinceMs: i,
        })),
      );
    }
  }

  loads(): Map<string, BrokerLoad> {
    return new Map(
      [...this.clients].map(([name, cs]) => [
        name,
        { broker: name, scrapedAtMs: this.nowMs, signals: { connections: cs.length }, consecutiveFailures: 0, stale: false },
      ]),
    );
  }

  decisions(): BrokerDecision[] {
    return [...this.clients.keys()].map((name) => ({
      name,
      weight: 1000,
      health: 'serving',
      excluded: false,
      capacity: 10_000,
      capacitySource: 'hint',
      factors: { catchUp: 1, slowStart: 1, overload: 1, stale: 1, fill: 1 },
      reason: '',
      inputs: {},
    }));
  }

  rebalancer(extra: Partial<RebalancerDeps> = {}): Rebalancer {
    const name = (url: string): string => url.slice('http://'.length);
    const fail = (): AgentResult<never> | undefined => (this.failWith ? { ok: false, error: this.failWith } : undefined);
    return new Rebalancer({
      logger: createLogger('info', {}, (line) => this.logLines.push(line)),
      registry: this.registry,
      tickMs: 1000,
      agent: {
        listClients: async (url) =>
          fail() ?? { ok: true, value: { total: this.clients.get(name(url))!.length, clients: this.clients.get(name(url))! } },
        disconnect: async (url, ids) => {
          const f = fail();
          if (f) return f;
          this.nowMs += this.disconnectMs;
          this.disconnectCalls.push({ broker: name(url), ids });
          this.disconnectTimes.push({ atMs: this.nowMs, n: ids.length });
          const wanted = new Set(ids);
          const gone = this.clients.get(name(url))!.filter((c) => wanted.has(c.clientId));
          this.clients.set(
            name(url),
            this.clients.get(name(url))!.filter((c) => !wanted.has(c.clientId)),
          );
          // The clients reconnect at once, through Envoy, to the emptiest broker it still sends new clients to.
          if (this.reconnect) {
            const open = this.brokers.filter((b) => !this.moving.has(b.name) && !b.draining).map((b) => b.name);
            const to = open.sort((x, y) => this.clients.get(x)!.length - this.clients.get(y)!.length)[0];
            if (to !== undefined) this.clients.get(to)!.push(...gone);
          }
          return { ok: true, value: { disconnected: [...ids], notFound: [] } };
        },
      },
      policy: () => this.policy,
      isLeader: () => this.leader,
      brokers: () => this.brokers,
      loads: () => this.loads(),
      decisions: () => this.decisions(),
      setMoving: (m) => {
        this.moving = m;
      },
      drainingAcked: () => (this.laggards.length > 0 ? { acked: false, laggards: this.laggards } : this.acked),
      now: () => this.nowMs,
      ...extra,
    });
  }

  moved(broker: string): number {
    return this.disconnectCalls.filter((c) => c.broker === broker).reduce((n, c) => n + c.ids.length, 0);
  }
}
