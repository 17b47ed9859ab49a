import { defaultPolicy } from '../../../src/config/policy';
import { chooseClients, safetyOf, type AgentClient } from '../../../src/rebalance';

const client = (clientId: string, extra: Partial<AgentClient> = {}): AgentClient => ({
  clientId,
  mqttVersion: 5,
  cleanStart: false,
  sessionExpirySec: 3600,
  sharedSubscriber: false,
  connectedSinceMs: 1000,
  ...extra,
});

describe('chooseClients', () => {
  const clients = [
    client('persistent-old', { connectedSinceMs: 1 }),
    client('clean', { cleanStart: true, sessionExpirySec: 0 }),
    client('shared', { sharedSubscriber: true }),
    client('persistent-new', { connectedSinceMs: 5000 }),
  ];

  it('takes shared-subscription members first, then sessions that end with the connection, then the newest persistent ones', () => {
    expect(chooseClients(clients, 4, { safeOnly: false, order: 'newest-first' }).map((c) => c.clientId)).toEqual([
      'shared',
      'clean',
      'persistent-new',
      'persistent-old',
    ]);
  });

  it('never takes more than asked', () => {
    expect(chooseClients(clients, 1, { safeOnly: false, order: 'newest-first' }).map((c) => c.clientId)).toEqual(['shared']);
    expect(chooseClients(clients, 0, { safeOnly: false, order: 'newest-first' })).toEqual([]);
  });

  it('with safeOnly, never takes a persistent session', () => {
    expect(chooseClients(clients, 10, { safeOnly: true, order: 'newest-first' }).map((c) => c.clientId)).toEqual(['shared', 'clean']);
  });

  it('passes over clients already asked to leave', () => {
    expect(chooseClients(clients, 2, { safeOnly: false, order: 'newest-first', skip: new Set(['shared']) }).map((c) => c.clientId)).toEqual(
      ['clean', 'persistent-new'],
    );
  });

  it('oldest-first takes the longest-connected clients first within each safety class', () => {
    const mixed = [
      client('clean-new', { cleanStart: true, sessionExpirySec: 0, connectedSinceMs: 9000 }),
      client('clean-old', { cleanStart: true, sessionExpirySec: 0, connectedSinceMs: 10 }),
      ...clients,
    ];
    expect(chooseClients(mixed, 6, { safeOnly: false, order: 'oldest-first' }).map((c) => c.clientId)).toEqual([
      'shared',
      'clean-old',
      'clean',
      'clean-new',
      'persistent-old',
      'persistent-new',
    ]);
  });

  it('moves the longest-connected clients first by default', () => {
    expect(defaultPolicy().rebalance.order).toBe('oldest-first');
  });

  it('ranks safety: shared 0, session ends with connection 1, persistent 2', () => {
    expect(clients.map(safetyOf)).toEqual([2, 1, 0, 2]);
  });
});
