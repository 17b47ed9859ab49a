import type * as k8s from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../util/log';
import { formatProblems } from '../../util/result';
import { httpStatusOf, kubeClient } from './client';
import { InformerRunner } from './informer-runner';
import { podDrains, slimPod, type PodLike } from './pod-drains';
import { listPodMetadata, metadataWatchConfig } from './pod-metadata';

export interface PodDrainWatchOptions {
  readonly namespace: string;
  /** The drain annotation's key. */
  readonly annotation: string;
  /** '' watches every pod of the namespace. */
  readonly labelSelector: string;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly maxRetryMs?: number;
  /** The set of drained pods changed. */
  readonly onChange: () => void;
}

/**
 * Which broker pods carry the drain annotation, through a pod informer. This is an
 * addition to EndpointSlice discovery, never a condition of it: when the pods cannot be
 * read (RBAC forbids it, the API is down) the last known annotations stay in force, one
 * error says what is missing, and brokers keep coming from the slices.
 */
export class PodDrainWatch {
  private informer: k8s.ListWatch<k8s.V1Pod> | undefined;
  private runner: InformerRunner | undefined;
  private drained: ReadonlyMap<string, string> = new Map();
  /** The annotation's raw value per pod that has one: events that leave it alone cost a map lookup. */
  private readonly seen = new Map<string, string>();
  private reportedProblems = '';
  /** The last failure logged ('' while the watch is well): each kind is logged once, not per retry. */
  private lastFailure = '';
  private readonly syncedGauge: Gauge | undefined;

  constructor(private readonly opts: PodDrainWatchOptions) {
    this.syncedGauge = opts.registry
      ? new Gauge({
          name: 'mqtt_xds_discovery_pods_synced',
          help: `1 while the pod watch for the drain annotation (${opts.annotation}) is current; 0 while it fails, e.g. RBAC forbids listing pods (see the log)`,
          registers: [opts.registry],
        })
      : undefined;
    this.syncedGauge?.set(0);
  }

  /** Resolves after the first list attempt, good or bad. */
  async start(kc: k8s.KubeConfig): Promise<void> {
    const k = kubeClient();
    const { namespace, annotation } = this.opts;
    const selector = this.opts.labelSelector !== '' ? this.opts.labelSelector : undefined;
    // Metadata only (pod-metadata.ts): no pod spec, and so no env value, is ever read.
    // What arrives is slimmed further before the cache keeps it (see slimPod).
    const watch = new k.Watch(metadataWatchConfig(kc));
    const watchFull = watch.watch.bind(watch);
    watch.watch = (path, query, callback, done) =>
      watchFull(
        path,
        query,
        (phase, obj, raw) => callback(phase, isPodEvent(phase) ? slimPod(obj as PodLike, annotation) : obj, raw),
        done,
      );
    const informer = new k.ListWatch<k8s.V1Pod>(
      `/api/v1/namespaces/${namespace}/pods`,
      watch,
      async () => {
        const list = await listPodMetadata(kc, namespace, selector);
        return { ...list, items: list.items.map((p) => slimPod(p, annotation) as k8s.V1Pod) };
      },
      false,
      selector,
    );
    const seenNow = (pod: k8s.V1Pod): void => {
      const name = pod.metadata?.name;
      if (!name) return;
      const value = pod.metadata?.annotations?.[annotation];
      if (value === this.seen.get(name)) return;
      if (value === undefined) this.seen.delete(name);
      else this.seen.set(name, value);
      this.changed();
    };
    informer.on('add', seenNow);
    informer.on('update', seenNow);
    informer.on('delete', (pod) => {
      const name = pod.metadata?.name;
      if (name && this.seen.delete(name)) this.changed();
    });
    this.informer = informer;
    this.runner = new InformerRunner(informer, {
      what: 'pod',
      logger: this.opts.logger,
      maxRetryMs: this.opts.maxRetryMs,
      quiet: true,
      onListed: () => this.recompute(),
      onSynced: (synced) => {
        this.syncedGauge?.set(synced ? 1 : 0);
        if (!synced || this.lastFailure === '') return;
        this.opts.logger.info('pod watch recovered; drain annotations apply again', { namespace });
        this.lastFailure = '';
      },
      onFailed: (message, err) => this.failed(message, err),
    });
    this.opts.logger.info('watching pods for the drain annotation', {
      namespace,
      annotation,
      selector: selector ?? '(every pod in the namespace)',
    });
    await this.runner.start();
  }

  stop(): void {
    this.runner?.stop();
  }

  /** Pod name → why it drains; the last known set while the watch fails. */
  drains(): ReadonlyMap<string, string> {
    return this.drained;
  }

  /** During a (re)list every pod arrives as an event; onListed recomputes once after it. */
  private changed(): void {
    if (this.runner?.isSynced()) this.recompute();
  }

  private recompute(): void {
    if (!this.informer) return;
    const { pods, problems } = podDrains(this.informer.list(this.opts.namespace), this.opts.annotation);
    const text = formatProblems(problems);
    if (text !== this.reportedProblems) {
      this.reportedProblems = text;
      if (text !== '') this.opts.logger.warn('drain annotation ignored', { problems: text });
    }
    if (sameKeys(pods, this.drained)) return;
    this.drained = pods;
    this.opts.logger.info('drain annotations changed', { annotation: this.opts.annotation, draining: [...pods.keys()] });
    this.opts.onChange();
  }

  private failed(message: string, err: unknown): void {
    const forbidden = httpStatusOf(err) === 403;
    const key = forbidden ? 'forbidden' : message;
    if (key === this.lastFailure) return;
    this.lastFailure = key;
    const kept =
      this.drained.size > 0 ? `the ${this.drained.size} drain annotations last seen stay in force` : 'no broker is drained by annotation';
    if (forbidden) {
      this.opts.logger.error(
        `forbidden to list and watch pods in namespace ${this.opts.namespace}: grant the service account get, list and watch ` +
          `on pods (deploy/base/rbac.yaml), or set discovery.kubernetes.drainAnnotation to '' to stop watching pods. ` +
          `Brokers still come from the EndpointSlices; ${kept}`,
        { namespace: this.opts.namespace, missing: 'pods: get, list, watch', code: 'K8S_PODS_FORBIDDEN' },
      );
    } else {
      this.opts.logger.warn(`pod watch failed; retrying. Brokers still come from the EndpointSlices; ${kept}`, {
        error: firstLine(message),
        namespace: this.opts.namespace,
      });
    }
  }
}

function isPodEvent(phase: string): boolean {
  return phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
}

function sameKeys(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** ApiException messages carry the response body and headers after the first line. */
function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}
