// A real Kubernetes control plane for the integration tests: etcd and kube-apiserver on
// 127.0.0.1, built and cached by scripts/setup-kube. No controller-manager, scheduler or
// kubelet runs, so nothing reconciles: tests write the objects (EndpointSlices too) themselves.
import type { ChildProcess } from 'node:child_process';
import { spawnChild } from './children';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { LineRing, captureOutput, stopChild } from './child-process';
import { freePort } from './ports';
import { REPO_ROOT } from './repo-root';
import { sleep } from './wait';

export interface KubeResponse {
  status: number;
  /** Parsed JSON, or the raw text when the answer was not JSON. */
  body: any;
}

export interface KubeEnv {
  /** https://127.0.0.1:PORT; the same after restartApiServer(). */
  server: string;
  /** Bearer token of user "admin" in group system:masters (RBAC lets it do anything). */
  token: string;
  /** PEM bundle that verifies the apiserver's self-signed serving certificate. */
  caFile: string;
  /** A kubeconfig with server, caFile and token, e.g. for KubeConfig.loadFromFile(). */
  kubeconfigPath: string;
  /** Kubernetes version of the apiserver, e.g. "v1.37.2". */
  version: string;
  /** An authenticated JSON request; `path` like "/api/v1/namespaces". */
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse>;
  /** Stops the apiserver only; etcd and its data stay. */
  stopApiServer(): Promise<void>;
  /** Starts the apiserver again on the same port, certificates and etcd; resolves when /readyz is ok. */
  startApiServer(): Promise<void>;
  /** stopApiServer() then startApiServer(): what "the API server restarted mid-watch" means. */
  restartApiServer(): Promise<void>;
  /** The last lines etcd and the apiserver printed. */
  logs(): string;
  /** Stops both processes and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartKubeOptions {
  /** Default 90 s: a cold apiserver on 2 busy cores takes 10-30 s to be ready. */
  readyTimeoutMs?: number;
  /** Extra kube-apiserver flags, e.g. ["--v=4"]. */
  apiServerArgs?: string[];
}

const SETUP_SCRIPT = path.join(REPO_ROOT, 'scripts', 'setup-kube');
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));
const SERVICE_CIDR = '10.96.0.0/16';

/** The version scripts/setup-kube pins; read from the script so the pin lives in one place. */
export function pinnedKubeVersion(): string {
  const text = fs.readFileSync(SETUP_SCRIPT, 'utf8');
  const match = /^KUBE_VERSION="(v[0-9.]+)"$/m.exec(text);
  if (!match) throw new Error(`no KUBE_VERSION="vX.Y.Z" line in ${SETUP_SCRIPT}`);
  return match[1];
}

function cacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mqtt-xds');
}

/** Paths of kube-apiserver and etcd: $KUBE_APISERVER_BIN / $ETCD_BIN, else what scripts/setup-kube left in the cache. */
export function kubeBinaries(): { apiserver: string; etcd: string; version: string } {
  const version = pinnedKubeVersion();
  const apiserver = process.env.KUBE_APISERVER_BIN || path.join(cacheDir(), 'bin', `kube-apiserver-${version}`);
  const etcd = process.env.ETCD_BIN || path.join(cacheDir(), 'bin', 'etcd');
  for (const [name, bin] of [
    ['kube-apiserver ' + version, apiserver],
    ['etcd', etcd],
  ] as const) {
    try {
      fs.accessSync(bin, fs.constants.X_OK);
    } catch {
      throw new Error(
        `${name} not found or not executable at ${bin}. Run scripts/setup-kube to build and cache it ` +
          '(a cold build takes about 15 minutes; later runs reuse the cache), or set KUBE_APISERVER_BIN / ETCD_BIN.',
      );
    }
  }
  return { apiserver, etcd, version };
}

interface Proc {
  child: ChildProcess;
  ring: LineRing;
  running(): boolean;
}

