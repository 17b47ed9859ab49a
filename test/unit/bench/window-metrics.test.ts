import { analyse } from '../../../test/bench/lb/analysis';
import { capacityTable, renderMarkdown, spikeTable, suspectTable } from '../../../test/bench/lb/report';
import type { StrategyRun } from '../../../test/bench/lb/samples';
import { parseScenario } from '../../../test/bench/lb/scenario-parse';
import type { Scenario } from '../../../test/bench/lb/scenario';
import { capacityErrors, firstSuspects, oscillation, windowResult } from '../../../test/bench/lb/window-metrics';
import { broker, sample, series } from './fixtures';

function scenario(extra: string): Scenario {
  const r = parseScenario(
    `
name: t
durationSec: 30
scrapeIntervalMs: 1000
brokers:
  - { name: a, capacity: 1000 }
  - { name: b, capacity: 1000 }
populations:
  - { name: p, count: 10, arrival: { startSec: 0 }, traffic: { kind: subscriber } }
steadyStateSec: [20, 29]
${extra}`,
    't.yaml',
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}

const run = (samples: StrategyRun['samples'], strategy: StrategyRun['strategy'] = 'mqtt-xds'): StrategyRun => ({
  strategy,
  label: strategy,
  samples,
  events: [],
  wallSec: 1,
  workDir: '/tmp',
});

describe('oscillation', () => {
  it('is the largest peak-to-trough of any broker after a 5 s moving average, in percentage points', () => {
    // a swings 400 ↔ 600 (40 % ↔ 60 %) in blocks of five seconds; b stays at 500.
    const a = Array.from({ length: 20 }, (_, i) => (Math.floor(i / 5) % 2 === 0 ? 400 : 600));
    const samples = series(10, { a, b: Array(20).fill(500) });
    const o = oscillation(samples, { fromSec: 10, toSec: 29 });
    expect(o?.broker).toBe('a');
    expect(o?.amplitudePp).toBeCloseTo(20, 6);
    expect(o?.perBroker.b).toBe(0);
  });

  it('smooths a one-second blip away', () => {
    const a = Array(20).fill(500);
    a[7] = 1000;
    const o = oscillation(series(10, { a }), { fromSec: 10, toSec: 29 });
    // One sample of +50 points moves the 5 s average by 10.
    expect(o?.amplitudePp).toBeCloseTo(10, 6);
  });

  it('leaves out samples outside the window and brokers not in the balancer', () => {
    const samples = [
      sample(5, [broker('a', 0)]),
      ...Array.from({ length: 6 }, (_, i) => sample(10 + i, [broker('a', 500), broker('b', i * 100, { present: false })])),
    ];
    const o = oscillation(samples, { fromSec: 10, toSec: 30 });
    expect(o).toEqual({ amplitudePp: 0, broker: 'a', perBroker: { a: 0 } });
  });

  it('is null when no broker has five samples in the window', () => {
    expect(oscillation(series(10, { a: [1, 2, 3, 4] }), { fromSec: 10, toSec: 30 })).toBeNull();
  });
});

describe('windowResult and the spike table', () => {
  // a is overloaded from 12 s to 14 s (1200 of 1000), the rest of the time both carry 500.
  const a = Array.from({ length: 20 }, (_, i) => (i >= 2 && i <= 4 ? 1200 : 500));
  const samples = series(10, { a, b: Array(20).fill(500) });

  it('counts imbalance, peak and overload-seconds within the window only', () => {
    const w = windowResult(samples, { fromSec: 12, toSec: 16 }, 1);
    expect(w.samples).toBe(5);
    expect(w.overloadSec).toBe(3);
    expect(w.peakUtilisation).toBe(1.2);
    // Three samples at 1200/850, two at 1.
    expect(w.imbalance).toBeCloseTo((3 * (1200 / 850) + 2) / 5, 3);
  });

  it('reports the spike beside the steady state, where the recovery looks perfect', () => {
    const s = scenario('spikeWindowSec: [11, 15]\n');
    const r = analyse(s, run(samples));
    expect(r.imbalance).toBeCloseTo(1, 10);
    expect(r.spike).toMatchObject({ fromSec: 11, toSec: 15, overloadSec: 3 });
    const table = spikeTable(s, [r]).join('\n');
    expect(table).toMatch(/Spike window 11–15 s/);
    expect(table).toMatch(/\| mqtt-xds \| 1\.2\d \| 120% \| 3 \|/);
  });

  it('adds no spike table to a scenario without a spike window', () => {
    const s = scenario('');
    expect(analyse(s, run(samples)).spike).toBeUndefined();
    expect(spikeTable(s, [analyse(s, run(samples))])).toEqual([]);
  });
});

describe('suspects', () => {
  const s = scenario('events:\n  - { atSec: 12, kind: metrics-lie, broker: a, mode: idle }\n');

  it('keeps the first second and reason GET /status called each broker suspect', () => {
    const samples = [
      sample(13, [broker('a', 1)]),
      sample(14, [broker('a', 1)], { suspects: { a: 'page says idle while clients connect' } }),
      sample(15, [broker('a', 1)], { suspects: { a: 'later reason', b: 'stale' } }),
    ];
    expect(firstSuspects(samples)).toEqual({
      a: { atSec: 14, reason: 'page says idle while clients connect' },
      b: { atSec: 15, reason: 'stale' },
    });
  });

  it('says "never" for mqtt-xds when /status has no suspect field, and nothing for strategies that read no metrics', () => {
    const plain = series(10, { a: Array(5).fill(1), b: Array(5).fill(1) });
    const results = [analyse(s, run(plain, 'envoy-rr')), analyse(s, run(plain))];
    expect(results[0].suspects).toBeUndefined();
    const table = suspectTable(s, results).join('\n');
    expect(table).toMatch(/\| mqtt-xds \| never \| never \|/);
    expect(table).not.toMatch(/envoy-rr/);
  });

  it('times a flag from the lie aimed at the broker', () => {
    const samples = [sample(15, [broker('a', 1), broker('b', 1)], { suspects: { a: 'idle page' } })];
    const table = suspectTable(s, [analyse(s, run(samples))]).join('\n');
    expect(table).toMatch(/\| mqtt-xds \| 15 s \(\+3 s\): idle page \| never \|/);
  });

  it('shows no table when nothing lied and nothing was flagged', () => {
    const quiet = scenario('');
    expect(suspectTable(quiet, [analyse(quiet, run(series(10, { a: [1] })))])).toEqual([]);
  });
});

describe('the main table', () => {
  it('states the scrape interval of every mqtt-xds row and the oscillation of every row', () => {
    const s = scenario('');
    const samples = series(20, { a: Array(10).fill(500), b: Array(10).fill(500) });
    const rr = analyse(s, run(samples, 'envoy-rr'));
    const prod = analyse(s, { ...run(samples), label: 'mqtt-xds@5s', scrape: { intervalMs: 5000, timeoutMs: 2000 } });
    const text = renderMarkdown(s, [rr, prod], new Map());
    expect(text).toMatch(/\| envoy-rr \| – \| 1\.00 \| 0\.0 \(a\) \|/);
    expect(text).toMatch(/\| mqtt-xds@5s \| 5000 ms \(2000 ms\) \| 1\.00 \| 0\.0 \(a\) \|/);
    expect(text).toMatch(/5 s trailing moving average/);
  });
});

describe('capacity against the truth', () => {
  it('compares the capacity mqtt-xds assumed with connections over modelled utilisation, in the window only', () => {
    // a holds 500 at utilisation 0.5 (true capacity 1000), assumed 800; b assumed right.
    const samples = [10, 20, 25, 29].map((t) =>
      sample(t, [broker('a', 500), broker('b', 250)], { capacities: t === 10 ? { a: 5000, b: 5000 } : { a: 800, b: 1000 } }),
    );
    const c = capacityErrors(samples, { fromSec: 20, toSec: 29 });
    expect(c.a).toEqual({ assumed: 800, truth: 1000, ratio: 0.8 });
    expect(c.b.ratio).toBeCloseTo(1, 9);
    const table = capacityTable(scenario(''), [analyse(scenario(''), run(samples))]);
    expect(table.join('\n')).toContain('| mqtt-xds | 800 / 1000 (0.80) | 1000 / 1000 (1.00) |');
  });

  it('skips brokers nearly idle, whose ratio says little', () => {
    const samples = [sample(25, [broker('a', 10)], { capacities: { a: 50 } })];
    expect(capacityErrors(samples, { fromSec: 20, toSec: 29 })).toEqual({});
  });
});
