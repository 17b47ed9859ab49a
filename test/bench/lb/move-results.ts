// Pure: a run's samples, client timeline, drain and kill records → the numbers the
// "Moving connections" tables compare against the targets. The metric
// definitions live in moves.ts; this file picks the windows and the inputs.
import { parsePolicy, type Policy } from '../../../src/config/policy';
import { deriveLimits } from '../../../src/limits';
import type { ClientTimeline } from './clients';
import {
  countBetween,
  endImbalance,
  maxShare,
  minimumMoves,
  peakConnections,
  peakInWindow,
  peakShareDuringMove,
  timeToShare,
  timeUntilAllBack,
  type PeakShare,
  type WindowPeak,
} from './moves';
import type { DrainRecord, KillRecord, Sample, StrategyRun } from './samples';
import type { Scenario } from './scenario';

export interface JoinMoveResult {
  readonly broker: string;
  readonly joinSec: number;
  /** Seconds from the join until it held ≥ 90 % of its fair share of connections; null = never. */
  readonly t90Sec: number | null;
  /** Disconnects the fair split needs, from the first sample after the join. */
  readonly minimumMoves: number;
  /** Established connections closed without the client asking, from the join to the end. */
  readonly disconnects: number;
  /** disconnects / minimumMoves; null when nothing needed moving. */
  readonly ratio: number | null;
  /** mqtt-xds: what its own counter says the agents disconnected over the same time. */
  readonly agentDisconnects?: number;
  readonly peakShare: PeakShare;
  /** The highest share at the last sample: a source that never came down shows here. */
  readonly endShare: PeakShare;
  /** Most disconnects in any 1 s after the join. */
  readonly peakRate: WindowPeak;
  readonly failedAfter: number;
  /** Seconds from the join to the last disconnect; null without any. */
  readonly lastMoveSec: number | null;
}

export interface DrainResult {
  readonly broker: string;
  readonly requestedAtSec: number;
  readonly error?: string;
  readonly connectionsAtRequest?: number;
  /** Failed connection attempts from the request to the end. */
  readonly failedAfter: number;
  /** Seconds from the request until every Envoy showed the broker as DRAINING; null = never. */
  readonly ackAfterSec: number | null;
  /** New client sessions the broker accepted after Envoy's ACK (an upper bound; see DrainRecord). */
  readonly routedAfterAck: number | null;
  /** The same, counted by Envoy (its per-host cx_total). */
  readonly envoyRoutedAfterAck: number | null;
  readonly peakRate: WindowPeak;
  /** rebalance.ratePerSec of the scenario's policy. */
  readonly configuredRatePerSec: number;
  /** Seconds from the request until the broker held no client (its own count); null = never. */
  readonly emptyAfterSec: number | null;
  /** Seconds from the request until mqtt-xds reported it drained; null = never. */
  readonly drainedAfterSec: number | null;
  readonly moved?: number;
  /** Max / mean connections per capacity of the other brokers, over the last 5 samples. */
  readonly endImbalance: number | null;
  readonly phases: DrainRecord['phases'];
}

export interface KillResult {
  readonly broker: string;
  readonly atSec: number;
  readonly connectionsAtKill?: number;
  /** Seconds until as many clients were connected as before the kill; null = not by the end. */
  readonly allBackSec: number | null;
  /** Seconds until 99 % of the clients the kill cost were back. */
  readonly mostBackSec: number | null;
  readonly failedAfter: number;
  readonly disconnectsAfter: number;
  /** The fullest remaining broker after the kill. */
  readonly peak: { readonly broker?: string; readonly connections: number };
  /** The per-broker connection limit Envoy enforces over all its instances; undefined = none. */
  readonly perHostLimit?: number;
  /** peak.connections > perHostLimit; undefined without a limit. */
  readonly overLimit?: boolean;
  /** Envoy strategies: its shedding counters from the kill to the end (rateLimited, connectFail, ...). */
  readonly envoyCounters?: Readonly<Record<string, number>>;
}

export interface MoveResults {
  readonly joinMoves?: readonly JoinMoveResult[];
  readonly drainResults?: readonly DrainResult[];
  readonly killResults?: readonly KillResult[];
}

const EMPTY_TIMELINE: ClientTimeline = { connects: [], disconnects: [], failures: [], lifetimeEnds: [] };

export function analyseMoves(scenario: Scenario, run: StrategyRun): MoveResults {
  const timeline = run.timeline ?? EMPTY_TIMELINE;
  const policy = scenarioPolicy(scenario);
  const out: { joinMoves?: JoinMoveResult[]; drainResults?: DrainResult[]; killResults?: KillResult[] } = {};
  // Joins are only a move when agents could move clients; other scenarios keep their tables.
  const joins = scenario.agents ? scenario.events.filter((e) => e.kind === 'broker-join') : [];
  if (joins.length > 0) out.joinMoves = joins.map((e) => joinMove(run.samples, timeline, e.broker, e.atSec));
  if (run.drains && run.drains.length > 0) {
    out.drainResults = run.drains.map((d) => drainResult(run.samples, timeline, d, policy));
  }
  if (run.kills && run.kills.length > 0) {
    const limit = perHostLimit(scenario, policy);
    out.killResults = run.kills.map((k) => killResult(run.samples, timeline, k, limit, run.countersAtEnd));
  }
  return out;
}

