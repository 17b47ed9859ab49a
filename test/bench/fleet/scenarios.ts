// The scenarios of `npm run bench:fleet` as plain values: a warm fleet, what happens to it
// and when, and the policy document mqtt-xds runs with (parsed by the product's parser).
import { parsePolicy, type Policy } from '../../../src/config/policy';
import { formatProblems } from '../../../src/util/result';
import { SIZE_PATTERN, type BrokerSpec } from './brokers';
import { PEERS, type PeerName } from './control-plane';
import type { EnvoySettings } from './envoys';
import { DEFAULT_CLASSES, type ClientClass } from './population';
import { DEFAULT_BACKOFF, type Backoff } from './reconnects';

export type FleetEvent =
  /** The broker's process dies: its clients reconnect elsewhere; it comes back empty. */
  | { readonly kind: 'fail'; readonly atSec: number; readonly slot: number; readonly restartAfterSec: number }
  /** The pod terminates (DRAINING); it stops once empty or at drain.deadlineMs, and a new one replaces it. */
  | { readonly kind: 'drain'; readonly atSec: number; readonly slot: number; readonly restartAfterSec: number }
  /** New, empty brokers join, sized like the rest of the fleet. */
  | { readonly kind: 'scale-out'; readonly atSec: number; readonly count: number };

export interface Scenario {
  readonly name: string;
  /** Connected clients at the daily mean. */
  readonly clients: number;
  readonly brokers: number;
  readonly durationSec: number;
  /** Time of day when the run starts (the daily cycle peaks at 20:00). */
  readonly startOfDaySec: number;
  /** Metrics start after this (the warm start's short-lived clients have turned over). */
  readonly warmupSec: number;
  readonly seed: number;
  readonly classes: readonly ClientClass[];
  /** The fleet's utilisation at the daily mean, had it been balanced perfectly. */
  readonly meanUtilisation: number;
  readonly envoys: EnvoySettings;
  readonly scrape: { readonly intervalMs: number; readonly cpuNoise: number; readonly cpuBackground: number };
  readonly minPushIntervalMs: number;
  readonly agentLatencyMs: { readonly min: number; readonly max: number };
  readonly backoff: Backoff;
  /** How long until discovery drops a failed broker (its readiness probe fails). */
  readonly failureDetectSec: number;
  readonly events: readonly FleetEvent[];
  /** Policy YAML for mqtt-xds, before capacity hints are added. */
  readonly policyYaml: string;
  /** Give mqtt-xds the brokers' capacities (classes per size) instead of inferring them from CPU. */
  readonly capacityHints: boolean;
  readonly peers: readonly PeerName[];
}

const HOUR = 3600;

const BASE: Omit<Scenario, 'name' | 'durationSec' | 'startOfDaySec' | 'warmupSec' | 'events' | 'policyYaml'> = {
  clients: 1_000_000,
  brokers: 100,
  seed: 1,
  classes: DEFAULT_CLASSES,
  meanUtilisation: 0.6,
  envoys: { count: 50, shareCv: 0.1, edsDelayMinMs: 50, edsDelayMaxMs: 3000 },
  // The production defaults: scrape.intervalMs and balancing.minPushIntervalMs (settings-balancing.ts).
  scrape: { intervalMs: 5000, cpuNoise: 0.03, cpuBackground: 0.02 },
  minPushIntervalMs: 5000,
  agentLatencyMs: { min: 5, max: 50 },
  backoff: DEFAULT_BACKOFF,
  failureDetectSec: 10,
  capacityHints: false,
  peers: PEERS,
};

/** 24 hours with a daily cycle; a broker fails at 06:00 and the largest kind is drained (a rolling update) at 14:00. */
export function dayScenario(): Scenario {
  return {
    ...BASE,
    name: 'day',
    durationSec: 24 * HOUR,
    startOfDaySec: 0,
    warmupSec: HOUR,
    events: [
      { kind: 'fail', atSec: 6 * HOUR, slot: 3, restartAfterSec: 120 },
      { kind: 'drain', atSec: 14 * HOUR, slot: 6, restartAfterSec: 60 },
    ],
    policyYaml: 'rebalance: { mode: "on", ratePerSec: 500 }\n',
  };
}

/**
 * 10% more brokers (the fleet's size mix) at 17:30, ahead of the evening peak, when an
 * operator adds capacity; agents move clients at 500/s.
 */
export function scaleOutScenario(): Scenario {
  return {
    ...BASE,
    name: 'scale-out',
    durationSec: 90 * 60,
    startOfDaySec: 17 * HOUR,
    warmupSec: 20 * 60,
    events: [{ kind: 'scale-out', atSec: 30 * 60, count: 10 }],
    policyYaml: 'rebalance: { mode: "on", ratePerSec: 500 }\n',
  };
}

/** Fleet sizes of the cost sweep. */
export const SWEEP_BROKERS: readonly number[] = [100, 250, 500, 1000];

/**
 * The control plane's cost as the fleet grows: 5,000 clients per broker (10,000 at 1,000
 * brokers would only slow the simulation: computeWeights' cost depends on brokers, not
 * clients), 15 minutes with a 10% scale-out halfway, so weights and moves both have work
 * to do. mqtt-xds only.
 */
export function sweepScenario(brokers: number): Scenario {
  return {
    ...BASE,
    name: `sweep-${brokers}`,
    clients: brokers * 5000,
    brokers,
    durationSec: 15 * 60,
    startOfDaySec: 17 * HOUR,
    warmupSec: 5 * 60,
    events: [{ kind: 'scale-out', atSec: 7.5 * 60, count: Math.round(brokers / 10) }],
    policyYaml: 'rebalance: { mode: "on", ratePerSec: 500 }\n',
    peers: ['mqtt-xds'],
  };
}

/** The slots a scenario needs: the initial brokers plus any that scale out. */
export function slotCount(s: Scenario): number {
  return s.brokers + s.events.reduce((n, e) => n + (e.kind === 'scale-out' ? e.count : 0), 0);
}

/** The policy mqtt-xds runs with: the scenario's document, with a class per broker size when hints are on. */
export function policyOf(s: Scenario, specs: readonly BrokerSpec[]): Policy {
  let text = s.policyYaml;
  if (s.capacityHints) {
    const unit = specs[0].capacity / specs[0].units;
    const sizes = [...new Set(SIZE_PATTERN)].sort((a, b) => a - b);
    const classes = sizes.map((u) => `    size-${u}: { connections: ${Math.round(u * unit)} }`).join('\n');
    const brokers = specs.map((b) => `    ${b.name}: size-${b.units}`).join('\n');
    text += `capacity:\n  classes:\n${classes}\n  brokers:\n${brokers}\n`;
  }
  const parsed = parsePolicy(text, `${s.name} policy`);
  if (!parsed.ok) throw new Error(`the ${s.name} scenario's policy is invalid:\n${formatProblems(parsed.problems)}`);
  return parsed.value;
}
