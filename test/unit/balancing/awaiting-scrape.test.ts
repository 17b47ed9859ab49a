import { awaitingScrape } from '../../../src/balancing';
import { defaultPolicy } from '../../../src/config/policy';
import type { LoadSignals } from '../../../src/domain';
import { broker, loads, rounds, tuned } from './fixtures';

// The damped controller (the default) with CPU as the overload: two scrapes to believe it,
// two calm ones to end the cut.
const policy = tuned({ slowStart: { windowMs: 0 }, overload: { confirmSamples: 2 } }, defaultPolicy());
const brokers = [broker('a'), broker('b'), broker('c')];
const calm: LoadSignals = { connections: 500, cpu: 0.5 };
const hot: LoadSignals = { connections: 500, cpu: 0.99 };

function run(a: readonly LoadSignals[]): Array<string | undefined> {
  return rounds(a.length, { brokers, policy, intervalMs: 1000 }, (r, now) => loads(now, { a: a[r], b: calm, c: calm })).map((o) =>
    awaitingScrape(o.state, policy),
  );
}

describe('awaitingScrape: which next scrape decides something', () => {
  it('asks for nothing on a calm fleet', () => {
    expect(run([calm, calm, calm])).toEqual([undefined, undefined, undefined]);
  });

  it('asks for the scrape that confirms an overload, and for nothing once it is confirmed', () => {
    // Smoothed CPU must cross the threshold first: feed the hot page until it does.
    const seen = run([calm, ...Array<LoadSignals>(12).fill(hot)]);
    const first = seen.findIndex((s) => s !== undefined);
    expect(first).toBeGreaterThan(0);
    expect(seen[first]).toBe('a: overload in 1 of 2 scrapes');
    // The next scrape confirms it: a cut that is decided asks for no quick scrape.
    expect(seen.slice(first + 1)).toEqual(Array(seen.length - first - 1).fill(undefined));
  });

  it('asks for the calm scrapes that end a cut, then nothing', () => {
    const seen = run([calm, ...Array<LoadSignals>(12).fill(hot), ...Array<LoadSignals>(30).fill(calm)]);
    const ending = seen.filter((s) => s?.includes('calm scrapes before its cut ends'));
    expect(ending).toEqual(['a: 1 of 2 calm scrapes before its cut ends']);
    expect(seen.at(-1)).toBeUndefined();
  });

  it('asks for the scrape that confirms a page contradicting the Envoys', () => {
    const state = {
      brokers: [{ name: 'a', firstSeenMs: 0, suspectSamples: 1 }],
      plan: { endpoints: [] },
    };
    expect(awaitingScrape(state, policy)).toBe('a: its page contradicted the Envoys in 1 of 2 scrapes');
    expect(
      awaitingScrape({ ...state, brokers: [{ name: 'a', firstSeenMs: 0, suspectSamples: 2, agreeSamples: 0 }] }, policy),
    ).toBeUndefined();
    expect(awaitingScrape({ ...state, brokers: [{ name: 'a', firstSeenMs: 0, suspectSamples: 0, agreeSamples: 1 }] }, policy)).toBe(
      'a: its page agreed with the Envoys again in 1 of 2 scrapes',
    );
  });
});