function launch(bin: string, args: string[], ring: LineRing): Proc {
  // --pdeathsig: the kernel kills the child when the jest worker dies, even by SIGKILL.
  const [command, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', bin, ...args]] : [bin, args];
  const child = spawnChild(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  captureOutput(child, ring);
  return { child, ring, running: () => child.exitCode === null && child.signalCode === null };
}

/** A GET/POST/... over TLS, trusting `ca` only. */
function httpsRequest(
  url: string,
  opts: { method?: string; token?: string; ca?: Buffer; body?: string; contentType?: string; timeoutMs?: number },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const req = https.request(url, { method: opts.method ?? 'GET', headers, ca: opts.ca, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function waitUntil(what: string, proc: Proc, timeoutMs: number, ready: () => Promise<string | true>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt finished';
  while (Date.now() < deadline) {
    // Checked every round so a crash fails at once instead of after the timeout.
    if (!proc.running()) throw new Error(`${what} exited during startup (code ${proc.child.exitCode}, signal ${proc.child.signalCode})`);
    try {
      const outcome = await ready();
      if (outcome === true) return;
      last = outcome;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last}`);
}

/**
 * Runs `start` with fresh free ports until it does not fail on a port another process
 * took between freePort() and the bind.
 */
async function withPortRetry<T>(start: () => Promise<T>, logs: () => string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(logs())) throw err;
    }
  }
}

async function startEtcd(bin: string, dir: string, ring: LineRing, timeoutMs: number): Promise<{ proc: Proc; url: string }> {
  return withPortRetry(
    async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      const [clientPort, peerPort] = [await freePort(), await freePort()];
      const url = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      const proc = launch(
        bin,
        [
          '--name',
          'mqtt-xds-test',
          '--data-dir',
          dir,
          '--listen-client-urls',
          url,
          '--advertise-client-urls',
          url,
          '--listen-peer-urls',
          peer,
          '--initial-advertise-peer-urls',
          peer,
          '--initial-cluster',
          `mqtt-xds-test=${peer}`,
          '--logger',
          'zap',
          '--log-outputs',
          'stderr',
          '--log-level',
          'warn',
        ],
        ring,
      );
      try {
        await waitUntil('etcd', proc, timeoutMs, async () => {
          const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
          const text = await res.text();
          return res.ok && /"health":\s*"true"/.test(text) ? true : `/health answered ${res.status} ${text}`;
        });
        return { proc, url };
      } catch (err) {
        await stopChild(proc.child, { graceMs: 2000 });
        throw err;
      }
    },
    () => ring.text(),
  );
}

/** Everything the apiserver needs on disk, made once so a restart reuses certificates and keys. */
function writeApiServerFiles(dir: string, token: string): { tokenFile: string; saKey: string; saPub: string; certDir: string } {
  const tokenFile = path.join(dir, 'tokens.csv');
  // token,user,uid,"groups": system:masters is the group RBAC never denies.
  fs.writeFileSync(tokenFile, `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = path.join(dir, 'sa.key');
  const saPub = path.join(dir, 'sa.pub');
  fs.writeFileSync(saKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.writeFileSync(saPub, publicKey.export({ type: 'spki', format: 'pem' }));
  const certDir = path.join(dir, 'certs');
  fs.mkdirSync(certDir);
  return { tokenFile, saKey, saPub, certDir };
}

function apiServerArgs(files: ReturnType<typeof writeApiServerFiles>, port: number, etcdUrl: string, extra: string[]): string[] {
  return [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    // No --tls-cert-file: the apiserver writes a self-signed CA and serving certificate
    // (SANs include 127.0.0.1) into --cert-dir, and reuses them when it restarts.
    `--cert-dir=${files.certDir}`,
    `--etcd-servers=${etcdUrl}`,
    `--token-auth-file=${files.tokenFile}`,
    '--authorization-mode=RBAC',
    `--service-account-key-file=${files.saPub}`,
    `--service-account-signing-key-file=${files.saKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    // The endpoint reconciler would publish 127.0.0.1 as the "kubernetes" Service's
    // endpoint, which validation rejects (loopback), and log about it forever.
    '--endpoint-reconciler-type=none',
    // ServiceAccount admission rejects Pods until the controller-manager (not run here)
    // has created the namespace's "default" ServiceAccount.
    '--disable-admission-plugins=ServiceAccount',
    '--profiling=false',
    ...extra,
  ];
}

const DIR_PREFIX = 'mqtt-xds-kube-';
const OWNER_FILE = 'owner-pid';

/**
 * Removes the temp dirs of earlier runs whose jest worker died without stop() (killed,
 * or timed out): their etcd and apiserver died with it (pdeathsig), but ~120 MB of etcd
 * data would stay behind on every such run.
 */
function removeAbandonedDirs(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    try {
      const pid = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
      process.kill(pid, 0);
    } catch (err) {
      // ESRCH: the owner is gone. EPERM: alive but not ours. No owner file: still being set up.
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Starts etcd and kube-apiserver on free 127.0.0.1 ports in a fresh temp dir and resolves
 * once /readyz answers "ok" to the admin token. Throws (with both logs) when the binaries
 * are missing or the servers do not come up; nothing is left running then.
 */
export async function startKube(options: StartKubeOptions = {}): Promise<KubeEnv> {
  const { apiserver: apiserverBin, etcd: etcdBin, version } = kubeBinaries();
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
  removeAbandonedDirs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
  fs.writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const token = crypto.randomBytes(24).toString('hex');
  const etcdRing = new LineRing(100);
  const apiRing = new LineRing(400);
  let etcd: Proc | undefined;
  let api: Proc | undefined;
  let port = 0;

  const logs = (): string =>
    `--- etcd ---\n${etcdRing.text() || '(not started)'}\n--- kube-apiserver ---\n${apiRing.text() || '(not started)'}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (api) await stopChild(api.child, { graceMs: 10_000 });
      if (etcd) await stopChild(etcd.child, { graceMs: 5000 });
      fs.rmSync(dir, { recursive: true, force: true });
    })());

  try {
    const started = await startEtcd(etcdBin, path.join(dir, 'etcd'), etcdRing, readyTimeoutMs);
    etcd = started.proc;
    const files = writeApiServerFiles(dir, token);
    const caFile = path.join(files.certDir, 'apiserver.crt');

    const startApiServer = async (): Promise<void> => {
      if (api?.running()) throw new Error('kube-apiserver is already running');
      const bootOnce = async (): Promise<void> => {
        const firstStart = port === 0;
        if (firstStart) port = await freePort();
        apiRing.push(`=== kube-apiserver ${version} starting on 127.0.0.1:${port} ===`);
        const proc = launch(apiserverBin, apiServerArgs(files, port, started.url, options.apiServerArgs ?? []), apiRing);
        api = proc;
        try {
          await waitUntil('kube-apiserver /readyz', proc, readyTimeoutMs, async () => {
            if (!fs.existsSync(caFile)) return `${caFile} not written yet`;
            const res = await httpsRequest(`https://127.0.0.1:${port}/readyz`, { token, ca: fs.readFileSync(caFile), timeoutMs: 5000 });
            return res.status === 200
              ? true
              : `/readyz answered ${res.status}: ${res.text
                  .trim()
                  .split('\n')
                  .filter((l) => l.includes('failed'))
                  .join('; ')}`;
          });
        } catch (err) {
          await stopChild(proc.child, { graceMs: 5000 });
          if (firstStart) port = 0;
          throw err;
        }
      };
      // Only the first start picks a port, so only it may retry on one taken meanwhile; a
      // restart keeps its port because clients and the kubeconfig already point at it.
      await (port === 0 ? withPortRetry(bootOnce, () => apiRing.text()) : bootOnce());
    };
    const stopApiServer = async (): Promise<void> => {
      if (api) await stopChild(api.child, { graceMs: 10_000 });
    };

    await startApiServer();
    const server = `https://127.0.0.1:${port}`;
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'mqtt-xds-test', cluster: { server, 'certificate-authority': caFile } }],
        users: [{ name: 'admin', user: { token } }],
        contexts: [{ name: 'mqtt-xds-test', context: { cluster: 'mqtt-xds-test', user: 'admin' } }],
        'current-context': 'mqtt-xds-test',
      }),
      { mode: 0o600 },
    );

    const request = async (method: string, p: string, body?: unknown, contentType?: string): Promise<KubeResponse> => {
      const res = await httpsRequest(`${server}${p}`, {
        method,
        token,
        ca: fs.readFileSync(caFile),
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        contentType,
      });
      let parsed: unknown = res.text;
      try {
        parsed = JSON.parse(res.text);
      } catch {
        // Not JSON (e.g. /readyz): keep the text.
      }
      return { status: res.status, body: parsed };
    };

    return {
      server,
      token,
      caFile,
      kubeconfigPath,
      version,
      request,
      stopApiServer,
      startApiServer,
      restartApiServer: async () => {
        await stopApiServer();
        await startApiServer();
      },
      logs,
      stop,
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const text = logs();
    await stop();
    throw new Error(`could not start kube-apiserver ${version} with etcd: ${why}\n${text}`);
  }
}

/**
 * A ServiceAccount in `namespace`, each of `roles` created there and bound to it, and a
 * kubeconfig (written into `dir`) that authenticates as it with a fresh token: how a test
 * runs the control plane with exactly the RBAC a manifest grants.
 */
export async function serviceAccountKubeconfig(
  kube: KubeEnv,
  o: { readonly namespace: string; readonly name: string; readonly roles: readonly any[]; readonly dir: string },
): Promise<{ kubeconfig: string; token: string }> {
  const { namespace, name } = o;
  const api = async (p: string, body: unknown): Promise<any> => {
    const res = await kube.request('POST', p, body);
    if (res.status >= 300) throw new Error(`POST ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  await api(`/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  for (const role of o.roles) {
    await api(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, { ...role, metadata: { ...role.metadata, namespace } });
    await api(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${name}-${role.metadata.name}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    });
  }
  const tr = await api(`/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const kubeconfig = path.join(o.dir, `${name}.kubeconfig`);
  fs.writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'test', cluster: { server: kube.server, 'certificate-authority': kube.caFile } }],
      users: [{ name, user: { token: tr.status.token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: name } }],
      'current-context': 'test',
    }),
    { mode: 0o600 },
  );
  return { kubeconfig, token: tr.status.token as string };
}
