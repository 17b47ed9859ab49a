import { X509Certificate } from 'node:crypto';
import { Registry } from 'prom-client';
import { WatchedPair, type PairMaterial, type PemSink, type PemSource, type PemTexts } from '../../../src/tls';
import { silentLogger } from '../../../src/util/log';
import { fail, ok, type Result } from '../../../src/util/result';
import { TestCa } from '../../support/certs';

/** A source that pushes what the test offers, as the Secret watch does. */
function pushed(): PemSource & { push(r: Result<PemTexts>): void; cut(code: string): void } {
  let sink: PemSink | undefined;
  return {
    noun: 'Secret mqtt/listener-tls',
    paths: { cert: 'listener.tls.secret', ca: 'listener.tls.clientCaSecret' },
    piecewise: false,
    start: (s) => (sink = s),
    stop: () => (sink = undefined),
    push: (r) => sink?.offer(r),
    cut: (code) => sink?.unreachable([{ code, path: 'listener.tls.secret', message: 'forbidden (403)' }]),
  };
}

describe('WatchedPair with a pushed source (a Kubernetes Secret)', () => {
  const ca = new TestCa('watched pair test CA');
  const issue = (name: string, days = 7) => ca.issue(name, { commonName: 'mqtt.test', san: ['DNS:mqtt.test'], days });
  const serial = (cert: string) => new X509Certificate(cert).serialNumber;
  const good = issue('good');
  const next = issue('next');
  let source: ReturnType<typeof pushed>;
  let registry: Registry;
  let changes: PairMaterial[];
  let pair: WatchedPair;
  const refusedCount = async (code: string): Promise<number> => {
    const text = await registry.getSingleMetricAsString('mqtt_xds_listener_tls_refused_total');
    return Number(new RegExp(`code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  beforeEach(() => {
    source = pushed();
    registry = new Registry();
    changes = [];
    pair = new WatchedPair({
      source,
      setting: 'listener.tls',
      what: 'MQTT listener TLS',
      metricPrefix: 'mqtt_xds_listener_tls',
      logger: silentLogger,
      registry,
      onChange: (m) => changes.push(m),
    });
    pair.start();
  });

  afterEach(() => pair.stop());

  it('waits, saying why, until the first good read, and then tells onChange so it is published', () => {
    expect(pair.material()).toBeUndefined();
    expect(pair.waiting()).toBe('MQTT listener TLS: no good certificate from Secret mqtt/listener-tls yet');
    source.cut('TLS_SECRET_WATCH');
    expect(pair.waiting()).toMatch(/TLS_SECRET_WATCH/);
    source.push(fail([{ code: 'TLS_SECRET_MISSING', path: 'listener.tls.secret', message: 'no Secret mqtt/listener-tls' }]));
    expect(pair.waiting()).toMatch(/: listener\.tls\.secret: no Secret mqtt\/listener-tls \[TLS_SECRET_MISSING\]$/);
    source.push(ok({ cert: good.cert, key: good.key }));
    expect(pair.waiting()).toBeUndefined();
    expect(changes.map((m) => m.pair.serial)).toEqual([serial(good.cert)]);
    expect(pair.status()).toMatchObject({ serial: serial(good.cert), refused: [] });
  });

  it('refuses a bad update on its first read, counts it once, and keeps the last good certificate', async () => {
    source.push(ok({ cert: good.cert, key: good.key }));
    source.push(ok({ cert: good.cert, key: next.key }));
    expect(pair.status()?.refused.map((p) => [p.code, p.path])).toEqual([['TLS_KEY_MISMATCH', 'listener.tls.secret.key']]);
    expect(await refusedCount('TLS_KEY_MISMATCH')).toBe(1);
    // The same refused content seen again (a relist) is not a second refusal.
    source.push(ok({ cert: good.cert, key: next.key }));
    expect(await refusedCount('TLS_KEY_MISMATCH')).toBe(1);
    expect(pair.material()?.pair.serial).toBe(serial(good.cert));
    expect(pair.waiting()).toBeUndefined();
    const expired = issue('expired', -1);
    source.push(ok({ cert: expired.cert, key: expired.key }));
    expect(pair.status()?.refused.map((p) => p.code)).toEqual(['TLS_CERT_EXPIRED']);
    expect(await refusedCount('TLS_CERT_EXPIRED')).toBe(1);
    expect(changes).toHaveLength(1);
  });

  it('keeps the certificate through a deleted Secret and an unreachable API, and takes the next good one', async () => {
    source.push(ok({ cert: good.cert, key: good.key }));
    source.push(fail([{ code: 'TLS_SECRET_DELETED', path: 'listener.tls.secret', message: 'deleted' }]));
    expect(pair.status()).toMatchObject({ serial: serial(good.cert), refused: [{ code: 'TLS_SECRET_DELETED' }] });
    source.cut('TLS_SECRET_WATCH');
    expect(await refusedCount('TLS_SECRET_WATCH')).toBe(0);
    expect(pair.material()?.pair.serial).toBe(serial(good.cert));
    // Recreated with the same content: no change to publish, the refusal cleared.
    source.push(ok({ cert: good.cert, key: good.key }));
    expect(pair.status()?.refused).toEqual([]);
    expect(changes).toHaveLength(1);
    source.push(ok({ cert: next.cert, key: next.key, ca: ca.ca.cert }));
    expect(changes.map((m) => [m.pair.serial, m.ca])).toEqual([
      [serial(good.cert), undefined],
      [serial(next.cert), ca.ca.cert],
    ]);
  });

  it('names the CA setting when the client CA bundle is garbage', () => {
    source.push(ok({ cert: good.cert, key: good.key, ca: 'not a certificate' }));
    expect(pair.status()).toBeUndefined();
    expect(pair.waiting()).toMatch(/listener\.tls\.clientCaSecret: .*\[TLS_CERT_PARSE\]/);
  });

  it('cannot be loaded before the start: only files are read on demand', () => {
    expect(() => pair.load()).toThrow(/cannot be read on demand/);
  });
});

describe('WatchedPair with an issuer CA (listener.tls.issuerCaFile)', () => {
  const ours = new TestCa('issuer CA test: ours');
  const theirs = new TestCa('issuer CA test: another CA');
  const leaf = (from: TestCa, name: string) => from.issue(name, { commonName: 'mqtt.test', san: ['DNS:mqtt.test'] });

  it('serves only chains from that CA: another CA is refused by code, and the last good one stays', () => {
    const source = pushed();
    const pair = new WatchedPair({
      source,
      setting: 'listener.tls',
      what: 'MQTT listener TLS',
      metricPrefix: 'mqtt_xds_listener_tls',
      logger: silentLogger,
      issuerCa: ours.ca.cert,
    });
    pair.start();
    const good = leaf(ours, 'good');
    source.push(ok({ cert: good.cert, key: good.key }));
    expect(pair.status()).toMatchObject({ serial: new X509Certificate(good.cert).serialNumber, refused: [] });
    const foreign = leaf(theirs, 'foreign');
    source.push(ok({ cert: foreign.cert, key: foreign.key }));
    expect(pair.status()?.refused.map((p) => [p.code, p.path])).toEqual([['TLS_CHAIN_UNTRUSTED', 'listener.tls.secret']]);
    expect(pair.material()?.pair.serial).toBe(new X509Certificate(good.cert).serialNumber);
    pair.stop();
  });

  it('is not checked without one: the same foreign chain is served', () => {
    const source = pushed();
    const pair = new WatchedPair({ source, setting: 'listener.tls', what: 'MQTT listener TLS', metricPrefix: 'x', logger: silentLogger });
    pair.start();
    const foreign = leaf(theirs, 'foreign-2');
    source.push(ok({ cert: foreign.cert, key: foreign.key }));
    expect(pair.status()).toMatchObject({ serial: new X509Certificate(foreign.cert).serialNumber, refused: [] });
    pair.stop();
  });
});
