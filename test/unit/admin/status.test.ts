import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readiness, statusOf, type StatusSources } from '../../../src/admin';
import { defaultPolicy } from '../../../src/config';
import { Planner } from '../../../src/planner';
import type { RebalanceStatus } from '../../../src/rebalance';

const base = { policyWaiting: undefined, snapshotVersion: undefined, discoverySynced: true, discoveryProblems: [] };

describe('readiness', () => {
  it('is not ready while a configured policy has no valid document, even with brokers known', () => {
    const r = readiness({ ...base, policyWaiting: 'no valid policy from file p.yaml yet: POLICY_SYNTAX' });
    expect(r).toEqual({ ready: false, reason: 'no valid policy from file p.yaml yet: POLICY_SYNTAX' });
  });

  it('is not ready while the listener certificate is not in force, with brokers known', () => {
    const why =
      'MQTT listener TLS: no good certificate from Secret mqtt/tls yet: listener.tls.secret: no Secret mqtt/tls [TLS_SECRET_MISSING]';
    expect(readiness({ ...base, listenerTlsWaiting: why })).toEqual({ ready: false, reason: why });
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

const packageVersion = (JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;

describe('statusOf', () => {
  it("shows a broker's missing signals in its decision, next to its neutral capacity", () => {
    const planner = new Planner('metrics', defaultPolicy());
    planner.setBrokers([{ name: 'hivemq-0', address: '10.0.0.1', port: 1883 }]);
    planner.setLoads(
      new Map([
        [
          'hivemq-0',
          {
            broker: 'hivemq-0',
            scrapedAtMs: 1000,
            signals: { connections: 30 },
            unavailable: ['cpu'],
            consecutiveFailures: 0,
            stale: false,
          },
        ],
      ]),
    );
    planner.next(2000);
    const sources: StatusSources = {
      mode: 'metrics',
      snapshot: () => undefined,
      publishedAt: () => undefined,
      policy: {
        waiting: () => undefined,
        status: () => ({ policy: { hash: 'h', source: 'defaults', appliedAt: new Date(0) }, policyProblems: [] }),
      },
      discovery: { synced: () => true, currentProblems: () => [], status: () => ({ discoveryProblems: [], discoverySynced: true }) },
      outcome: () => planner.lastOutcome(),
      loads: () => undefined,
      leader: () => null,
      rebalance: () => ({}) as RebalanceStatus,
      limits: () => undefined,
      streams: () => [],
      xdsTls: undefined,
    };
    const status = JSON.parse(JSON.stringify(statusOf(sources)));
    expect(status.decisions).toEqual([expect.objectContaining({ name: 'hivemq-0', capacitySource: 'neutral', missingSignals: ['cpu'] })]);
    expect(status.version).toBe(packageVersion);
  });
});
