// The MQTT listener's certificate from a kubernetes.io/tls Secret, against a real
// kube-apiserver and a real Envoy: the control plane runs as a ServiceAccount bound only to
// the Role of deploy/components/listener-tls-secret (get, list, watch on that one Secret by
// resourceNames), waits for the Secret, serves it over SDS, rotates on every update
// without dropping a client, refuses bad updates while the last good certificate stays,
// survives the Secret's deletion and an API server restart, and can read no other Secret.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { parseAllDocuments } from 'yaml';
import {
  connectClients,
  freePort,
  startBrokers,
  startEnvoy,
  stopBrokers,
  tryConnectClients,
  untilHealthy,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type TestBroker,
} from '../support';
import { TestCa, type Pem } from '../support/certs';
import { spawnChild } from '../support/children';
import { serviceAccountKubeconfig, startKube, type KubeEnv } from '../support/kube';
import { REPO_ROOT } from '../support/repo-root';
import { b64, kubeApi, serialOf, tlsSecrets } from '../support/tls-secrets';
import { writeBrokersFile } from './plane';

// client-node is an ES module that jest cannot load in process on Node 20, so the
// control plane runs as the CLI (dist/, `npm run build`), as in kubernetes.test.ts.
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const NS = 'tls-secret';
const SECRET = 'mqtt-listener-tls';
const SERVER_NAME = 'mqtt.test';

interface Plane {
  proc: ChildProcess;
  xdsPort: number;
  adminPort: number;
  mqttPort: number;
  stderr: () => string;
}

