// The scenario's events and time windows, read and checked. Events are read one by one
// (readEvent); the membership timeline is then replayed over all of them (checkTimeline),
// so an event that names a broker that is not there at that moment is refused before
// anything starts.
import { EVENT_KINDS, LIE_MODES, METRICS_EVENT_KINDS, type ScenarioEvent, type TimeWindow } from './scenario';
import type { FieldReader, PathPart } from './scenario-fields';

export const MAX_DURATION_SEC = 600;

const EVENT_FIELDS = ['broker', 'level', 'durationSec', 'extraCost', 'ratio', 'mode', 'delayMs'] as const;

const ALLOWED: Record<ScenarioEvent['kind'], readonly (typeof EVENT_FIELDS)[number][]> = {
  'broker-join': ['broker'],
  'broker-leave': ['broker'],
  overload: ['broker', 'level', 'durationSec'],
  'extra-load': ['broker', 'extraCost', 'durationSec'],
  noise: ['broker', 'ratio', 'durationSec'],
  drain: ['broker'],
  kill: ['broker'],
  'metrics-lie': ['broker', 'mode', 'durationSec'],
  'metrics-slow': ['broker', 'delayMs', 'durationSec'],
};

export function readEvent(r: FieldReader, value: unknown, path: PathPart[], brokers: ReadonlySet<string>): ScenarioEvent | undefined {
  const e = r.object(value, path, ['atSec', 'kind', ...EVENT_FIELDS]);
  if (!e) return undefined;
  const atSec = r.number(e.atSec, [...path, 'atSec'], { min: 0, max: MAX_DURATION_SEC });
  const kind = r.oneOf(e.kind, [...path, 'kind'], EVENT_KINDS);
  if (atSec === undefined || kind === undefined) return undefined;
  for (const key of EVENT_FIELDS) {
    if (e[key] !== undefined && !ALLOWED[kind].includes(key)) {
      r.report([...path, key], 'SCENARIO_NOT_ALLOWED', `a ${kind} event has no ${key} (it takes ${ALLOWED[kind].join(', ')})`);
    }
  }
  const broker = kind === 'noise' && e.broker === undefined ? undefined : r.string(e.broker, [...path, 'broker']);
  if (broker !== undefined && !brokers.has(broker)) {
    r.report([...path, 'broker'], 'SCENARIO_UNKNOWN_BROKER', `no broker named "${broker}"; brokers: ${[...brokers].join(', ')}`);
    return undefined;
  }
  const durationSec = r.optionalNumber(e.durationSec, [...path, 'durationSec'], { min: 0, max: MAX_DURATION_SEC, minExclusive: true });
  const timed = durationSec === undefined ? {} : { durationSec };
  switch (kind) {
    case 'broker-join':
    case 'broker-leave':
    case 'drain':
    case 'kill':
      return broker === undefined ? undefined : { atSec, kind, broker };
    case 'overload': {
      const level = r.number(e.level, [...path, 'level'], { min: 0, max: 10, integer: true });
      return broker === undefined || level === undefined ? undefined : { atSec, kind, broker, level, ...timed };
    }
    case 'extra-load': {
      const extraCost = r.number(e.extraCost, [...path, 'extraCost'], { min: 0, max: 1e9 });
      return broker === undefined || extraCost === undefined ? undefined : { atSec, kind, broker, extraCost, ...timed };
    }
    case 'noise': {
      const ratio = r.number(e.ratio, [...path, 'ratio'], { min: 0, max: 0.99 });
      return ratio === undefined ? undefined : { atSec, kind, ratio, ...(broker === undefined ? {} : { broker }), ...timed };
    }
    case 'metrics-lie': {
      const mode = r.oneOf(e.mode, [...path, 'mode'], LIE_MODES);
      return broker === undefined || mode === undefined ? undefined : { atSec, kind, broker, mode, ...timed };
    }
    case 'metrics-slow': {
      const delayMs = r.number(e.delayMs, [...path, 'delayMs'], { min: 0, max: 60_000, integer: true, minExclusive: true });
      return broker === undefined || delayMs === undefined ? undefined : { atSec, kind, broker, delayMs, ...timed };
    }
  }
}

