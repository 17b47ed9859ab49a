// An SNI tenant's certificate from a kubernetes.io/tls Secret, against a real kube-apiserver
// and a real Envoy: the control plane (the CLI) runs as a ServiceAccount bound only to the
// Role the Helm chart renders for `tenantTls.secretNames` (get, list, watch on those Secrets
// by resourceNames). The tenant's chain waits for its Secret, then presents it; an update
// rotates it over SDS with every client still connected; a bad update is refused with its
// code and a Warning Event while the last good certificate stays; a tenant naming a Secret
// outside the Role is refused with the reason, and the other tenant is untouched. Over SotW
// and Delta xDS.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { parseAllDocuments } from 'yaml';
import {
  connectClients,
  freePort,
  startBrokers,
  startEnvoy,
  stopBrokers,
  untilHealthy,
  waitFor,
  type ClientPool,
  type EnvoyHandle,
  type TestBroker,
} from '../support';
import { TestCa, type Pem } from '../support/certs';
import { spawnChild } from '../support/children';
import { serviceAccountKubeconfig, startKube, type KubeEnv } from '../support/kube';
import { CHART_DIR, packagingTool, run } from '../support/packaging';
import { REPO_ROOT } from '../support/repo-root';
import { kubeApi, serialOf, tlsSecrets } from '../support/tls-secrets';
import { writeBrokersFile } from './plane';

// client-node is an ES module that jest cannot load in process on Node 20: the CLI from dist/.
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const NS = 'tenant-secret';
const SECRET = 'acme-tls';
/** A Secret the Role does not name: a tenant pointing at it must be refused, not served. */
const FORBIDDEN = 'other-tls';
const ACME = 'mqtt.acme.test';
const BETA = 'mqtt.beta.test';

