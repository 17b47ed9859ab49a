import { pageView, type ControlPlaneStatus, type ProxyStatusBody } from '../../../src/admin';

/** The parts of /status the page reads; the rest of the document does not matter here. */
function status(over: Record<string, unknown>): ControlPlaneStatus {
  return {
    version: '0.1.0',
    ready: { ready: true, reason: 'serving snapshot abc' },
    snapshot: { version: 'abc', publishedAt: undefined, types: {} },
    balancing: { mode: 'metrics' },
    brokers: undefined,
    decisions: undefined,
    loads: undefined,
    rebalance: { mode: 'dry-run', leader: true, missingClients: 0, plan: undefined, sources: {}, drains: [] },
    ...over,
  } as unknown as ControlPlaneStatus;
}

const decision = {
  name: 'hivemq-0',
  weight: 1206,
  health: 'serving',
  excluded: false,
  utilisation: 0.388888,
  capacity: 121,
  capacitySource: 'inferred',
  factors: {},
  reason: 'fair share 1196',
  inputs: {},
};

describe('pageView', () => {
  it("takes each broker's weight, utilisation, capacity and reason from its decision, and its connections from its load", () => {
    const v = pageView(status({ decisions: [decision], loads: { 'hivemq-0': { signals: { connections: 47 } } } }), undefined);
    expect(v.brokers).toEqual([
      {
        name: 'hivemq-0',
        weight: 1206,
        health: 'serving',
        excluded: false,
        utilisation: 0.3889,
        capacity: 121,
        capacitySource: 'inferred',
        reason: 'fair share 1196',
        connections: 47,
      },
    ]);
    expect(v).toMatchObject({ version: '0.1.0', snapshot: 'abc', mode: 'metrics', rebalanceMode: 'dry-run', proxies: [], moves: [] });
  });

  it('lists the static plan when balancing makes no decisions', () => {
    const plan = [{ name: 'b1', address: '127.0.0.1', port: 1883, weight: 7, health: 'serving' }];
    const v = pageView(status({ balancing: { mode: 'static' }, brokers: plan, decisions: [] }), undefined);
    expect(v.brokers).toEqual([
      { name: 'b1', weight: 7, health: 'serving', excluded: false, capacitySource: '–', reason: 'static weight (balancing.mode static)' },
    ]);
  });

  it("keeps Envoy's NACK message and rounds how long a type is behind to seconds", () => {
    const proxies: ProxyStatusBody = {
      version: '0.1.0',
      snapshot: 'abc',
      staleAfterMs: 10_000,
      omitted: 3,
      proxies: [
        {
          node: 'edge-1',
          cluster: 'mqtt-edge',
          kind: 'sotw',
          stream: 1,
          peer: 'ipv4:127.0.0.1:1',
          connectedAt: '2026-12-07T12:00:00.000Z',
          types: {
            LDS: { state: 'NACKED', sent: 'b', acked: 'a', latest: 'b', error: 'malformed IP address: not-an-ip' },
            EDS: { state: 'PENDING', sent: 'c', acked: 'b', latest: 'c', behindMs: 2345 },
          },
        },
      ],
    };
    const v = pageView(status({}), proxies);
    expect(v.proxies).toEqual([
      {
        node: 'edge-1',
        cluster: 'mqtt-edge',
        kind: 'sotw',
        types: { LDS: { state: 'NACKED', error: 'malformed IP address: not-an-ip' }, EDS: { state: 'PENDING', behindMs: 2000 } },
      },
    ]);
    expect(v.omittedProxies).toBe(3);
  });

  it("shows a drain with its source's budget once, and a rebalance source on its own", () => {
    const v = pageView(
      status({
        rebalance: {
          mode: 'enforce',
          leader: true,
          missingClients: 0,
          plan: { sources: [], targets: [], room: [], blocked: 'no targets below their share' },
          sources: {
            'hivemq-2': {
              kind: 'drain',
              phase: 'moving',
              moved: 10,
              toMove: 15,
              budget: 25,
              note: '',
              markedAtMs: 0,
              lastError: undefined,
            },
            'hivemq-0': {
              kind: 'overload',
              phase: 'moving',
              moved: 4,
              toMove: 6,
              budget: 10,
              note: '',
              markedAtMs: 0,
              lastError: 'agent 503',
            },
          },
          drains: [
            {
              broker: 'hivemq-2',
              state: 'draining',
              drained: false,
              connections: 15,
              moved: 10,
              phase: 'moving',
              deadlineAt: '2026-12-07T13:00:00.000Z',
            },
          ],
        },
      }),
      undefined,
    );
    expect(v.moves).toEqual([
      {
        broker: 'hivemq-2',
        kind: 'drain',
        phase: 'moving',
        moved: 10,
        budget: 25,
        connections: 15,
        deadlineAt: '2026-12-07T13:00:00.000Z',
      },
      { broker: 'hivemq-0', kind: 'overload', phase: 'moving', moved: 4, budget: 10, note: 'agent 503' },
    ]);
    expect(v.blocked).toBe('no targets below their share');
  });

  it("lists the certificates in force with their expiry, and a tenant's refused files", () => {
    const v = pageView(
      status({
        listenerTls: { serial: '1', subject: 'CN=mqtt', notAfter: '2027-01-01T00:00:00.000Z', refused: [] },
        tenants: { acme: { refused: [{ code: 'TLS_KEY_MISMATCH', path: 'acme.key', message: 'key does not match' }] } },
      }),
      undefined,
    );
    expect(v.certificates).toEqual([
      { name: 'MQTT listener', notAfter: '2027-01-01T00:00:00.000Z' },
      { name: 'tenant acme', problem: 'key does not match' },
    ]);
  });
});
