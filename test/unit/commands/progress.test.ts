import { drainProgress, formatDuration, progressBar, progressLine } from '../../../src/commands/progress';

describe('drain progress', () => {
  it('knows nothing before a count', () => {
    expect(drainProgress([])).toEqual({ fraction: undefined, etaSec: undefined });
    expect(drainProgress([{ atMs: 0, connections: undefined, moved: 0 }])).toEqual({ fraction: undefined, etaSec: undefined });
  });

  it('has a fraction but no ETA until clients leave', () => {
    expect(drainProgress([{ atMs: 0, connections: 30, moved: 10 }])).toEqual({ fraction: 0.25, etaSec: undefined });
    expect(
      drainProgress([
        { atMs: 0, connections: 30, moved: 10 },
        { atMs: 2000, connections: 30, moved: 10 },
      ]).etaSec,
    ).toBeUndefined();
  });

  it('estimates the time left from the rate seen since the first count', () => {
    // 40 left in 10 s: 4 per second, so 20 more take 5 s.
    const p = drainProgress([
      { atMs: 1000, connections: 60, moved: 0 },
      { atMs: 5000, connections: undefined, moved: 20 },
      { atMs: 11_000, connections: 20, moved: 40 },
    ]);
    expect(p).toEqual({ fraction: 40 / 60, etaSec: 5 });
  });

  it('is done at zero connections', () => {
    expect(drainProgress([{ atMs: 0, connections: 0, moved: 0 }])).toEqual({ fraction: 1, etaSec: 0 });
  });

  it('formats durations', () => {
    expect([9, 65, 3600 + 120].map(formatDuration)).toEqual(['9s', '1m05s', '1h02m']);
  });

  it('fits the bar to the terminal and shows the ETA', () => {
    const bar = progressBar('hivemq-0', { atMs: 0, connections: 20, moved: 60 }, { fraction: 0.75, etaSec: 65 }, 60);
    expect(bar).toBe('hivemq-0 [##########---]  75%  20 left, 60 moved, ETA 1m05s');
    expect(bar.length).toBeLessThanOrEqual(60);
  });

  it('writes plain lines elsewhere', () => {
    expect(progressLine({ atMs: 0, connections: undefined, moved: 3 }, 'agent down')).toBe(
      'draining: ? connections left, 3 moved; agent down',
    );
  });
});
