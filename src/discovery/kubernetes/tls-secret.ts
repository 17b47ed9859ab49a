// The MQTT listener's (or an SNI tenant's) TLS material from Kubernetes Secrets, watched through the API (a
// mounted Secret reaches the pod only after the kubelet's next sync, a minute or more).
// Each Secret is listed and watched by name alone (fieldSelector metadata.name=…), which
// is what lets RBAC grant it by resourceNames: no other Secret of the namespace is ever
// readable. Out of here go PEM strings only (a PemSource); WatchedPair checks them.
import type * as k8s from '@kubernetes/client-node';
import type { PemSink, PemSource, PemTexts } from '../../tls/pem-source';
import type { Logger } from '../../util/log';
import { fail, formatProblems, ok, type Problem, type Result } from '../../util/result';
import { httpStatusOf, kubeClient, loadKubeConfig } from './client';
import { InformerRunner } from './informer-runner';
import { warningEvent } from './warning-event';
import { caFromSecret, describeSecret, pairFromSecret, type SecretPlace, type SecretState } from './secret-pem';

export interface TlsSecretSourceOptions {
  readonly kubeconfig: string;
  /** The kubernetes.io/tls Secret: tls.crt and tls.key. */
  readonly pair: SecretPlace;
  /** A Secret whose ca.crt is the client CA bundle; absent: no client CA. May be the pair's own Secret. */
  readonly clientCa?: SecretPlace;
  readonly logger: Logger;
  /** Whose certificate it is, for log lines: "listener TLS" (the default), "tenant acme TLS". */
  readonly purpose?: string;
  /** Longest wait between attempts to re-establish a failed watch. Default 30 s. */
  readonly maxRetryMs?: number;
}

/**
 * A read goes out on every change of either Secret once both are listed, so a Secret
 * deleted, recreated, or updated with the same content is offered too (WatchedPair keeps
 * what is in force unless the new read is good and different).
 */
export function tlsSecretSource(o: TlsSecretSourceOptions): PemSource {
  const places = [o.pair, ...(o.clientCa ? [o.clientCa] : [])];
  const keyOf = (p: SecretPlace): string => `${p.namespace}/${p.name}`;
  // One watch per Secret: a pair and CA in one Secret are read from one object, so they change together.
  const watches = new Map<string, SecretWatch>();
  for (const p of places) if (!watches.has(keyOf(p))) watches.set(keyOf(p), new SecretWatch(p, o));
  const stateOf = (p: SecretPlace): SecretState | undefined => watches.get(keyOf(p))?.state;

  const read = (): Result<PemTexts> | undefined => {
    const pairState = stateOf(o.pair);
    const caState = o.clientCa && stateOf(o.clientCa);
    if (!pairState || (o.clientCa && !caState)) return undefined;
    const pair = pairFromSecret(pairState, o.pair);
    const ca = o.clientCa && caState ? caFromSecret(caState, o.clientCa) : undefined;
    if (!pair.ok || (ca && !ca.ok)) return fail([...(pair.ok ? [] : pair.problems), ...(ca && !ca.ok ? ca.problems : [])]);
    return ok({ ...pair.value, ...(ca?.ok ? { ca: ca.value } : {}) });
  };

  return {
    noun: watches.size === 1 ? describeSecret(o.pair) : `Secrets ${[...watches.keys()].join(' and ')}`,
    paths: { cert: o.pair.setting, ca: o.clientCa?.setting ?? o.pair.setting },
    // One Secret object changes as a whole: nothing half-written to wait out.
    piecewise: false,
    start(sink: PemSink) {
      const changed = (): void => {
        const r = read();
        if (r) sink.offer(r);
      };
      for (const w of watches.values()) w.start(changed, (problems) => sink.unreachable(problems));
    },
    stop() {
      for (const w of watches.values()) w.stop();
    },
    refused(problems) {
      // On each Secret a problem names (the pair's by default), once per version of it.
      const named = [...watches.values()].filter((w) => problems.some((p) => p.path.startsWith(w.place.setting)));
      for (const w of named.length > 0 ? named : [watches.get(keyOf(o.pair))!]) w.warn(problems);
    },
  };
}

