import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/util/log';
import { nodeIdentityProblem } from '../../../src/xds/node-identity';
import { XdsTlsSource } from '../../../src/xds/tls-credentials';
import { TestCa } from '../../support/certs';

/** Opens a TLS connection as an Envoy would (ALPN h2) and reports the server's serial. */
function handshake(port: number, opts: { ca: string; cert?: string; key?: string }): Promise<{ serial: string; socket: tls.TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ALPNProtocols: ['h2'],
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
    });
    socket.once('secureConnect', () => {
      // TLS 1.3 reports a refused client certificate after the handshake: wait a moment for it.
      const t = setTimeout(() => resolve({ serial: socket.getPeerCertificate().serialNumber, socket }), 100);
      socket.once('error', (e: Error) => {
        clearTimeout(t);
        reject(e);
      });
      socket.once('close', () => {
        clearTimeout(t);
        reject(new Error('closed by the server'));
      });
    });
    socket.once('error', reject);
  });
}

describe('xDS TLS credentials', () => {
  const ca = new TestCa();
  const dir = ca.dir;
  const certFile = path.join(dir, 'live.crt');
  const keyFile = path.join(dir, 'live.key');
  const clientCaFile = path.join(dir, 'clients.crt');
  let server: grpc.Server;
  let source: XdsTlsSource;
  let registry: Registry;
  let port: number;

  const install = (name: string, o: Parameters<TestCa['issue']>[1]) => {
    const p = ca.issue(name, o);
    fs.writeFileSync(certFile, p.cert);
    fs.writeFileSync(keyFile, p.key);
    return p;
  };

  beforeEach(async () => {
    install('first', { commonName: 'mqtt-xds', san: ['DNS:localhost'] });
    fs.writeFileSync(clientCaFile, ca.ca.cert);
    registry = new Registry();
    source = new XdsTlsSource({ files: { certFile, keyFile, clientCaFile }, logger: silentLogger, registry });
    const creds = source.load();
    if (!creds.ok) throw new Error(JSON.stringify(creds.problems));
    server = new grpc.Server();
    port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', creds.value, (e, p) => (e ? reject(e) : resolve(p))));
    await source.delivered();
  });

  afterEach(() => {
    source.stop();
    server.forceShutdown();
  });

  const client = () => ca.issue(`client-${Math.random()}`, { commonName: 'envoy-1', san: ['URI:spiffe://mqtt/envoy-1'], usage: 'client' });

  it('requires a client certificate signed by the client CA (mTLS)', async () => {
    const c = client();
    const ok = await handshake(port, { ca: ca.ca.cert, cert: c.cert, key: c.key });
    ok.socket.destroy();
    await expect(handshake(port, { ca: ca.ca.cert })).rejects.toThrow();
    const stranger = new TestCa('stranger CA').issue('s', { commonName: 'envoy-x', usage: 'client' });
    await expect(handshake(port, { ca: ca.ca.cert, cert: stranger.cert, key: stranger.key })).rejects.toThrow();
  });

  it('rotates: new handshakes get the new certificate, an established connection stays up', async () => {
    const c = client();
    const before = await handshake(port, { ca: ca.ca.cert, cert: c.cert, key: c.key });
    const next = install('second', { commonName: 'mqtt-xds', san: ['DNS:localhost'] });
    source.refresh();
    const after = await handshake(port, { ca: ca.ca.cert, cert: c.cert, key: c.key });
    expect(after.serial).not.toBe(before.serial);
    expect(after.serial).toBe(new X509Certificate(next.cert).serialNumber);
    expect(before.socket.destroyed).toBe(false);
    before.socket.destroy();
    after.socket.destroy();
  });

  it('refuses a bad rotation, counts it, and keeps serving the last good certificate', async () => {
    const c = client();
    const first = await handshake(port, { ca: ca.ca.cert, cert: c.cert, key: c.key });
    first.socket.destroy();
    install('expired', { commonName: 'mqtt-xds', days: -1 });
    source.refresh();
    source.refresh();
    expect(source.status()?.refused.map((p) => p.code)).toEqual(['TLS_CERT_EXPIRED']);
    expect(await registry.getSingleMetricAsString('mqtt_xds_xds_tls_refused_total')).toMatch(/code="TLS_CERT_EXPIRED"} 1/);
    const again = await handshake(port, { ca: ca.ca.cert, cert: c.cert, key: c.key });
    expect(again.serial).toBe(first.serial);
    again.socket.destroy();
  });

  it('does not count a rotation caught between writing the certificate and the key', () => {
    const p = ca.issue('half', { commonName: 'mqtt-xds' });
    fs.writeFileSync(certFile, p.cert);
    source.refresh();
    fs.writeFileSync(keyFile, p.key);
    source.refresh();
    expect(source.status()?.refused).toEqual([]);
    expect(source.status()?.serial).toBe(new X509Certificate(p.cert).serialNumber);
  });

  it('exports the expiry', async () => {
    expect(await registry.getSingleMetricAsString('mqtt_xds_xds_tls_certificate_expiry_timestamp_seconds')).toMatch(/ \d{10}(\.\d+)?$/m);
  });

  it('does not start without a good pair', () => {
    const s = new XdsTlsSource({ files: { certFile: path.join(dir, 'missing.crt'), keyFile }, logger: silentLogger });
    expect(s.load()).toMatchObject({ ok: false, problems: [{ code: 'TLS_FILE_UNREADABLE', path: 'xds.tls.certFile' }] });
  });
});

describe('node identity binding', () => {
  const node = { id: 'envoy-1', cluster: 'edge' };
  it('accepts a SAN that names the node id (DNS, URI, or a URI path segment)', () => {
    expect(nodeIdentityProblem('node-id', node, 'DNS:envoy-1')).toBeUndefined();
    expect(nodeIdentityProblem('node-id', node, 'URI:spiffe://mqtt/ns/edge/envoy-1')).toBeUndefined();
    expect(nodeIdentityProblem('node-cluster', node, 'DNS:other, DNS:edge')).toBeUndefined();
    expect(nodeIdentityProblem('off', node, undefined)).toBeUndefined();
  });
  it('refuses a claim the certificate does not name', () => {
    expect(nodeIdentityProblem('node-id', node, 'DNS:envoy-2')).toMatch(/not named/);
    expect(nodeIdentityProblem('node-id', node, 'URI:spiffe://mqtt/envoy-10')).toMatch(/not named/);
    expect(nodeIdentityProblem('node-id', node, undefined)).toMatch(/none was presented/);
  });
});
