import { nextSources, type SourceState } from '../../../src/rebalance';
import { tuned } from '../balancing/fixtures';

const drainPlan = { name: 'a', kind: 'drain', connections: 100, target: 0, toMove: 100, movable: true, reason: 'drain requested' } as const;

describe('nextSources', () => {
  it('leaves the previous round untouched and carries a source forward as a copy', () => {
    const prev: SourceState = { kind: 'drain', markedAtMs: 0, phase: 'moving', moved: 40, toMove: 60, budget: 100, note: '' };
    const previous = new Map([['a', prev]]);
    const policy = tuned({ drain: { deadlineMs: 1000 } });
    const out = nextSources({ plan: [drainPlan], previous, drainRequestedAtMs: new Map([['a', 0]]), policy, settled: true, now: 5000 });
    expect(out.get('a')).toMatchObject({ phase: 'dry-run', moved: 40, toMove: 100 });
    expect(prev).toMatchObject({ phase: 'moving', toMove: 60 });
  });

  it('starts no rebalance while the fleet is not settled', () => {
    const plan = [{ ...drainPlan, kind: 'rebalance' as const }];
    const input = { plan, previous: new Map(), drainRequestedAtMs: new Map(), policy: tuned({ rebalance: { mode: 'on' } }), now: 0 };
    expect(nextSources({ ...input, settled: false }).size).toBe(0);
    expect(nextSources({ ...input, settled: true }).get('a')).toMatchObject({ kind: 'rebalance', budget: 100 });
  });
});