describe.each(['sotw', 'delta'] as const)(
  "an SNI tenant's certificate from a Kubernetes Secret (real kube-apiserver, real Envoy, %s)",
  (mode) => {
    const ca = new TestCa('mqtt-xds tenant Secret test CA');
    const listener = ca.issue('listener', { commonName: 'mqtt.test', san: ['DNS:mqtt.test'] });
    let issued = 0;
    const issue = (days = 7): Pem => ca.issue(`acme-${issued++}`, { commonName: ACME, san: [`DNS:${ACME}`], days });
    const brokersFile = path.join(ca.dir, 'brokers.yaml');
    const policyFile = path.join(ca.dir, 'policy.yaml');
    let kube: KubeEnv;
    let brokers: TestBroker[] = [];
    let proc: ChildProcess | undefined;
    let stderr = '';
    let adminPort: number;
    let mqttPort: number;
    let envoy: EnvoyHandle | undefined;
    let pool: ClientPool | undefined;

    const api = kubeApi(() => kube);
    const secrets = tlsSecrets(() => kube, NS);
    const createSecret = (name: string, p: Pick<Pem, 'cert' | 'key'>): Promise<unknown> => secrets.create(name, p);
    const updateSecret = (p: Pick<Pem, 'cert' | 'key'>): Promise<unknown> => secrets.update(SECRET, p);
    const status = async (): Promise<any> => (await fetch(`http://127.0.0.1:${adminPort}/status`)).json();
    /** The serial Envoy presents for this SNI, or the handshake's error. */
    const presented = (servername: string): Promise<string> =>
      new Promise((resolve) => {
        // Trusting the CA, not the name: which certificate comes back is what is asserted.
        const checkServerIdentity = (): undefined => undefined;
        const s = tls.connect({ host: '127.0.0.1', port: mqttPort, ca: ca.ca.cert, servername, checkServerIdentity }, () => {
          const serial = s.getPeerCertificate().serialNumber;
          s.destroy();
          resolve(serial);
        });
        s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
      });
    const untilPresented = (servername: string, serial: string, what: string): Promise<unknown> =>
      waitFor(async () => (await presented(servername)) === serial, { timeoutMs: 30_000, what: `${what} (stderr: ${stderr})` });
    /** The codes refused for a tenant, each with the setting its path starts with. */
    const refusedCodes = async (tenant: string): Promise<string[]> =>
      ((await status()).tenants?.[tenant]?.refused ?? []).map(
        (p: { code: string; path: string }) => `${p.code} ${p.path.replace(/^(tenants\.[^.]+\.[a-zA-Z]+).*$/, '$1')}`,
      );

    /** The Role the chart renders for tenantTls.secretNames, and the base Role's Event rules. */
    const chartRoles = async (): Promise<any[]> => {
      const r = await run(packagingTool('helm'), [
        'template',
        'mqtt-xds',
        CHART_DIR,
        '--namespace',
        NS,
        '-f',
        path.join(CHART_DIR, 'values-edge.yaml'),
        '--set',
        `tenantTls.secretNames={${SECRET}}`,
      ]);
      if (r.code !== 0) throw new Error(`helm template: ${r.stderr}`);
      const roles = parseAllDocuments(r.stdout)
        .map((d) => d.toJS())
        .filter((o) => o?.kind === 'Role');
      const tenantRole = roles.find((o) => o.metadata.name === 'mqtt-xds-tenant-tls');
      expect(tenantRole.rules).toEqual([
        { apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['get', 'list', 'watch'] },
      ]);
      const base = roles.find((o) => o.metadata.name === 'mqtt-xds');
      const events = {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'mqtt-xds-events' },
        rules: (base.rules as Array<{ resources: string[] }>).filter((x) => x.resources.includes('events')),
      };
      return [{ ...tenantRole, metadata: { name: tenantRole.metadata.name } }, events];
    };

    beforeAll(async () => {
      kube = await startKube();
      await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
      const sa = await serviceAccountKubeconfig(kube, { namespace: NS, name: 'mqtt-xds', roles: await chartRoles(), dir: ca.dir });
      // Good TLS material, but outside the Role: tenant beta names it and must never get it.
      await createSecret(FORBIDDEN, ca.issue('beta', { commonName: BETA, san: [`DNS:${BETA}`] }));
      brokers = await startBrokers(2);
      writeBrokersFile(
        brokersFile,
        brokers.map((broker) => ({ broker, weight: 1 })),
      );
      fs.writeFileSync(
        policyFile,
        'unknownServerName: default\ntenants:\n' +
          `  acme:\n    serverNames: [${ACME}]\n    secret: ${SECRET}\n    brokers: [${brokers[0].name}]\n` +
          `  beta:\n    serverNames: [${BETA}]\n    secret: ${NS}/${FORBIDDEN}\n    brokers: [${brokers[1].name}]\n`,
      );
      const xdsPort = await freePort();
      [adminPort, mqttPort] = [await freePort(), await freePort()];
      proc = spawnChild(
        process.execPath,
        [
          CLI,
          `--discovery-brokers-file=${brokersFile}`,
          '--balancing-mode=static',
          `--balancing-policy-file=${policyFile}`,
          `--discovery-kubernetes-kubeconfig=${sa.kubeconfig}`,
          `--discovery-kubernetes-namespace=${NS}`,
          `--listener-tls-cert-file=${listener.certFile}`,
          `--listener-tls-key-file=${listener.keyFile}`,
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
      proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
      await waitFor(async () => (await status().catch(() => undefined)) !== undefined, {
        timeoutMs: 30_000,
        what: `the admin port (stderr: ${stderr})`,
      });
      envoy = await startEnvoy({ mode, xdsPort, waitReady: 'live' });
      await untilHealthy(envoy, 2, 'two healthy brokers');
    });

    afterAll(async () => {
      await pool?.endAll();
      await envoy?.stop();
      if (proc && proc.exitCode === null) {
        const exited = new Promise((res) => proc!.once('exit', res));
        proc.kill('SIGTERM');
        await exited;
      }
      await stopBrokers(brokers);
      await kube?.stop();
    });

    it('serves no tenant chain while its Secret does not exist, and says why', async () => {
      await waitFor(async () => (await refusedCodes('acme')).includes('TLS_SECRET_MISSING tenants.acme.secret'), {
        timeoutMs: 20_000,
        what: `TLS_SECRET_MISSING for acme in /status (stderr: ${stderr})`,
      });
      // No chain of its own yet: the name falls to the default chain and the listener's certificate.
      expect(await presented(ACME)).toBe(serialOf(listener));
    });

    it('refuses a tenant whose Secret the Role does not name, with the reason, and serves it nothing', async () => {
      await waitFor(async () => (await refusedCodes('beta')).includes('TLS_SECRET_WATCH tenants.beta.secret'), {
        timeoutMs: 20_000,
        what: `TLS_SECRET_WATCH for beta in /status (stderr: ${stderr})`,
      });
      const why = (await status()).tenants.beta.refused[0].message as string;
      expect(why).toContain(`resourceNames [${FORBIDDEN}]`);
      expect(await presented(BETA)).toBe(serialOf(listener));
    });

    it("takes the Secret once it is created: the tenant's SNI gets its certificate, and its clients its pool", async () => {
      const first = issue();
      await createSecret(SECRET, first);
      await untilPresented(ACME, serialOf(first), "acme's certificate from its Secret");
      expect((await status()).tenants.acme).toMatchObject({ certificate: { serial: serialOf(first) }, refused: [] });
      const before = brokers.map((b) => b.clientCount());
      pool = await connectClients({
        host: '127.0.0.1',
        port: mqttPort,
        count: 20,
        prefix: 'acme',
        tls: { ca: ca.ca.cert, servername: ACME },
      });
      await waitFor(() => brokers[0].clientCount() - before[0] === 20, { timeoutMs: 5000, what: "acme's 20 clients on acme's broker" });
      expect(brokers[1].clientCount()).toBe(before[1]);
    });

    it('rotates on each Secret update over SDS: new handshakes get it, connected clients stay, the Listener is untouched', async () => {
      const version = (await envoy!.configDumpVersions()).listeners.mqtt;
      for (let round = 0; round < 2; round++) {
        const next = issue();
        await updateSecret(next);
        await untilPresented(ACME, serialOf(next), `rotation ${round + 1}`);
      }
      expect((await envoy!.configDumpVersions()).listeners.mqtt).toBe(version);
      expect(pool!.closed()).toBe(0);
    });

    it('refuses a bad update with its code and a Warning Event on the Secret, and keeps the last good certificate', async () => {
      const good = (await status()).tenants.acme.certificate.serial as string;
      await updateSecret({ cert: issue().cert, key: issue().key });
      await waitFor(async () => (await refusedCodes('acme')).includes('TLS_KEY_MISMATCH tenants.acme.secret'), {
        timeoutMs: 20_000,
        what: `TLS_KEY_MISMATCH for acme in /status (stderr: ${stderr})`,
      });
      expect(await presented(ACME)).toBe(good);
      expect(pool!.closed()).toBe(0);
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      expect(metrics).toMatch(/^mqtt_xds_tenant_tls_refused_total\{tenant="acme",code="TLS_KEY_MISMATCH"\} 1$/m);
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
              e.message.includes('TLS_KEY_MISMATCH'),
          );
        },
        { timeoutMs: 10_000, what: `a Warning Event InvalidCertificate on Secret ${SECRET}` },
      );
      const repaired = issue();
      await updateSecret(repaired);
      await untilPresented(ACME, serialOf(repaired), 'the repaired certificate');
      expect(await refusedCodes('acme')).toEqual([]);
    });
  },
);
