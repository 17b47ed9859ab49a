import { X509Certificate } from 'node:crypto';
import { Registry } from 'prom-client';
import type { TenantPolicy } from '../../../src/config/policy';
import { TenantCertificates, type PemSink, type PemSource, type TenantSecrets } from '../../../src/tls';
import { silentLogger } from '../../../src/util/log';
import { fail, ok } from '../../../src/util/result';
import { TestCa } from '../../support/certs';

describe("TenantCertificates: a tenant's certificate from a Secret", () => {
  const ca = new TestCa('tenant certificates test CA');
  const issue = (name: string) => ca.issue(name, { commonName: 'mqtt.acme.test', san: ['DNS:mqtt.acme.test'] });
  const serial = (cert: string) => new X509Certificate(cert).serialNumber;
  const first = issue('acme-1');
  const second = issue('acme-2');
  const fromSecret: TenantPolicy = { serverNames: ['mqtt.acme.test'], secret: 'acme-tls' };

  /** Sources the Secret watch would make, one per tenant, pushed by the test. */
  const watches = new Map<string, { secrets: TenantSecrets; sink?: PemSink; stopped: boolean }>();
  const secretSource = (tenant: string, secrets: TenantSecrets): PemSource => {
    const w: { secrets: TenantSecrets; sink?: PemSink; stopped: boolean } = { secrets, stopped: false };
    watches.set(tenant, w);
    return {
      noun: `Secret mqtt/${secrets.secret}`,
      paths: { cert: `tenants.${tenant}.secret`, ca: `tenants.${tenant}.clientCaSecret` },
      piecewise: false,
      start: (s) => (w.sink = s),
      stop: () => (w.stopped = true),
    };
  };
  let changes: number;
  let certs: TenantCertificates;

  beforeEach(() => {
    watches.clear();
    changes = 0;
    certs = new TenantCertificates({ logger: silentLogger, secretSource, onChange: () => changes++ });
  });
  afterEach(() => certs.stop());

  it('serves no chain until the Secret is good, saying why, then takes it and each good update', () => {
    certs.sync({ acme: { ...fromSecret, clientCaSecret: 'acme-ca' } });
    certs.start();
    const w = watches.get('acme')!;
    expect(w.secrets).toEqual({ secret: 'acme-tls', clientCaSecret: 'acme-ca' });
    w.sink!.offer(fail([{ code: 'TLS_SECRET_MISSING', path: 'tenants.acme.secret', message: 'no Secret mqtt/acme-tls' }]));
    expect(certs.material('acme')).toBeUndefined();
    expect(certs.status().acme.refused.map((p) => p.code)).toEqual(['TLS_SECRET_MISSING']);

    w.sink!.offer(ok({ cert: first.cert, key: first.key }));
    expect(certs.material('acme')?.pair.serial).toBe(serial(first.cert));
    expect(certs.status().acme).toMatchObject({ certificate: { serial: serial(first.cert) }, refused: [] });
    w.sink!.offer(ok({ cert: second.cert, key: second.key }));
    expect(certs.material('acme')?.pair.serial).toBe(serial(second.cert));
    expect(changes).toBe(2);
  });

  it("refuses a tenant's chain from a CA other than the issuer CA, and keeps the last good one", () => {
    certs = new TenantCertificates({ logger: silentLogger, secretSource, onChange: () => changes++, issuerCa: ca.ca.cert });
    certs.sync({ acme: fromSecret });
    certs.start();
    const w = watches.get('acme')!;
    w.sink!.offer(ok({ cert: first.cert, key: first.key }));
    const other = new TestCa('tenant certificates: another CA').issue('acme-x', {
      commonName: 'mqtt.acme.test',
      san: ['DNS:mqtt.acme.test'],
    });
    w.sink!.offer(ok({ cert: other.cert, key: other.key }));
    expect(certs.status().acme.refused.map((p) => [p.code, p.path])).toEqual([['TLS_CHAIN_UNTRUSTED', 'tenants.acme.secret']]);
    expect(certs.material('acme')?.pair.serial).toBe(serial(first.cert));
  });

  it('keeps the last good certificate when an update is refused, and counts the refusal once by tenant and code', async () => {
    const registry = new Registry();
    certs = new TenantCertificates({ logger: silentLogger, registry, secretSource, onChange: () => changes++ });
    certs.sync({ acme: fromSecret });
    certs.start();
    const w = watches.get('acme')!;
    w.sink!.offer(ok({ cert: first.cert, key: first.key }));
    w.sink!.offer(ok({ cert: first.cert, key: second.key }));
    expect(certs.material('acme')?.pair.serial).toBe(serial(first.cert));
    expect(certs.status().acme.refused.map((p) => p.code)).toEqual(['TLS_KEY_MISMATCH']);
    expect(changes).toBe(1);
    // The watch listing again offers the same refused content: not counted twice.
    w.sink!.offer(ok({ cert: first.cert, key: second.key }));
    const text = await registry.getSingleMetricAsString('mqtt_xds_tenant_tls_refused_total');
    expect(text).toMatch(/^mqtt_xds_tenant_tls_refused_total\{tenant="acme",code="TLS_KEY_MISMATCH"\} 1$/m);
  });

  it('stops the watch when the tenant moves to another Secret, and watches the new one', () => {
    certs.sync({ acme: fromSecret });
    certs.start();
    const old = watches.get('acme')!;
    certs.sync({ acme: { ...fromSecret, secret: 'acme-tls-v2' } });
    expect(old.stopped).toBe(true);
    expect(watches.get('acme')!.secrets.secret).toBe('acme-tls-v2');
    expect(watches.get('acme')!.sink).toBeDefined();
  });

  it('refuses a tenant naming a Secret when there is no Kubernetes access', () => {
    const without = new TenantCertificates({ logger: silentLogger, onChange: () => undefined });
    without.sync({ acme: fromSecret });
    expect(without.material('acme')).toBeUndefined();
    expect(without.status().acme.refused).toEqual([expect.objectContaining({ code: 'TLS_SECRET_WATCH', path: 'tenants.acme.secret' })]);
  });
});
