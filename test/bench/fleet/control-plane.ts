// The control plane under test, and the peers it is compared with. mqtt-xds is the real
// Planner (computeWeights with the policy's state) behind the real push gate; the peers
// are Envoy's plain round robin (equal weights) and static weights in proportion to
// capacity, as an operator would write them into the brokers file.
import { gatePush, staticWeightPlan, type BrokerDecision } from '../../../src/balancing';
import type { Policy } from '../../../src/config/policy';
import type { Broker, BrokerLoad, WeightPlan } from '../../../src/domain';
import { Planner } from '../../../src/planner';
import type { EdsPlan } from './envoys';

export const PEERS = ['mqtt-xds', 'mqtt-xds-no-agents', 'round-robin', 'capacity-static'] as const;
export type PeerName = (typeof PEERS)[number];

/** Whether the peer's brokers have agents, so the rebalancer can move established clients. */
export const peerHasAgents = (p: PeerName): boolean => p === 'mqtt-xds';
export const peerUsesPolicy = (p: PeerName): boolean => p === 'mqtt-xds' || p === 'mqtt-xds-no-agents';

export class ControlPlane {
  /** CPU milliseconds of each weight computation (process.cpuUsage around it). */
  readonly computeCpuMs: number[] = [];
  pushes = 0;
  private readonly planner: Planner | undefined;
  private published: WeightPlan | undefined;
  private lastWeightPushMs = -Infinity;
  private retryAtMs: number | undefined;
  private version = 0;
  private decided: readonly BrokerDecision[] = [];

  constructor(
    readonly peer: PeerName,
    policy: Policy,
    private readonly slotOf: ReadonlyMap<string, number>,
    private readonly slots: number,
    private readonly units: ReadonlyMap<string, number>,
    private readonly minPushIntervalMs: number,
  ) {
    this.planner = peerUsesPolicy(peer) ? new Planner('metrics', policy) : undefined;
  }

  decisions(): readonly BrokerDecision[] {
    return this.decided;
  }

  setMoving(moving: ReadonlyMap<string, string>): void {
    this.planner?.setMoving(moving);
  }

  /** Whether a held-back plan is due to go out by now (the publisher's gate timer). */
  retryDue(nowMs: number): boolean {
    return this.retryAtMs !== undefined && nowMs >= this.retryAtMs;
  }

  /** Computes the plan for now; returns it as an EDS push when the gate lets it out. */
  recompute(nowMs: number, brokers: readonly Broker[], loads: ReadonlyMap<string, BrokerLoad>): EdsPlan | undefined {
    const plan = this.plan(nowMs, brokers, loads);
    const verdict = gatePush(this.published, plan, this.lastWeightPushMs, nowMs, this.minPushIntervalMs);
    if (!verdict.push) {
      this.retryAtMs = verdict.retryAtMs;
      return undefined;
    }
    this.retryAtMs = undefined;
    if (this.published && samePlan(this.published, plan)) return undefined;
    this.published = plan;
    this.lastWeightPushMs = nowMs;
    this.pushes++;
    const weights = new Float64Array(this.slots);
    for (const e of plan.endpoints) if (e.health === 'serving') weights[this.slotOf.get(e.name)!] = e.weight;
    return { version: ++this.version, weights };
  }

  private plan(nowMs: number, brokers: readonly Broker[], loads: ReadonlyMap<string, BrokerLoad>): WeightPlan {
    if (this.planner) {
      this.planner.setBrokers(brokers);
      this.planner.setLoads(loads);
      const before = process.cpuUsage();
      const outcome = this.planner.next(nowMs)!;
      const used = process.cpuUsage(before);
      this.computeCpuMs.push((used.user + used.system) / 1000);
      this.decided = outcome.decisions;
      return outcome.plan;
    }
    const pinned = this.peer === 'capacity-static' ? brokers.map((b) => ({ ...b, staticWeight: this.units.get(b.name) })) : brokers;
    return staticWeightPlan(pinned);
  }
}

function samePlan(a: WeightPlan, b: WeightPlan): boolean {
  return (
    a.endpoints.length === b.endpoints.length &&
    a.endpoints.every((x, i) => x.name === b.endpoints[i].name && x.weight === b.endpoints[i].weight && x.health === b.endpoints[i].health)
  );
}