describe('the MQTT listener certificate from a Kubernetes Secret (real kube-apiserver, real Envoy)', () => {
  const ca = new TestCa('mqtt-xds listener Secret test CA');
  const brokersFile = path.join(ca.dir, 'brokers.yaml');
  let kube: KubeEnv;
  let serviceAccount: { kubeconfig: string; token: string };
  let brokers: TestBroker[] = [];
  let plane: Plane;
  let envoy: EnvoyHandle | undefined;
  let pool: ClientPool | undefined;
  const others: Plane[] = [];
  const otherEnvoys: EnvoyHandle[] = [];
  let issued = 0;

  const api = kubeApi(() => kube);
  const secrets = tlsSecrets(() => kube, NS);
  /** A request as the control plane's ServiceAccount: the HTTP status only. */
  const asServiceAccount = (method: string, p: string, body?: unknown): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        `${kube.server}${p}`,
        {
          method,
          ca: fs.readFileSync(kube.caFile),
          headers: { Authorization: `Bearer ${serviceAccount.token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  const issue = (days = 7): Pem => ca.issue(`listener-${issued++}`, { commonName: SERVER_NAME, san: [`DNS:${SERVER_NAME}`], days });
  const createSecret = (p: Pick<Pem, 'cert' | 'key'>, type?: string): Promise<unknown> => secrets.create(SECRET, p, type);
  const updateSecret = (p: Pick<Pem, 'cert' | 'key'>): Promise<unknown> => secrets.update(SECRET, p);
  const deleteSecret = (): Promise<unknown> => secrets.remove(SECRET);
  const status = async (r: Plane = plane): Promise<any> => (await fetch(`http://127.0.0.1:${r.adminPort}/status`)).json();
  const readyz = async (r: Plane = plane): Promise<{ status: number; text: string }> => {
    const res = await fetch(`http://127.0.0.1:${r.adminPort}/readyz`);
    return { status: res.status, text: await res.text() };
  };
  const refusedTotal = async (code: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${plane.adminPort}/metrics`)).text();
    return Number(new RegExp(`^mqtt_xds_listener_tls_refused_total\\{code="${code}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  /** One fresh TLS handshake with Envoy: the serial it presented. */
  const handshake = (port = plane.mqttPort): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: ca.ca.cert, servername: SERVER_NAME }, () => {
        const serial = s.getPeerCertificate().serialNumber;
        s.destroy();
        resolve(serial);
      });
      s.on('error', reject);
    });
  const untilServed = (serial: string, what: string, timeoutMs = 30_000): Promise<unknown> =>
    waitFor(async () => (await handshake().catch(() => '')) === serial, { timeoutMs, what });
  const untilRefused = (code: string, at = 'listener.tls.secret', r: Plane = plane): Promise<unknown> =>
    waitFor(
      async () =>
        ((await status(r)).listenerTls?.refused ?? []).some(
          (p: { code: string; path: string }) => p.code === code && p.path.startsWith(at),
        ),
      { timeoutMs: 20_000, what: `the refusal ${code} at ${at} in /status (stderr: ${r.stderr()})` },
    );

  /** The CLI, its brokers from the file, its listener certificate from the Secret. */
  const startPlane = async (kubeconfig: string, extra: string[] = []): Promise<Plane> => {
    const [xdsPort, adminPort, mqttPort] = [await freePort(), await freePort(), await freePort()];
    let err = '';
    const proc = spawnChild(
      process.execPath,
      [
        CLI,
        `--discovery-brokers-file=${brokersFile}`,
        '--balancing-mode=static',
        `--discovery-kubernetes-kubeconfig=${kubeconfig}`,
        `--discovery-kubernetes-namespace=${NS}`,
        `--listener-tls-secret=${SECRET}`,
        ...extra,
        '--listener-address=127.0.0.1',
        `--listener-port=${mqttPort}`,
        `--xds-port=${xdsPort}`,
        `--admin-port=${adminPort}`,
        '--push-debounce-ms=20',
        '--cluster-health-check-interval-ms=1000',
        '--cluster-health-check-timeout-ms=500',
        '--cluster-health-check-unhealthy-threshold=2',
        '--cluster-health-check-healthy-threshold=1',
        '--log-level=info',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
    const r: Plane = { proc, xdsPort, adminPort, mqttPort, stderr: () => err };
    await waitFor(async () => (await readyz(r).catch(() => undefined)) !== undefined, {
      timeoutMs: 30_000,
      what: `the admin port (stderr: ${err})`,
    });
    return r;
  };
  const stopPlane = async (r: Plane | undefined): Promise<void> => {
    if (!r || r.proc.exitCode !== null) return;
    const exited = new Promise((res) => r.proc.once('exit', res));
    r.proc.kill('SIGTERM');
    await exited;
  };

  /** A ServiceAccount bound to the Role the component ships, and a kubeconfig that authenticates as it. */
  const shippedServiceAccount = async (name: string): Promise<{ kubeconfig: string; token: string }> => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'components', 'listener-tls-secret', 'rbac.yaml'), 'utf8');
    const role = parseAllDocuments(text)
      .map((d) => d.toJS())
      .find((o) => o.kind === 'Role');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['get', 'list', 'watch'] }]);
    // The base Role (deploy/base/rbac.yaml), bound to the same ServiceAccount in a deployment,
    // grants the Events a refused certificate raises: only its Event rules are bound here.
    const base = parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'base', 'rbac.yaml'), 'utf8'))
      .map((d) => d.toJS())
      .find((o) => o.kind === 'Role');
    const eventRules = (base.rules as Array<{ resources: string[] }>).filter((r) => r.resources.includes('events'));
    expect(eventRules.length).toBeGreaterThan(0);
    const events = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: `${name}-events` }, rules: eventRules };
    return serviceAccountKubeconfig(kube, { namespace: NS, name, roles: [role, events], dir: ca.dir });
  };

  beforeAll(async () => {
    kube = await startKube();
    await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    serviceAccount = await shippedServiceAccount('mqtt-xds');
    // Another Secret in the same namespace, which the control plane must never be able to read.
    await api('POST', `/api/v1/namespaces/${NS}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'broker-credentials' },
      type: 'Opaque',
      data: { password: b64('hunter2') },
    });
    brokers = await startBrokers(2);
    writeBrokersFile(
      brokersFile,
      brokers.map((broker) => ({ broker, weight: 1 })),
    );
    plane = await startPlane(serviceAccount.kubeconfig);
  });

  afterAll(async () => {
    await pool?.endAll();
    for (const e of [envoy, ...otherEnvoys]) await e?.stop();
    for (const r of [plane, ...others]) await stopPlane(r);
    await stopBrokers(brokers);
    await kube?.stop();
  });

  it('is not ready and publishes nothing while the Secret does not exist, and says why', async () => {
    await waitFor(async () => (await readyz()).text.includes('TLS_SECRET_MISSING'), {
      timeoutMs: 20_000,
      what: `TLS_SECRET_MISSING in /readyz (stderr: ${plane.stderr()})`,
    });
    const r = await readyz();
    expect(r.status).toBe(503);
    expect(r.text).toContain(`no Secret ${NS}/${SECRET}`);
    // Publishing anything now would give the Envoys a plaintext MQTT listener.
    expect((await status()).snapshot).toBeUndefined();
  });

  it('takes the Secret once it is created: ready, and Envoy presents its certificate, delivered over SDS', async () => {
    const first = issue();
    await createSecret(first);
    await waitFor(async () => (await readyz()).status === 200, { timeoutMs: 20_000, what: 'ready once the Secret is good' });
    expect((await status()).listenerTls).toMatchObject({ serial: serialOf(first), refused: [] });
    envoy = await startEnvoy({ mode: 'sotw', xdsPort: plane.xdsPort, waitReady: 'live' });
    await untilHealthy(envoy, 2, 'two healthy brokers');
    await untilServed(serialOf(first), 'the first certificate in handshakes');
  });

  it('rotates on each Secret update: new handshakes get it, connected clients stay, the Listener is untouched', async () => {
    pool = await connectClients({
      host: '127.0.0.1',
      port: plane.mqttPort,
      count: 50,
      prefix: 'secret',
      tls: { ca: ca.ca.cert, servername: SERVER_NAME },
    });
    const before = (await envoy!.configDumpVersions()).listeners.mqtt;
    for (let round = 0; round < 2; round++) {
      const next = issue();
      await updateSecret(next);
      await untilServed(serialOf(next), `rotation ${round + 1} in handshakes`);
      expect((await status()).listenerTls.serial).toBe(serialOf(next));
    }
    expect((await envoy!.configDumpVersions()).listeners.mqtt).toBe(before);
    expect(pool.closed()).toBe(0);
  });

  it.each([
    ['a key that does not belong to the certificate', () => ({ cert: issue().cert, key: issue().key }), 'TLS_KEY_MISMATCH'],
    ['an expired certificate', () => issue(-1), 'TLS_CERT_EXPIRED'],
    [
      'garbage PEM',
      () => ({ cert: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n', key: issue().key }),
      'TLS_CERT_PARSE',
    ],
  ])('refuses an update with %s at once, with its code, and keeps serving the last good certificate', async (_what, bad, code) => {
    const good = (await status()).listenerTls.serial;
    const counted = await refusedTotal(code);
    await updateSecret(bad());
    await untilRefused(code);
    // One update is one refusal: a Secret changes as a whole, there is no half-written state to wait out.
    expect(await refusedTotal(code)).toBe(counted + 1);
    expect(await handshake()).toBe(good);
    expect((await readyz()).status).toBe(200);
    expect(pool!.closed()).toBe(0);
    // Where the operator made the change, `kubectl describe secret` shows why it was refused.
    await waitFor(
      async () => {
        const events = (await api('GET', `/api/v1/namespaces/${NS}/events`)) as {
          items: Array<{ reason: string; type: string; message: string; involvedObject: { kind: string; name: string } }>;
        };
        return events.items.some(
          (e) =>
            e.reason === 'InvalidCertificate' &&
            e.type === 'Warning' &&
            e.involvedObject.kind === 'Secret' &&
            e.involvedObject.name === SECRET &&
            e.message.includes(code),
        );
      },
      {
        timeoutMs: 10_000,
        what: `a Warning Event InvalidCertificate naming ${code} on Secret ${SECRET} (stderr: ${plane
          .stderr()
          .split('\n')
          .filter((l) => /Event/.test(l))
          .join(' | ')})`,
      },
    );
    const repaired = issue();
    await updateSecret(repaired);
    await untilServed(serialOf(repaired), 'the repaired certificate in handshakes');
    expect((await status()).listenerTls.refused).toEqual([]);
  });

  it('keeps the last good certificate while the Secret is deleted or of the wrong type, and takes it back once recreated', async () => {
    const good = (await status()).listenerTls.serial;
    await deleteSecret();
    await untilRefused('TLS_SECRET_DELETED');
    expect(await handshake()).toBe(good);
    expect((await readyz()).status).toBe(200);
    // The API server requires tls.crt and tls.key in a kubernetes.io/tls Secret; an Opaque one can hold them too, and is refused.
    await createSecret(issue(), 'Opaque');
    await untilRefused('TLS_SECRET_TYPE');
    expect(await handshake()).toBe(good);
    await deleteSecret();
    const recreated = issue();
    await createSecret(recreated);
    await untilServed(serialOf(recreated), 'the recreated Secret in handshakes');
    expect((await status()).listenerTls.refused).toEqual([]);
    expect(pool!.closed()).toBe(0);
  });

  it('re-establishes the watch after the API server restarts, and takes the next update', async () => {
    const good = (await status()).listenerTls.serial;
    await kube.stopApiServer();
    try {
      // The certificate in force does not depend on the API server being up.
      expect(await handshake()).toBe(good);
      expect((await readyz()).status).toBe(200);
    } finally {
      await kube.startApiServer();
    }
    const next = issue();
    await updateSecret(next);
    // The watch retries with backoff (from 0.5 s, doubling, at most 30 s).
    await untilServed(serialOf(next), 'the update after the restart in handshakes', 60_000);
    expect(pool!.closed()).toBe(0);
  });

  it('as the Role with resourceNames: reads its own Secret and no other Secret of the namespace', async () => {
    const secrets = `/api/v1/namespaces/${NS}/secrets`;
    expect(await asServiceAccount('GET', `${secrets}/${SECRET}`)).toBe(200);
    expect(await asServiceAccount('GET', `${secrets}?fieldSelector=metadata.name%3D${SECRET}`)).toBe(200);
    expect(await asServiceAccount('GET', `${secrets}/broker-credentials`)).toBe(403);
    expect(await asServiceAccount('GET', secrets)).toBe(403);
    expect(await asServiceAccount('GET', `${secrets}?fieldSelector=metadata.name%3Dbroker-credentials`)).toBe(403);
    expect(await asServiceAccount('GET', `${secrets}?watch=true&fieldSelector=metadata.name%3Dbroker-credentials`)).toBe(403);
    expect(await asServiceAccount('PATCH', `${secrets}/${SECRET}`, { data: {} })).toBe(403);

    // A control plane pointed at the other Secret waits, not ready, and says what the Role lacks.
    const wrong = await startPlane(serviceAccount.kubeconfig, ['--listener-tls-secret=broker-credentials']);
    others.push(wrong);
    await waitFor(async () => (await readyz(wrong)).text.includes('TLS_SECRET_WATCH'), {
      timeoutMs: 20_000,
      what: `the forbidden watch in /readyz (stderr: ${wrong.stderr()})`,
    });
    const r = await readyz(wrong);
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/\(403\): the Role needs get, list and watch on secrets with resourceNames \[broker-credentials\]/);
    expect((await status(wrong)).snapshot).toBeUndefined();
  });

  it('mTLS: the client CA from ca.crt of a second Secret, rotated by updating that Secret (Delta xDS)', async () => {
    const putCa = async (bundle: string): Promise<void> => {
      const existing = await kube.request('GET', `/api/v1/namespaces/${NS}/secrets/device-ca`);
      const data = { 'ca.crt': b64(bundle) };
      if (existing.status === 404)
        await api('POST', `/api/v1/namespaces/${NS}/secrets`, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'device-ca' },
          type: 'Opaque',
          data,
        });
      else await api('PATCH', `/api/v1/namespaces/${NS}/secrets/device-ca`, { data }, 'application/merge-patch+json');
    };
    const oldCa = new TestCa('device CA 1');
    const newCa = new TestCa('device CA 2');
    const device = (from: TestCa, name: string) => from.issue(name, { commonName: name, san: [`URI:urn:device:${name}`], usage: 'client' });
    await putCa(oldCa.ca.cert);
    // The shipped Role names one Secret; the CA Secret needs its name added (rbac.yaml says so), here the admin reads both.
    const mtls = await startPlane(kube.kubeconfigPath, ['--listener-tls-client-ca-secret=device-ca']);
    others.push(mtls);
    await waitFor(async () => (await readyz(mtls)).status === 200, {
      timeoutMs: 20_000,
      what: `the mTLS plane ready (stderr: ${mtls.stderr()})`,
    });
    const edge = await startEnvoy({ mode: 'delta', xdsPort: mtls.xdsPort, nodeId: 'envoy-mtls', waitReady: 'live' });
    otherEnvoys.push(edge);
    await untilHealthy(edge, 2, 'two healthy brokers behind the mTLS Envoy');
    const attempt = async (cert?: Pem): Promise<number> => {
      const a = await tryConnectClients({
        host: '127.0.0.1',
        port: mtls.mqttPort,
        count: 1,
        prefix: 'device',
        connectTimeoutMs: 5000,
        tls: { ca: ca.ca.cert, servername: SERVER_NAME, ...(cert ? { cert: cert.cert, key: cert.key } : {}) },
      });
      await a.pool.endAll();
      return a.refused;
    };
    const oldDevice = device(oldCa, 'sensor-1');
    const newDevice = device(newCa, 'sensor-2');
    await waitFor(async () => (await attempt(oldDevice)) === 0, { timeoutMs: 20_000, what: 'a device of the first CA let in' });
    expect([await attempt(), await attempt(newDevice)]).toEqual([1, 1]);
    await putCa(newCa.ca.cert);
    await waitFor(async () => (await attempt(newDevice)) === 0, { timeoutMs: 20_000, what: 'a device of the rotated CA let in' });
    expect(await attempt(oldDevice)).toBe(1);
    await putCa('not a CA bundle');
    await untilRefused('TLS_CERT_PARSE', 'listener.tls.clientCaSecret', mtls);
    expect(await attempt(newDevice)).toBe(0);
  });
});
