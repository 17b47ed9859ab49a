// A run's numbers, as the report prints them and the JSON keeps them.
import type { AgentDriver } from './agents';
import type { ControlPlane, PeerName } from './control-plane';
import { mean, percentile, timeToFill, type Recorder } from './metrics';
import type { Population } from './population';
import type { ReconnectQueue } from './reconnects';
import type { Scenario } from './scenarios';

export interface CpuStats {
  readonly calls: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export interface RunSummary {
  readonly scenario: string;
  readonly peer: PeerName;
  readonly clients: number;
  readonly brokers: number;
  readonly envoys: number;
  readonly simulatedSec: number;
  readonly imbalanceMean: number | null;
  readonly imbalanceP99: number | null;
  readonly maxUtilisation: number;
  /** Broker-seconds at utilisation above 1. */
  readonly overloadSec: number;
  /** Seconds from the scale-out until the new brokers held 90% of their capacity share; null if never. */
  readonly t90Sec: number | null;
  /** The new brokers' fill (connections / capacity share) this many seconds after the scale-out. */
  readonly fillAfter: Readonly<Record<string, number>>;
  /** Clients that had to move for the scale-out: Σ max(0, connections − target). */
  readonly minimumMoves: number | null;
  readonly movedRebalance: number;
  readonly movedDrain: number;
  readonly droppedByFailure: number;
  /** Clients still on a drained broker when its pod stopped. */
  readonly droppedByStop: number;
  /** Connection attempts that reached a broker that was gone. */
  readonly failedConnects: number;
  readonly pushesPerMinute: number;
  readonly computeCpu: CpuStats;
  readonly rebalanceRoundCpu: CpuStats;
  /** Devices never created or lost: connected + offline + waiting to reconnect. */
  readonly devices: number;
  readonly accounted: number;
  readonly wallSec: number;
}

export interface SummaryInput {
  readonly scenario: Scenario;
  readonly peer: PeerName;
  readonly rec: Recorder;
  readonly cp: ControlPlane;
  readonly agents?: AgentDriver;
  readonly pop: Population;
  readonly queue: ReconnectQueue;
  readonly scaleOutSec?: number;
  readonly minimum?: number;
  readonly wallSec: number;
}

export function cpuStats(ms: readonly number[]): CpuStats {
  return {
    calls: ms.length,
    p50Ms: round(percentile(ms, 50), 3),
    p99Ms: round(percentile(ms, 99), 3),
    maxMs: round(ms.length === 0 ? undefined : Math.max(...ms), 3),
  };
}

export function summarise(i: SummaryInput): RunSummary {
  const { scenario: s, rec } = i;
  const t90 = i.scaleOutSec === undefined ? undefined : timeToFill(rec.fill, i.scaleOutSec);
  return {
    scenario: s.name,
    peer: i.peer,
    clients: s.clients,
    brokers: s.brokers,
    envoys: s.envoys.count,
    simulatedSec: s.durationSec,
    imbalanceMean: round(mean(rec.imbalance), 3),
    imbalanceP99: round(percentile(rec.imbalance, 99), 3),
    maxUtilisation: round(rec.maxUtilisation, 3) ?? 0,
    overloadSec: rec.overloadSec,
    t90Sec: t90 ?? null,
    fillAfter: i.scaleOutSec === undefined ? {} : fillAfter(rec, i.scaleOutSec),
    minimumMoves: i.minimum === undefined ? null : Math.round(i.minimum),
    movedRebalance: i.agents?.moved.rebalance ?? 0,
    movedDrain: i.agents?.moved.drain ?? 0,
    droppedByFailure: rec.droppedByFailure,
    droppedByStop: rec.droppedByStop,
    failedConnects: rec.failedConnects,
    pushesPerMinute: round(i.cp.pushes / (s.durationSec / 60), 2) ?? 0,
    computeCpu: cpuStats(i.cp.computeCpuMs),
    rebalanceRoundCpu: cpuStats(i.agents?.roundCpuMs ?? []),
    devices: i.pop.devices,
    accounted: i.pop.connectedTotal() + i.pop.offlineTotal() + i.queue.total(),
    wallSec: round(i.wallSec, 1) ?? 0,
  };
}

const FILL_MARKS_SEC = [60, 120, 180, 300, 600, 1200, 1800, 3600];

function fillAfter(rec: Recorder, fromSec: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of FILL_MARKS_SEC) {
    const sample = rec.fill.find((f) => f.tSec === fromSec + m);
    if (sample) out[`${m}s`] = round(sample.fill, 3) ?? 0;
  }
  return out;
}

function round(v: number | undefined, digits: number): number | null {
  if (v === undefined) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
