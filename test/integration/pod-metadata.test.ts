// The drain annotation's pod watch asks the API server for metadata only: checked against
// a real kube-apiserver, a pod's env values never arrive, neither in the list nor in a
// watch event, while names and annotations do.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startKube, type KubeEnv } from '../support/kube';
import { REPO_ROOT } from '../support/repo-root';

// @kubernetes/client-node is an ES module that jest cannot load in-process; the built
// module runs in its own Node process, as in the control plane.
const MODULE = path.join(REPO_ROOT, 'dist', 'src', 'discovery', 'kubernetes', 'pod-metadata.js');
const CLIENT = path.join(REPO_ROOT, 'dist', 'src', 'discovery', 'kubernetes', 'client.js');

function node(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

const SECRET_VALUE = 'do-not-read-me-7d1c';

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'hivemq' }, annotations: { 'mqtt-xds.io/drain': 'true' } },
  spec: { containers: [{ name: 'hivemq', image: 'hivemq/hivemq-ce:2025.5', env: [{ name: 'PASSWORD', value: SECRET_VALUE }] }] },
});

describe('pods as metadata only, against a real kube-apiserver', () => {
  let kube: KubeEnv;
  const ns = 'podmeta';

  beforeAll(async () => {
    kube = await startKube();
    expect((await kube.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(
      201,
    );
    expect((await kube.request('POST', `/api/v1/namespaces/${ns}/pods`, pod('hivemq-0'))).status).toBe(201);
    // The pod as a full read would return it: the value is there to be leaked.
    expect(JSON.stringify((await kube.request('GET', `/api/v1/namespaces/${ns}/pods/hivemq-0`)).body)).toContain(SECRET_VALUE);
  });

  afterAll(async () => {
    await kube?.stop();
  });

  it('lists names and annotations without any pod spec', async () => {
    const out = await node(
      `const m = require(${JSON.stringify(MODULE)}); const c = require(${JSON.stringify(CLIENT)});
       m.listPodMetadata(c.loadKubeConfig(process.env.KC), ${JSON.stringify(ns)}, 'app=hivemq').then((l) => console.log(JSON.stringify(l)));`,
      { KC: kube.kubeconfigPath },
    );
    const list = JSON.parse(out) as {
      metadata: { resourceVersion?: string };
      items: Array<{ metadata?: { name?: string; annotations?: Record<string, string> } }>;
    };
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['hivemq-0']);
    expect(list.items[0].metadata?.annotations?.['mqtt-xds.io/drain']).toBe('true');
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(JSON.stringify(list)).not.toContain(SECRET_VALUE);
    expect(list.items.every((p) => !('spec' in p) && !('status' in p))).toBe(true);
  });

  it('watches without any pod spec', async () => {
    const script = `const m = require(${JSON.stringify(MODULE)}); const c = require(${JSON.stringify(CLIENT)});
      const k = c.kubeClient(); const kc = c.loadKubeConfig(process.env.KC);
      const w = new k.Watch(m.metadataWatchConfig(kc));
      w.watch('/api/v1/namespaces/${ns}/pods', {}, (_p, _o, raw) => {
        const line = JSON.stringify(raw); console.log(line);
        if (line.includes('hivemq-1')) process.exit(0);
      }, (err) => { console.error(String(err)); process.exit(1); });
      setTimeout(() => process.exit(2), 15000);`;
    const watching = node(script, { KC: kube.kubeconfigPath });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await kube.request('POST', `/api/v1/namespaces/${ns}/pods`, pod('hivemq-1'))).status).toBe(201);
    const seen = await watching;
    expect(seen).toContain('hivemq-1');
    expect(seen).not.toContain(SECRET_VALUE);
    expect(seen).toContain('PartialObjectMetadata');
  });

  it('reports a refused list with its HTTP status, which the pod watch reports on', async () => {
    const badToken = path.join(path.dirname(kube.kubeconfigPath), 'kubeconfig-bad-token');
    fs.writeFileSync(badToken, fs.readFileSync(kube.kubeconfigPath, 'utf8').replace(/token: .*/, 'token: not-the-token'));
    const out = await node(
      `const m = require(${JSON.stringify(MODULE)}); const c = require(${JSON.stringify(CLIENT)});
       m.listPodMetadata(c.loadKubeConfig(process.env.KC), ${JSON.stringify(ns)}, undefined).then(() => console.log('listed'), (e) => console.log(JSON.stringify({ statusCode: e.statusCode })));`,
      { KC: badToken },
    );
    expect(JSON.parse(out).statusCode).toBe(401);
  });
});
