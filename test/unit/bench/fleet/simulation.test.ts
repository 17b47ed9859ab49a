import { scaleOutScenario, type Scenario } from '../../../bench/fleet/scenarios';
import { simulate } from '../../../bench/fleet/simulation';
import type { RunSummary } from '../../../bench/fleet/summary';

/** A tiny fleet with everything in it: a failure, a drain and a scale-out. */
const tiny = (seed: number): Scenario => ({
  ...scaleOutScenario(),
  name: 'tiny',
  clients: 2000,
  brokers: 10,
  seed,
  envoys: { count: 5, shareCv: 0.1, edsDelayMinMs: 50, edsDelayMaxMs: 3000 },
  durationSec: 30 * 60,
  warmupSec: 5 * 60,
  events: [
    { kind: 'fail', atSec: 6 * 60, slot: 3, restartAfterSec: 120 },
    { kind: 'scale-out', atSec: 12 * 60, count: 2 },
    { kind: 'drain', atSec: 20 * 60, slot: 6, restartAfterSec: 60 },
  ],
  peers: ['mqtt-xds'],
});

/** What depends on the seed only: CPU and wall time are the machine's. */
const outcome = ({ wallSec: _w, computeCpu: _c, rebalanceRoundCpu: _r, ...rest }: RunSummary) => rest;

describe('the fleet simulation', () => {
  const a = simulate(tiny(5), 'mqtt-xds');

  it('never creates or loses a client', () => {
    expect(a.accounted).toBe(a.devices);
    expect(a.droppedByFailure).toBeGreaterThan(0);
  });

  it('runs the same for the same seed', () => {
    expect(outcome(simulate(tiny(5), 'mqtt-xds'))).toEqual(outcome(a));
  });

  it('runs differently for another seed', () => {
    expect(outcome(simulate(tiny(6), 'round-robin'))).not.toEqual(outcome(a));
  });

  it('drives the real rebalancer: the drain moves clients off the draining broker', () => {
    expect(a.movedDrain).toBeGreaterThan(0);
    expect(a.computeCpu.calls).toBeGreaterThan(0);
    expect(a.t90Sec === null || a.t90Sec >= 0).toBe(true);
  });
});