/**
 * Replays the membership: joins and leaves must change it, a drain or a kill must hit a
 * live broker in the balancer, a killed broker takes no further event but a leave, and
 * some live broker must always be there to take the clients.
 */
export function checkTimeline(
  r: FieldReader,
  initial: readonly string[],
  events: ReadonlyArray<{ event: ScenarioEvent; path: PathPart[] }>,
  durationSec: number | undefined,
): void {
  const present = new Set(initial);
  const everJoined = new Set(initial);
  const killed = new Set<string>();
  const draining = new Set<string>();
  const serving = (): number => [...present].filter((b) => !killed.has(b) && !draining.has(b)).length;
  for (const { event: e, path } of events) {
    if (durationSec !== undefined && e.atSec >= durationSec) {
      r.report(path, 'SCENARIO_ORDER', `happens at ${e.atSec} s, at or after the end (durationSec ${durationSec})`);
    }
    // These change what mqtt-xds scrapes, whether or not the broker is in the balancer.
    if (METRICS_EVENT_KINDS.includes(e.kind)) continue;
    const broker = (e as { broker: string }).broker;
    if (e.kind === 'broker-join') {
      if (everJoined.has(broker)) r.report(path, 'SCENARIO_TIMELINE', `broker "${broker}" joins twice (or was there from the start)`);
      present.add(broker);
      everJoined.add(broker);
      continue;
    }
    if (!present.has(broker)) {
      r.report(
        path,
        'SCENARIO_TIMELINE',
        e.kind === 'broker-leave'
          ? `broker "${broker}" leaves at ${e.atSec} s but is not in the balancer then`
          : `broker "${broker}" is not in the balancer at ${e.atSec} s`,
      );
      continue;
    }
    if (e.kind === 'broker-leave') {
      present.delete(broker);
      if (present.size === 0) r.report(path, 'SCENARIO_TIMELINE', 'the last broker leaves; mqtt-xds refuses an empty broker set');
      continue;
    }
    if (killed.has(broker)) {
      r.report(path, 'SCENARIO_TIMELINE', `broker "${broker}" was killed before ${e.atSec} s; only a broker-leave may follow`);
      continue;
    }
    if (e.kind === 'drain') {
      if (draining.has(broker)) r.report(path, 'SCENARIO_TIMELINE', `broker "${broker}" is drained twice`);
      draining.add(broker);
      if (serving() === 0) r.report(path, 'SCENARIO_TIMELINE', 'this drain leaves no serving broker for the clients');
    } else if (e.kind === 'kill') {
      killed.add(broker);
      if (serving() === 0) r.report(path, 'SCENARIO_TIMELINE', 'this kill leaves no serving broker for the clients to come back to');
    }
  }
}

/** `[fromSec, toSec]` within the run, at least 1 s long. */
export function readWindow(r: FieldReader, value: unknown, path: PathPart[], durationSec: number): TimeWindow | undefined {
  if (!Array.isArray(value)) {
    r.report(path, 'SCENARIO_TYPE', 'expected [fromSec, toSec]');
    return undefined;
  }
  const from = r.number(value[0], [...path, 0], { min: 0, max: durationSec });
  const to = r.number(value[1], [...path, 1], { min: 0, max: durationSec });
  if (value.length !== 2) r.report(path, 'SCENARIO_TYPE', 'expected [fromSec, toSec]');
  if (from !== undefined && to !== undefined && to - from < 1) r.report(path, 'SCENARIO_ORDER', 'the window must be at least 1 s long');
  return from === undefined || to === undefined ? undefined : { fromSec: from, toSec: to };
}

/** steadyStateSec: the last N seconds, or a window. */
export function readSteadyState(r: FieldReader, value: unknown, durationSec: number | undefined): TimeWindow | undefined {
  const path = ['steadyStateSec'];
  if (durationSec === undefined) return undefined;
  if (Array.isArray(value)) return readWindow(r, value, path, durationSec);
  const last = r.number(value, path, { min: 1, max: durationSec });
  return last === undefined ? undefined : { fromSec: durationSec - last, toSec: durationSec };
}