class SecretWatch {
  /** Undefined until the first complete list. */
  state: SecretState | undefined;
  private runner: InformerRunner | undefined;
  private core: k8s.CoreV1Api | undefined;
  /** The resourceVersion last warned about: one Event per version of the Secret. */
  private warned: string | undefined;

  constructor(
    readonly place: SecretPlace,
    private readonly o: TlsSecretSourceOptions,
  ) {}

  /** A Warning Event on this Secret: its content was refused (kubectl describe shows why). */
  warn(problems: readonly Problem[]): void {
    if (this.state?.kind !== 'present' || !this.core) return;
    const meta = this.state.secret.metadata;
    if (meta?.resourceVersion === undefined || meta.resourceVersion === this.warned) return;
    this.warned = meta.resourceVersion;
    void warningEvent(
      this.core,
      { kind: 'Secret', metadata: meta },
      'InvalidCertificate',
      `mqtt-xds refused this certificate and keeps the last good one in force: ${formatProblems(problems)}`,
      this.o.logger,
    );
  }

  start(changed: () => void, unreachable: (problems: Problem[]) => void): void {
    const { namespace, name, setting } = this.place;
    const what = describeSecret(this.place);
    let informer: k8s.ListWatch<k8s.V1Secret>;
    try {
      const k = kubeClient();
      const kc = loadKubeConfig(this.o.kubeconfig);
      const core = kc.makeApiClient(k.CoreV1Api);
      this.core = core;
      const fieldSelector = `metadata.name=${name}`;
      informer = new k.ListWatch<k8s.V1Secret>(
        `/api/v1/namespaces/${namespace}/secrets`,
        new k.Watch(kc),
        () => core.listNamespacedSecret({ namespace, fieldSelector }),
        false,
        undefined,
        fieldSelector,
      );
    } catch (err) {
      const message = `cannot watch ${what}: ${err instanceof Error ? err.message : String(err)}; check discovery.kubernetes.kubeconfig`;
      this.o.logger.error(message);
      unreachable([{ code: 'TLS_SECRET_WATCH', path: setting, message }]);
      return;
    }
    const set = (state: SecretState): void => {
      this.state = state;
      changed();
    };
    // The secret's content is never logged, only that it changed.
    const present = (s: k8s.V1Secret): void => {
      if (s.metadata?.name === name) set({ kind: 'present', secret: s });
    };
    informer.on('add', present);
    informer.on('update', present);
    informer.on('delete', (s) => {
      if (s.metadata?.name === name) set({ kind: 'deleted' });
    });
    this.runner = new InformerRunner(informer, {
      what: `${this.o.purpose ?? 'listener TLS'} ${what}`,
      logger: this.o.logger,
      ...(this.o.maxRetryMs === undefined ? {} : { maxRetryMs: this.o.maxRetryMs }),
      onListed: () => {
        // Deleted stays deleted (the better message) until the Secret is back.
        if (!informer.get(name, namespace) && this.state?.kind !== 'deleted') set({ kind: 'absent' });
      },
      onFailed: (message, err) => {
        const status = httpStatusOf(err);
        const why =
          status === 403 || status === 401
            ? `the API server refuses to let this identity read ${what} (${status}): the Role needs get, list and watch on secrets with resourceNames [${name}] in ${namespace}`
            : `the watch of ${what} failed (${message}); retrying, the last good certificate stays in force`;
        unreachable([{ code: 'TLS_SECRET_WATCH', path: setting, message: why }]);
      },
      onSynced: () => undefined,
    });
    void this.runner.start();
  }

  stop(): void {
    this.runner?.stop();
  }
}
