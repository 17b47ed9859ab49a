import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPolicy, diffPolicies, parsePolicy, type Policy } from '../../../src/config/policy';
import type { Problem, Result } from '../../../src/util/result';

function problems<T>(result: Result<T>): Problem[] {
  if (result.ok) throw new Error('expected problems, got a value');
  return result.problems;
}

function value(result: Result<Policy>): Policy {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.problems)}`);
  return result.value;
}

const lines = (...l: string[]): string => l.join('\n') + '\n';

const FULL = lines(
  '# every section, as in docs/policy.md',
  'weightScale: 2000',
  'bounds: { floor: 2, ceiling: 200000 }',
  'signals: { connections: 1, publishRate: 0.5, cpu: 0.25 }',
  'capacity:',
  '  classes:',
  '    small: { connections: 10000, publishRatePerSec: 5000 }',
  '    large: { connections: 40000 }',
  '  brokers: { broker-a: large, hivemq-0.hivemq: small }',
  '  default: small',
  '  inference: { minCpu: 0.1, alpha: 0.5, maxThrottledRatio: 0.1, maxStepRatio: 1.5 }',
  'catchUp: { maxBoost: 3, gain: 1.5 }',
  'overload:',
  '  { levelThreshold: 2, cpuThreshold: off, throttledThreshold: 0.5, backpressureClientsThreshold: 10, notWritableRatioThreshold: 0.1, weightFactor: 0.05 }',
  'slowStart: { windowMs: 120000, startFraction: 0.2 }',
  'smoothing: { alpha: 0.5, minRelativeChange: 0.05, maxStepRatio: 1.5 }',
  'stale: { graceMs: 10000, decayMs: 0 }',
  'overrides:',
  '  broker-a: { weight: 500 }',
  '  broker-b: { exclude: true }',
  '  broker-c: { drain: true, capacityClass: large }',
  '  broker-d:',
  '    capacity: { connections: 20000 }',
  '    signals: { cpu: 1 }',
  '    overload: { cpuThreshold: 0.95, throttledThreshold: off }',
);

describe('parsePolicy', () => {
  it('turns an empty mapping into the defaults', () => {
    expect(value(parsePolicy('{}', 'p.yaml'))).toEqual(defaultPolicy());
  });

  it('reads every section and freezes the result deeply', () => {
    const p = value(parsePolicy(FULL, 'p.yaml'));
    expect(p.weightScale).toBe(2000);
    expect(p.capacity.classes.small).toEqual({ connections: 10000, publishRatePerSec: 5000 });
    expect(p.capacity.brokers['hivemq-0.hivemq']).toBe('small');
    expect(p.overload).toEqual({
      levelThreshold: 2,
      cpuThreshold: 'off',
      throttledThreshold: 0.5,
      backpressureClientsThreshold: 10,
      notWritableRatioThreshold: 0.1,
      weightFactor: 0.05,
      holdMs: 15000,
      confirmSamples: 2,
      onScrapeTimeout: true,
    });
    expect(p.capacity.inference).toEqual({ minCpu: 0.1, alpha: 0.5, maxThrottledRatio: 0.1, maxStepRatio: 1.5, minRelativeCpu: 0.5 });
    expect(p.overrides['broker-d']).toEqual({
      capacity: { connections: 20000 },
      signals: { cpu: 1 },
      overload: { cpuThreshold: 0.95, throttledThreshold: 'off' },
    });
    expect(Object.isFrozen(p.overrides['broker-d'].capacity)).toBe(true);
    expect(Object.isFrozen(defaultPolicy().smoothing)).toBe(true);
  });

  it('keeps the defaults of keys a section leaves out', () => {
    const p = value(parsePolicy('smoothing: { alpha: 0.9 }\n', 'p.yaml'));
    expect(p.smoothing).toEqual({ ...defaultPolicy().smoothing, alpha: 0.9 });
  });

  it.each<[string, string, string, string, number, string]>([
    [
      'an unknown key, with a suggestion',
      'smoothing:\n  alpah: 0.5\n',
      'POLICY_UNKNOWN_KEY',
      'smoothing.alpah',
      2,
      'unknown key "alpah" (did you mean "alpha"?)',
    ],
    ['an unknown section', 'overlaod: {}\n', 'POLICY_UNKNOWN_KEY', 'overlaod', 1, '(did you mean "overload"?)'],
    [
      'a number out of range',
      'smoothing:\n  alpha: 1.5\n',
      'POLICY_VALUE_RANGE',
      'smoothing.alpha',
      2,
      'expected a number in (0, 1], got number 1.5',
    ],
    [
      'a fraction for an integer',
      'bounds: { floor: 1.5 }\n',
      'POLICY_VALUE_INVALID',
      'bounds.floor',
      1,
      'expected an integer in 1..4294967295',
    ],
    ['a string for a number', 'weightScale: lots\n', 'POLICY_VALUE_INVALID', 'weightScale', 1, 'got the string "lots"'],
    [
      'a threshold neither number nor off',
      'overload: { cpuThreshold: none }\n',
      'POLICY_VALUE_INVALID',
      'overload.cpuThreshold',
      1,
      'expected a number in (0, 1], or off',
    ],
    [
      'a throttled threshold of 0 (every broker would count as overloaded)',
      'overload: { throttledThreshold: 0 }\n',
      'POLICY_VALUE_RANGE',
      'overload.throttledThreshold',
      1,
      'expected a number in (0, 1], or off',
    ],
    [
      'an inference step ratio of 1 (capacity would never move)',
      'capacity:\n  inference: { maxStepRatio: 1 }\n',
      'POLICY_VALUE_RANGE',
      'capacity.inference.maxStepRatio',
      2,
      'expected a number in (1, 1000]',
    ],
    [
      'a throttled ratio above 1',
      'capacity:\n  inference: { maxThrottledRatio: 1.5 }\n',
      'POLICY_VALUE_RANGE',
      'capacity.inference.maxThrottledRatio',
      2,
      'expected a number in [0, 1]',
    ],
    ['yes for a boolean', 'overrides:\n  b1: { drain: yes }\n', 'POLICY_VALUE_INVALID', 'overrides.b1.drain', 2, 'expected true or false'],
    ['a list for a section', 'bounds: [1, 2]\n', 'POLICY_NOT_A_MAPPING', 'bounds', 1, 'expected a mapping, got a list'],
    ['a bad broker name', 'overrides:\n  Broker_A: { drain: true }\n', 'POLICY_NAME_INVALID', 'overrides.Broker_A', 2, 'not a valid name'],
    [
      'a dotted broker name keeps its path readable',
      'overrides:\n  "b.x": { weight: 0 }\n',
      'POLICY_VALUE_RANGE',
      'overrides["b.x"].weight',
      2,
      'expected an integer in 1..',
    ],
    [
      'a class without connections',
      'capacity:\n  classes:\n    big: { publishRatePerSec: 9 }\n',
      'POLICY_MISSING_KEY',
      'capacity.classes.big.connections',
      3,
      '"connections" is required',
    ],
    [
      'floor above ceiling',
      'bounds:\n  floor: 10\n  ceiling: 5\n',
      'POLICY_BOUNDS_ORDER',
      'bounds.floor',
      2,
      'floor 10 is above ceiling 5',
    ],
    [
      'weightScale outside the bounds',
      'weightScale: 100\nbounds: { floor: 200 }\n',
      'POLICY_SCALE_OUTSIDE_BOUNDS',
      'weightScale',
      1,
      'must lie within bounds 200..100000',
    ],
    [
      'a pinned weight outside the bounds',
      'overrides:\n  b1:\n    weight: 200000\n',
      'POLICY_VALUE_RANGE',
      'overrides.b1.weight',
      3,
      'pinned weight 200000 must lie within bounds 1..100000',
    ],
    ['every signal weight zero', 'signals: { connections: 0 }\n', 'POLICY_SIGNALS_NONE', 'signals', 1, 'every signal weight is 0'],
    [
      'every signal weight zero for one broker',
      'overrides:\n  b1:\n    signals: { connections: 0 }\n',
      'POLICY_SIGNALS_NONE',
      'overrides.b1.signals',
      3,
      'for this broker',
    ],
    [
      'an unknown class for a broker',
      'capacity:\n  classes: { small: { connections: 1 } }\n  brokers: { b1: smal }\n',
      'POLICY_UNKNOWN_CLASS',
      'capacity.brokers.b1',
      3,
      'unknown capacity class "smal" (did you mean "small"?)',
    ],
    ['an unknown default class', 'capacity: { default: large }\n', 'POLICY_UNKNOWN_CLASS', 'capacity.default', 1, 'known: auto'],
    [
      'an unknown class in an override',
      'overrides:\n  b1: { capacityClass: large }\n',
      'POLICY_UNKNOWN_CLASS',
      'overrides.b1.capacityClass',
      2,
      'define it under capacity.classes',
    ],
    [
      'a class named auto',
      'capacity:\n  classes: { auto: { connections: 1 } }\n',
      'POLICY_NAME_RESERVED',
      'capacity.classes.auto',
      2,
      'reserved',
    ],
    [
      'exclude with settings it makes pointless',
      'overrides:\n  b1: { exclude: true, weight: 5 }\n',
      'POLICY_OVERRIDE_CONFLICT',
      'overrides.b1.exclude',
      2,
      'weight would have no effect',
    ],
    [
      'a capacity override with nothing to complete it',
      'overrides:\n  b1: { capacity: { publishRatePerSec: 5 } }\n',
      'POLICY_CAPACITY_INCOMPLETE',
      'overrides.b1.capacity',
      2,
      'needs "connections"',
    ],
  ])('refuses %s', (_, text, code, path, line, message) => {
    const [p, ...rest] = problems(parsePolicy(text, 'p.yaml'));
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ code, path, line });
    expect(p.message).toContain(message);
  });

  it('reports every problem at once', () => {
    const text = lines('weightScale: 0', 'smoothing:', '  alpha: 2', '  maxStepRatio: 1', 'bogus: 1');
    expect(problems(parsePolicy(text, 'p.yaml')).map((p) => [p.code, p.path, p.line])).toEqual([
      ['POLICY_VALUE_RANGE', 'weightScale', 1],
      ['POLICY_VALUE_RANGE', 'smoothing.alpha', 3],
      ['POLICY_VALUE_RANGE', 'smoothing.maxStepRatio', 4],
      ['POLICY_UNKNOWN_KEY', 'bogus', 5],
    ]);
  });

  it.each<[string, string, string]>([
    ['an empty document, because a half-written file must not drop every override', '', 'POLICY_EMPTY'],
    ['a comment-only document', '# nothing yet\n', 'POLICY_EMPTY'],
    ['a document that is not a mapping', '- 1\n- 2\n', 'POLICY_NOT_A_MAPPING'],
    ['a syntax error', 'bounds: { floor: 1\n', 'POLICY_SYNTAX'],
    ['a repeated key', 'weightScale: 1\nweightScale: 2\n', 'POLICY_SYNTAX'],
  ])('refuses %s, naming the source', (_, text, code) => {
    const [p] = problems(parsePolicy(text, 'policy.yaml'));
    expect(p).toMatchObject({ code, path: 'policy.yaml' });
    expect(p.line).toBeGreaterThanOrEqual(1);
  });
});

describe('diffPolicies', () => {
  const base = defaultPolicy();

  it('is empty for equal policies', () => {
    expect(diffPolicies(base, value(parsePolicy('{}', 'p')))).toEqual([]);
  });

  it('lists each changed, added and removed value as path: old -> new', () => {
    const before = value(parsePolicy(lines('overrides:', '  broker-a: { weight: 500 }', '  b.c: { drain: true }'), 'p'));
    const after = value(
      parsePolicy(
        lines('smoothing: { alpha: 0.5 }', 'overload: { cpuThreshold: off }', 'overrides:', '  broker-a: { weight: 700, drain: true }'),
        'p',
      ),
    );
    expect(diffPolicies(before, after)).toEqual([
      'overload.cpuThreshold: 0.9 -> off',
      'smoothing.alpha: 0.3 -> 0.5',
      'overrides.broker-a.weight: 500 -> 700',
      'overrides["b.c"].drain: true -> (unset)',
      'overrides.broker-a.drain: (unset) -> true',
    ]);
  });
});

describe('docs/policy.md', () => {
  const doc = readFileSync(join(__dirname, '../../../docs/policy.md'), 'utf8');

  function leaves(v: unknown, path = ''): [string, string][] {
    if (typeof v !== 'object' || v === null) return [[path, String(v)]];
    return Object.entries(v).flatMap(([k, x]) => leaves(x, path === '' ? k : `${path}.${k}`));
  }

  it.each(leaves(defaultPolicy()))('documents %s with its default %s', (path, def) => {
    const row = new RegExp('^\\| `' + path.replace(/\./g, '\\.') + '` \\| `' + def.replace(/\./g, '\\.') + '` \\|', 'm');
    expect(doc).toMatch(row);
  });

  it.each(['weight', 'exclude', 'drain', 'capacityClass', 'capacity', 'signals', 'overload'])(
    'documents the override field %s',
    (field) => {
      expect(doc).toContain('`overrides.<broker>.' + field + '`');
    },
  );
});
