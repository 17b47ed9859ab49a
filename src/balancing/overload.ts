import { overloadCause, overloadSeverity } from './factors';
import type { Assessed } from './fleet';
import type { View } from './observe';

/**
 * Severity (overloadSeverity) from which the damped controller cuts an overloaded broker hard
 * (below it, the broker only gets no more than its fair share), and from which an overload
 * other than CPU is believed on one scrape. HiveMQ's level 5 and up, with the default threshold.
 */
export const SEVERE_AT_ONCE = 0.4;

/** Whether one broker is cut for overload in this computation, and what to remember. */
export interface OverloadVerdict {
  /** Why the broker is cut; undefined when it is not. */
  readonly cut?: string;
  /** An overload seen but not yet confirmed by overload.confirmSamples scrapes. */
  readonly pending?: string;
  readonly overloadedAtMs?: number;
  /** Consecutive scrapes showing an overload. */
  readonly samples?: number;
  /** Damped: consecutive scrapes without one while cut; the cut ends at confirmSamples. */
  readonly calmSamples?: number;
  /** Damped: how severe the overload is, 0 (at a threshold) to 1; kept while the cut lasts. */
  readonly severity?: number;
  /** Damped: this scrape is calm, one of those that end the cut: the broker is no longer cut hard. */
  readonly calming?: true;
}

/**
 * An overload counts once `confirmSamples` consecutive scrapes show it: one CPU spike over a
 * short scrape (a GC, a burst of reconnects) is not an overload. Only fresh metrics decide;
 * otherwise the remembered state carries on unchanged.
 *
 * Proportional: the cut is held for `holdMs` after the last overloaded scrape. Damped: the
 * CPU threshold is compared with the smoothed CPU, so noise around a fleet near the threshold
 * does not cut brokers in turn, and the cut ends after `confirmSamples` calm scrapes. A
 * time-based hold outlasts the loop's dead time many times over: the broker sheds far past
 * the overload, and the brokers near the threshold take turns at it.
 */
export function overloadVerdict(a: View, nowMs: number, damped: boolean): OverloadVerdict {
  const before: OverloadVerdict = {
    ...(a.state.overloadedAtMs === undefined ? {} : { overloadedAtMs: a.state.overloadedAtMs }),
    ...(a.state.overloadSamples === undefined ? {} : { samples: a.state.overloadSamples }),
    ...(a.state.calmSamples === undefined ? {} : { calmSamples: a.state.calmSamples }),
    ...(a.state.overloadSeverity === undefined ? {} : { severity: a.state.overloadSeverity }),
  };
  if (a.metrics !== 'fresh') return before;
  const inputs = damped ? { ...a.inputs, cpu: a.state.smoothed?.cpu } : a.inputs;
  const cause = overloadCause(inputs, a.overload) ?? a.slowPage;
  const counted = a.state.overloadSamples ?? 0;
  const samples = cause === undefined ? 0 : a.newSample ? counted + 1 : Math.max(counted, 1);
  // A page that times out brings no scrape to count; the timeout is its own evidence.
  // A severe overload on a broker's own report (HiveMQ's level far past the threshold,
  // back-pressure, clients not writable, throttling) is believed on one scrape: waiting a
  // second one at the production 5 s interval costs 5 s of overload. CPU alone never is
  // (overloadSeverity does not read it).
  const severeNow = damped && cause !== undefined && overloadSeverity(inputs, a.overload) >= SEVERE_AT_ONCE;
  const confirmed = cause !== undefined && (samples >= a.overload.confirmSamples || cause === a.slowPage || severeNow);
  const overloadedAtMs = confirmed ? nowMs : a.state.overloadedAtMs;
  const pending =
    cause !== undefined && !confirmed ? `${cause} in ${samples} of ${a.overload.confirmSamples} scrapes: not cut yet` : undefined;
  const common = {
    ...(pending === undefined ? {} : { pending }),
    ...(overloadedAtMs === undefined ? {} : { overloadedAtMs }),
    ...(samples > 0 ? { samples } : {}),
  };
  if (damped) {
    const wasCut = a.state.calmSamples !== undefined;
    // While cut, an overloaded scrape starts the count of calm ones again.
    const calm =
      !wasCut && !confirmed
        ? undefined
        : cause !== undefined
          ? 0
          : a.newSample
            ? (a.state.calmSamples ?? 0) + 1
            : (a.state.calmSamples ?? 0);
    const stillCut = confirmed || (calm !== undefined && calm < a.overload.confirmSamples);
    const cut = confirmed
      ? cause
      : stillCut
        ? `overloaded, ${calm} of ${a.overload.confirmSamples} calm scrapes before the cut ends`
        : undefined;
    // The severity is kept through the calm scrapes that end a cut, not through a mild
    // overload that follows a severe one: a broker throttled once and then at the CPU
    // threshold (which the realistic CPU reads at 80 % of capacity) was held at the floor for
    // 30 s (heterogeneous-1-2-4-no-hints at 5 s), and emptied.
    const now = Math.max(cause === a.slowPage ? 1 : 0, overloadSeverity(inputs, a.overload));
    const severity = confirmed ? (now >= SEVERE_AT_ONCE ? Math.max(now, a.state.overloadSeverity ?? 0) : now) : a.state.overloadSeverity;
    return {
      ...common,
      ...(cut === undefined ? {} : { cut }),
      ...(stillCut ? { calmSamples: calm, ...(severity === undefined ? {} : { severity }) } : {}),
      ...(stillCut && !confirmed ? { calming: true as const } : {}),
    };
  }
  const heldMs = overloadedAtMs === undefined ? undefined : nowMs - overloadedAtMs;
  const held =
    heldMs !== undefined && heldMs < a.overload.holdMs
      ? `overloaded ${Math.round(heldMs / 1000)}s ago, cut held for ${Math.round(a.overload.holdMs / 1000)}s`
      : undefined;
  const cut = confirmed ? cause : held;
  return { ...common, ...(cut === undefined ? {} : { cut }) };
}

/**
 * Whether a verdict cuts the broker hard: any cut in proportional mode; in damped mode one
 * severe enough (SEVERE_AT_ONCE) or a page that no longer answers (severity 1), and not on the
 * calm scrapes that end it. Counted as full on those, a broker emptied by its cut stayed at
 * the floor for two more scrapes, 10 s at the production interval, while it read 31 %
 * (overload-spike at 5 s): it then gets no more than its fair share until the cut ends.
 */
export function cutHard(v: OverloadVerdict, damped: boolean): boolean {
  return v.cut !== undefined && (!damped || ((v.severity ?? 0) >= SEVERE_AT_ONCE && v.calming !== true));
}

/**
 * The utilisation an overloaded broker counts as: 1 when its capacity is known. A neutral
 * capacity makes 1 the fleet's average, which says nothing about room; such a broker counts
 * as carrying twice the fleet's level, the deepest cut the controller's bounds allow.
 */
export function fullOf(a: Assessed, meanUtil: number | undefined): number {
  return a.capacity.source === 'neutral' ? 2 * (meanUtil ?? 1) : 1;
}
