import type * as k8s from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Config } from '../../config';
import type { Broker } from '../../domain';
import { contentHash } from '../../util/hash';
import type { Logger } from '../../util/log';
import { formatProblems, type Problem } from '../../util/result';
import { diffBrokers } from '../file-source';
import { kubeClient, loadKubeConfig } from './client';
import { brokersFromSlices, parsePortRef, type SliceMapping } from './endpoint-slices';
import { InformerRunner } from './informer-runner';
import { PodDrainWatch } from './pod-watch';

type KubernetesSettings = Config['discovery']['kubernetes'];

/** The discovery.kubernetes settings (documented in config/settings-discovery.ts), plus the wiring. */
export interface KubernetesSourceOptions extends KubernetesSettings {
  readonly logger: Logger;
  readonly onBrokers: (brokers: Broker[]) => void;
  readonly onError: (problems: Problem[]) => void;
  /** Synced: the informer holds a complete, current list. Not synced: serving the last known brokers. */
  readonly onSynced: (synced: boolean) => void;
  /** Quiet time that batches slice events, in milliseconds. */
  readonly debounceMs?: number;
  readonly maxRetryMs?: number;
  /** Where the pod watch reports mqtt_xds_discovery_pods_synced; omit for no metric. */
  readonly registry?: Registry;
}

/**
 * Brokers from the EndpointSlices of one Service, through a client-node informer. The
 * informer lists, then watches; a 410 Gone makes it list again. When the watch fails (API
 * server down, network) the last known brokers stay in force: nothing is pushed, the
 * source reports "not synced", and it retries with backoff. The first delivery waits for
 * the initial list, so an empty cache is never mistaken for "no brokers".
 *
 * Unless drainAnnotation is '', a pod watch adds operator drains: a pod annotated
 * `mqtt-xds.io/drain: "true"` is published draining. The pods are listed first, so a
 * broker annotated before a restart is never served in between; a pod watch that fails
 * (RBAC, outage) never holds back or unsyncs the slices.
 */
export class KubernetesBrokerSource {
  private informer: (k8s.Informer<k8s.V1EndpointSlice> & k8s.ObjectCache<k8s.V1EndpointSlice>) | undefined;
  private runner: InformerRunner | undefined;
  private readonly mapping: SliceMapping;
  private readonly selector: string;
  private readonly pods: PodDrainWatch | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastHash: string | undefined;
  private last: Broker[] = [];
  private stopped = false;

  constructor(private readonly opts: KubernetesSourceOptions) {
    this.selector = opts.labelSelector !== '' ? opts.labelSelector : `kubernetes.io/service-name=${opts.service}`;
    this.mapping = {
      mqttPort: parsePortRef(opts.mqttPort),
      ...(opts.metricsPort !== '' ? { metricsPort: parsePortRef(opts.metricsPort) } : {}),
      metricsPath: opts.metricsPath,
      ...(opts.agentPort !== '' ? { agentPort: parsePortRef(opts.agentPort) } : {}),
      ...(opts.websocketPort !== '' ? { websocketPort: parsePortRef(opts.websocketPort) } : {}),
    };
    this.pods =
      opts.drainAnnotation === ''
        ? undefined
        : new PodDrainWatch({
            namespace: opts.namespace,
            annotation: opts.drainAnnotation,
            labelSelector: opts.podLabelSelector,
            logger: opts.logger,
            registry: opts.registry,
            maxRetryMs: opts.maxRetryMs,
            onChange: () => this.schedule(),
          });
  }

  /** Resolves after the first list attempt, good or bad; watching goes on in the background. */
  async start(): Promise<void> {
    const k = kubeClient();
    const kc = loadKubeConfig(this.opts.kubeconfig);
    const api = kc.makeApiClient(k.DiscoveryV1Api);
    const ns = this.opts.namespace;
    if (this.pods) await this.pods.start(kc);
    if (this.stopped) return;
    const informer = k.makeInformer<k8s.V1EndpointSlice>(
      kc,
      `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      () => api.listNamespacedEndpointSlice({ namespace: ns, labelSelector: this.selector }),
      this.selector,
    );
    const changed = (): void => this.schedule();
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', changed);
    this.informer = informer;
    this.runner = new InformerRunner(informer, {
      what: 'endpointslice',
      logger: this.opts.logger,
      maxRetryMs: this.opts.maxRetryMs,
      onListed: () => this.emit(),
      onSynced: this.opts.onSynced,
      onFailed: (message) =>
        this.opts.onError([
          { code: 'K8S_WATCH', path: `endpointslices/${ns}`, message: `${message}; serving the ${this.last.length} last known brokers` },
        ]),
    });
    this.opts.logger.info('watching endpointslices', { namespace: ns, selector: this.selector });
    await this.runner.start();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.debounce);
    this.runner?.stop();
    this.pods?.stop();
  }

  private schedule(): void {
    if (!this.runner?.isSynced() || this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.emit(), this.opts.debounceMs ?? 100);
  }

  private emit(): void {
    if (!this.informer || this.stopped) return;
    const { brokers, problems } = brokersFromSlices(this.informer.list(this.opts.namespace), this.mapping, this.pods?.drains());
    if (problems.length > 0) {
      this.opts.logger.warn('some endpointslices were skipped', { problems: formatProblems(problems) });
      this.opts.onError(problems);
    }
    const hash = contentHash(JSON.stringify(brokers));
    if (hash === this.lastHash) return;
    const draining = brokers.filter((b) => b.draining).map((b) => `${b.name} (${b.drainReason ?? 'draining'})`);
    this.opts.logger.info('brokers discovered', { count: brokers.length, ...diffBrokers(this.last, brokers), draining });
    this.lastHash = hash;
    this.last = brokers;
    this.opts.onBrokers(brokers);
  }
}
