import { readiness } from '../../../src/admin';

const base = { policyWaiting: undefined, snapshotVersion: undefined, discoverySynced: true, discoveryProblems: [] };

describe('readiness', () => {
  it('is not ready while a configured policy has no valid document, even with brokers known', () => {
    const r = readiness({ ...base, policyWaiting: 'no valid policy from file p.yaml yet: POLICY_SYNTAX' });
    expect(r).toEqual({ ready: false, reason: 'no valid policy from file p.yaml yet: POLICY_SYNTAX' });
  });

  it('is ready while serving a snapshot, and says so when discovery is not synced', () => {
    expect(readiness({ ...base, snapshotVersion: 'v1' })).toEqual({ ready: true, reason: 'serving snapshot v1' });
    expect(readiness({ ...base, snapshotVersion: 'v1', discoverySynced: false }).reason).toMatch(/discovery not synced.*snapshot v1/);
  });

  it('names the broker list problems before the first snapshot', () => {
    const r = readiness({ ...base, discoveryProblems: [{ code: 'BROKERS_SYNTAX', path: 'brokers.yaml', message: 'bad' }] });
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(/^no valid broker list yet: .*BROKERS_SYNTAX/);
  });

  it('waits for the first complete snapshot otherwise', () => {
    expect(readiness(base)).toEqual({ ready: false, reason: 'waiting for the first complete snapshot' });
  });
});
