// proxy-status's classification, and what each stream state machine reports for it.
import { CLUSTER, ENDPOINT, LISTENER, classify, type TypeSync } from '../../../src/xds';
import { DeltaStream } from '../../../src/xds/delta-stream';
import { SotwStream } from '../../../src/xds/sotw-stream';
import { harness } from './harness';

const EDS_NAMES = ['mqtt_brokers'];

describe('classify', () => {
  const base: TypeSync = { sentVersion: 'v2', ackedVersion: 'v2', latestVersion: 'v2', holdsLatest: true, nackedLatest: false };

  it('is SYNCED when the Envoy holds the latest, keeping an earlier NACK as history', () => {
    expect(classify(base, 5000, 0)).toEqual({ state: 'SYNCED', sent: 'v2', acked: 'v2', latest: 'v2' });
    expect(classify({ ...base, lastError: 'old' }, 5000, 0)).toMatchObject({ state: 'SYNCED', error: 'old' });
  });

  it('is NACKED with the message when the Envoy rejected the latest', () => {
    const s: TypeSync = { ...base, ackedVersion: 'v1', holdsLatest: false, nackedLatest: true, lastError: 'bad address' };
    expect(classify(s, 5000, 0)).toEqual({ state: 'NACKED', sent: 'v2', acked: 'v1', latest: 'v2', error: 'bad address' });
  });

  it('is PENDING while the latest is in flight for less than the threshold, STALE after', () => {
    const s: TypeSync = { ...base, ackedVersion: 'v1', holdsLatest: false, inFlightSinceMs: 1000 };
    expect(classify(s, 1000 + 9_999, 0, 10_000)).toMatchObject({ state: 'PENDING', behindMs: 9_999 });
    expect(classify(s, 1000 + 10_000, 0, 10_000)).toMatchObject({ state: 'STALE', behindMs: 10_000, acked: 'v1', latest: 'v2' });
  });

  it('counts a stream whose push is not sent yet as behind since the snapshot was published', () => {
    const s: TypeSync = { sentVersion: 'v1', ackedVersion: 'v1', latestVersion: 'v2', holdsLatest: false, nackedLatest: false };
    expect(classify(s, 20_000, 5_000, 10_000)).toMatchObject({ state: 'STALE', behindMs: 15_000 });
    expect(classify(s, 20_000, 15_000, 10_000)).toMatchObject({ state: 'PENDING', behindMs: 5_000 });
  });
});

describe.each([
  ['SotW', (h: ReturnType<typeof harness>) => new SotwStream(h.deps)],
  ['Delta', (h: ReturnType<typeof harness>) => new DeltaStream(h.deps)],
] as const)('a %s stream reports its sync', (kind, make) => {
  const ack = (
    s: SotwStream | DeltaStream,
    typeUrl: typeof CLUSTER | typeof ENDPOINT | typeof LISTENER,
    r: { version: string; nonce: string },
  ) =>
    s.onRequest(typeUrl, {
      type_url: typeUrl,
      ...(typeUrl === ENDPOINT && kind === 'SotW' ? { resource_names: EDS_NAMES } : {}),
      version_info: r.version,
      response_nonce: r.nonce,
    });

  function connected() {
    const h = harness();
    const s = make(h);
    const [cds] = s.onRequest(CLUSTER, { type_url: CLUSTER, node: { id: 'e1' } });
    ack(s, CLUSTER, cds);
    const [eds] = s.onRequest(ENDPOINT, { type_url: ENDPOINT, resource_names: EDS_NAMES, resource_names_subscribe: EDS_NAMES });
    ack(s, ENDPOINT, eds);
    const [lds] = s.onRequest(LISTENER, { type_url: LISTENER });
    ack(s, LISTENER, lds);
    return { h, s };
  }

  it('holds the latest of every type once all are ACKed', () => {
    const { s } = connected();
    const sync = s.sync();
    expect(Object.keys(sync).sort()).toEqual([CLUSTER, ENDPOINT, LISTENER].sort());
    for (const t of Object.values(sync)) expect(t).toMatchObject({ holdsLatest: true, nackedLatest: false, inFlightSinceMs: undefined });
  });

  it('has a push in flight until it is ACKed', () => {
    const { h, s } = connected();
    h.advance(500);
    h.publishWeights(1, 1, 9);
    const [eds] = s.onSnapshot();
    expect(s.sync()[ENDPOINT]).toMatchObject({ holdsLatest: false, nackedLatest: false, inFlightSinceMs: 1500, sentVersion: eds.version });
    ack(s, ENDPOINT, eds);
    expect(s.sync()[ENDPOINT]).toMatchObject({ holdsLatest: true, ackedVersion: eds.version, inFlightSinceMs: undefined });
  });

  it('is behind, with nothing in flight, when the snapshot changed and nothing was sent yet', () => {
    const { h, s } = connected();
    h.publishWeights(1, 1, 9);
    expect(s.sync()[ENDPOINT]).toMatchObject({ holdsLatest: false, nackedLatest: false, inFlightSinceMs: undefined });
  });

  it('rejected the latest after a NACK, with the message, until a newer version is ACKed', () => {
    const { h, s } = connected();
    h.publishWeights(1, 1, 9);
    const [bad] = s.onSnapshot();
    s.onRequest(ENDPOINT, {
      type_url: ENDPOINT,
      ...(kind === 'SotW' ? { resource_names: EDS_NAMES } : {}),
      response_nonce: bad.nonce,
      error_detail: { message: 'weights rejected' },
    });
    expect(s.sync()[ENDPOINT]).toMatchObject({
      holdsLatest: false,
      nackedLatest: true,
      lastError: 'weights rejected',
      inFlightSinceMs: undefined,
    });
    h.publishWeights(2, 2, 2);
    const [good] = s.onSnapshot();
    ack(s, ENDPOINT, good);
    expect(s.sync()[ENDPOINT]).toMatchObject({ holdsLatest: true, nackedLatest: false, lastError: 'weights rejected' });
  });

  it('selects what it subscribes to from the snapshot', () => {
    const { s } = connected();
    const sel = s.selection();
    expect(sel[ENDPOINT]?.map((r) => r.name)).toEqual(EDS_NAMES);
    expect(sel[LISTENER]?.map((r) => r.name)).toEqual(['mqtt']);
  });
});