export function joinMove(samples: readonly Sample[], timeline: ClientTimeline, broker: string, joinSec: number): JoinMoveResult {
  // The first sample with the new broker in the balancer: before it, the fair shares are
  // those of the old brokers, which need nothing moved (a 5 s scrape can see it seconds late).
  const first =
    samples.find((s) => s.tSec >= joinSec && s.brokers.some((b) => b.name === broker && b.present)) ??
    samples.find((s) => s.tSec >= joinSec);
  const minimum = first ? minimumMoves(first) : 0;
  const fromMs = joinSec * 1000;
  const disconnects = countBetween(timeline.disconnects, fromMs);
  const before = [...samples].reverse().find((s) => s.tSec < joinSec && s.rebalanceDisconnects !== undefined);
  const last = [...samples].reverse().find((s) => s.rebalanceDisconnects !== undefined);
  const moved = timeline.disconnects.filter((t) => t >= fromMs);
  return {
    broker,
    joinSec,
    t90Sec: timeToShare(samples, broker, joinSec),
    minimumMoves: minimum,
    disconnects,
    ratio: minimum > 0 ? round(disconnects / minimum) : null,
    ...(last ? { agentDisconnects: last.rebalanceDisconnects! - (before?.rebalanceDisconnects ?? 0) } : {}),
    peakShare: peakShareDuringMove(samples, first?.tSec ?? joinSec, Infinity),
    endShare: samples.length > 0 ? maxShare(samples[samples.length - 1]) : { share: null },
    peakRate: peakInWindow(timeline.disconnects, 1000, fromMs),
    failedAfter: countBetween(timeline.failures, fromMs),
    lastMoveSec: moved.length > 0 ? round((Math.max(...moved) - fromMs) / 1000) : null,
  };
}

export function drainResult(samples: readonly Sample[], timeline: ClientTimeline, d: DrainRecord, policy: Policy): DrainResult {
  const fromMs = d.requestedAtSec * 1000;
  const after = (t: number | undefined): number | null => (t === undefined ? null : round(t - d.requestedAtSec));
  const diff = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined ? null : a - b);
  return {
    broker: d.broker,
    requestedAtSec: d.requestedAtSec,
    ...(d.error === undefined ? {} : { error: d.error }),
    ...(d.connectionsAtRequest === undefined ? {} : { connectionsAtRequest: d.connectionsAtRequest }),
    failedAfter: countBetween(timeline.failures, fromMs),
    ackAfterSec: after(d.ackSeenAtSec),
    routedAfterAck: d.ackSeenAtSec === undefined ? null : diff(d.connectsAtEnd, d.connectsBeforeAck),
    envoyRoutedAfterAck: d.ackSeenAtSec === undefined ? null : diff(d.envoyCxAtEnd, d.envoyCxBeforeAck),
    peakRate: peakInWindow(timeline.disconnects, 1000, fromMs),
    configuredRatePerSec: policy.rebalance.ratePerSec,
    emptyAfterSec: after(d.emptyAtSec),
    drainedAfterSec: after(d.drainedAtSec),
    ...(d.moved === undefined ? {} : { moved: d.moved }),
    endImbalance: endImbalance(samples, new Set([d.broker])),
    phases: d.phases,
  };
}

export function killResult(
  samples: readonly Sample[],
  timeline: ClientTimeline,
  k: KillRecord,
  limit: number | undefined,
  countersAtEnd?: Readonly<Record<string, number>>,
): KillResult {
  const fromMs = k.atSec * 1000;
  const peak = peakConnections(samples, k.atSec, new Set([k.broker]));
  const before = k.countersAtKill;
  const envoyCounters =
    before && countersAtEnd
      ? Object.fromEntries(Object.keys(countersAtEnd).map((n) => [n, countersAtEnd[n] - (before[n] ?? 0)]))
      : undefined;
  return {
    broker: k.broker,
    atSec: k.atSec,
    ...(k.connectionsAtKill === undefined ? {} : { connectionsAtKill: k.connectionsAtKill }),
    allBackSec: timeUntilAllBack(timeline, fromMs),
    mostBackSec: timeUntilAllBack(timeline, fromMs, 0.99),
    failedAfter: countBetween(timeline.failures, fromMs),
    disconnectsAfter: countBetween(timeline.disconnects, fromMs),
    peak,
    ...(limit === undefined ? {} : { perHostLimit: limit, overLimit: peak.connections > limit }),
    ...(envoyCounters ? { envoyCounters } : {}),
  };
}

/** The scenario's policy as mqtt-xds reads it (the built-in defaults without a policy block). */
export function scenarioPolicy(scenario: Scenario): Policy {
  if (scenario.policyYaml === undefined) return parsed('{}');
  return parsed(scenario.policyYaml);
}

function parsed(text: string): Policy {
  const r = parsePolicy(text, 'policy');
  // The scenario parser already refused an invalid policy.
  if (!r.ok) throw new Error(`the scenario's policy does not parse: ${r.problems.map((p) => p.message).join('; ')}`);
  return r.value;
}

/**
 * The per-broker connection limit mqtt-xds gives Envoy for this scenario's brokers, over
 * all Envoys: the same derivation as the control plane (src/limits), or undefined while
 * it would fall back to the generous cluster.* settings (a capacity unknown).
 */
export function perHostLimit(scenario: Scenario, policy: Policy): number | undefined {
  const plan = {
    endpoints: scenario.brokers.map((b) => ({ name: b.name, address: '127.0.0.1', port: 1, weight: 1, health: 'serving' as const })),
  };
  const limits = deriveLimits({ policy, plan, fallback: { maxConnections: Infinity, perHostMaxConnections: Infinity } });
  const perHost = limits.cluster.perHostMaxConnections;
  return Number.isFinite(perHost) ? perHost * scenario.envoys : undefined;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
