import type { Problem } from '../util/result';
import { didYouMean } from '../util/suggest';
import { AUTO_CAPACITY, entryOf, type Policy, type SignalWeights } from './policy-types';
import { childPath } from './policy-schema';
import { checkLimits } from './policy-limits';
import { checkTenants } from './policy-tenants';

/**
 * Checks that span fields: orders of bounds, references to capacity classes, overrides
 * that contradict themselves. `lines` maps the paths read to their lines.
 */
export function checkPolicy(p: Policy, lines: ReadonlyMap<string, number>): Problem[] {
  const problems: Problem[] = [];
  const add = (code: string, path: string, message: string): void => {
    const line = lineOf(lines, path);
    problems.push({ code, path, message, ...(line === undefined ? {} : { line }) });
  };
  const { floor, ceiling } = p.bounds;
  if (floor > ceiling) add('POLICY_BOUNDS_ORDER', 'bounds.floor', `floor ${floor} is above ceiling ${ceiling}`);
  else if (p.weightScale < floor || p.weightScale > ceiling) {
    add('POLICY_SCALE_OUTSIDE_BOUNDS', 'weightScale', `weightScale ${p.weightScale} must lie within bounds ${floor}..${ceiling}`);
  }
  if (signalSum(p.signals) === 0) {
    add('POLICY_SIGNALS_NONE', 'signals', 'every signal weight is 0; give at least one signal a positive weight');
  }

  const classes = Object.keys(p.capacity.classes);
  if (classes.includes(AUTO_CAPACITY)) {
    add(
      'POLICY_NAME_RESERVED',
      childPath('capacity.classes', AUTO_CAPACITY),
      `"${AUTO_CAPACITY}" is reserved for capacity.default; pick another class name`,
    );
  }
  const checkClass = (path: string, value: string, allowAuto: boolean): void => {
    if (classes.includes(value) && value !== AUTO_CAPACITY) return;
    if (allowAuto && value === AUTO_CAPACITY) return;
    const known = allowAuto ? [AUTO_CAPACITY, ...classes] : classes;
    add(
      'POLICY_UNKNOWN_CLASS',
      path,
      `unknown capacity class "${value}"${didYouMean(value, known)}; known: ${known.join(', ') || 'none (define it under capacity.classes)'}`,
    );
  };
  checkClass('capacity.default', p.capacity.default, true);
  for (const [broker, cls] of Object.entries(p.capacity.brokers)) checkClass(childPath('capacity.brokers', broker), cls, false);

  for (const [broker, o] of Object.entries(p.overrides)) {
    const at = childPath('overrides', broker);
    if (o.exclude === true) {
      const others = Object.keys(o).filter((k) => k !== 'exclude');
      if (others.length > 0) {
        add(
          'POLICY_OVERRIDE_CONFLICT',
          childPath(at, 'exclude'),
          `an excluded broker is not in EDS, so ${others.join(', ')} would have no effect; remove ${others.length > 1 ? 'them' : 'it'} or the exclude`,
        );
      }
    }
    if (o.weight !== undefined && (o.weight < floor || o.weight > ceiling)) {
      add('POLICY_VALUE_RANGE', childPath(at, 'weight'), `pinned weight ${o.weight} must lie within bounds ${floor}..${ceiling}`);
    }
    if (o.capacityClass !== undefined) checkClass(childPath(at, 'capacityClass'), o.capacityClass, false);
    if (o.capacity !== undefined && o.capacity.connections === undefined) {
      const cls =
        o.capacityClass ?? entryOf(p.capacity.brokers, broker) ?? (p.capacity.default === AUTO_CAPACITY ? undefined : p.capacity.default);
      if (cls === undefined) {
        add(
          'POLICY_CAPACITY_INCOMPLETE',
          childPath(at, 'capacity'),
          'capacity needs "connections" unless the broker has a capacity class to complete it',
        );
      }
    }
    if (o.signals !== undefined && signalSum({ ...p.signals, ...o.signals }) === 0) {
      add(
        'POLICY_SIGNALS_NONE',
        childPath(at, 'signals'),
        'every signal weight is 0 for this broker; give at least one signal a positive weight',
      );
    }
  }
  checkLimits(p.limits, add);
  checkTenants(p.tenants, add);
  return problems;
}

const signalSum = (s: SignalWeights): number => s.connections + s.publishRate + s.cpu;

/** The line of a path, or of its nearest parent that has one. */
function lineOf(lines: ReadonlyMap<string, number>, path: string): number | undefined {
  for (let p = path; p !== ''; p = parentPath(p)) {
    const line = lines.get(p);
    if (line !== undefined) return line;
  }
  return undefined;
}

function parentPath(path: string): string {
  if (path.endsWith('"]')) return path.slice(0, Math.max(0, path.lastIndexOf('["')));
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('"]') ? path.slice(0, dot) : '';
}
