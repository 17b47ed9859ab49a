import { Counter, Registry } from 'prom-client';
import { AdminServer, type Readiness } from '../../../src/admin';
import { silentLogger } from '../../../src/util/log';

describe('AdminServer', () => {
  let server: AdminServer;
  let base: string;
  let readiness: Readiness = { ready: false, reason: 'waiting for the first complete snapshot' };
  const registry = new Registry();
  new Counter({ name: 'mqtt_xds_example_total', help: 'example', registers: [registry] }).inc(3);

  beforeAll(async () => {
    server = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      logger: silentLogger,
      readiness: () => readiness,
      status: () => ({ hello: 'world' }),
    });
    base = `http://127.0.0.1:${await server.start()}`;
  });
  afterAll(() => server.stop());

  it('answers /healthz while alive', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
  });

  it('is not ready before the first snapshot, and says why', async () => {
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/not ready: waiting for the first complete snapshot/);
  });

  it('is ready once readiness says so', async () => {
    readiness = { ready: true, reason: 'serving snapshot abc' };
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/ready: serving snapshot abc/);
  });

  it('serves Prometheus metrics and JSON status', async () => {
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await metrics.text()).toMatch(/mqtt_xds_example_total 3/);
    const status = await fetch(`${base}/status`);
    expect(await status.json()).toEqual({ hello: 'world' });
  });

  it('rejects other methods and unknown paths clearly', async () => {
    expect((await fetch(`${base}/readyz`, { method: 'POST' })).status).toBe(405);
    const nf = await fetch(`${base}/nope`);
    expect(nf.status).toBe(404);
    expect(await nf.text()).toMatch(/try \/healthz/);
  });
});
