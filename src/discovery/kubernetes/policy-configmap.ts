import type * as k8s from '@kubernetes/client-node';
import type { PolicyFeed, PolicySink } from '../../config/policy-source';
import type { Logger } from '../../util/log';
import { formatProblems, type Problem } from '../../util/result';
import { kubeClient, loadKubeConfig } from './client';
import { InformerRunner } from './informer-runner';
import { warningEvent } from './warning-event';

export interface ConfigMapPolicyOptions {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly logger: Logger;
}

/**
 * Policy documents from one key of a ConfigMap, watched through the API (not a volume
 * mount, which lags by the kubelet's sync period). A document that is refused raises a
 * Warning Event on the ConfigMap, once per resourceVersion, so `kubectl describe` shows
 * the operator what is wrong where they made the change.
 */
export function configMapPolicyFeed(o: ConfigMapPolicyOptions): PolicyFeed {
  const source = `configmap ${o.namespace}/${o.name}`;
  let runner: InformerRunner | undefined;
  return {
    source,
    async start(sink: PolicySink): Promise<void> {
      const k = kubeClient();
      const kc = loadKubeConfig(o.kubeconfig);
      const core = kc.makeApiClient(k.CoreV1Api);
      const fieldSelector = `metadata.name=${o.name}`;
      const informer = new k.ListWatch<k8s.V1ConfigMap>(
        `/api/v1/namespaces/${o.namespace}/configmaps`,
        new k.Watch(kc),
        () => core.listNamespacedConfigMap({ namespace: o.namespace, fieldSelector }),
        false,
        undefined,
        fieldSelector,
      );
      let reported: string | undefined;
      const offer = (cm: k8s.V1ConfigMap): void => {
        if (cm.metadata?.name !== o.name) return;
        const text = cm.data?.[o.key];
        const problems: Problem[] =
          text === undefined
            ? [
                {
                  code: 'POLICY_KEY_MISSING',
                  path: `${source}`,
                  message: `key "${o.key}" is missing; keys present: ${Object.keys(cm.data ?? {}).join(', ') || 'none'}`,
                },
              ]
            : sink.offer(text);
        if (text === undefined) sink.fail(problems);
        const version = cm.metadata?.resourceVersion;
        if (problems.length > 0 && version !== reported) {
          reported = version;
          void warningEvent(
            core,
            { kind: 'ConfigMap', ...(cm.metadata ? { metadata: cm.metadata } : {}) },
            'InvalidPolicy',
            `mqtt-xds refused this policy and keeps the last good one: ${formatProblems(problems)}`,
            o.logger,
          );
        }
      };
      informer.on('add', offer);
      informer.on('update', offer);
      informer.on('delete', () =>
        sink.fail([{ code: 'POLICY_CONFIGMAP_DELETED', path: source, message: 'the ConfigMap was deleted; keeping the last good policy' }]),
      );
      runner = new InformerRunner(informer, {
        what: 'policy configmap',
        logger: o.logger,
        onListed: () => {
          if (!informer.get(o.name, o.namespace)) {
            sink.fail([
              {
                code: 'POLICY_CONFIGMAP_MISSING',
                path: source,
                message: `no such ConfigMap; create it with the key "${o.key}" (or drop the policy ConfigMap setting to use the defaults)`,
              },
            ]);
          }
        },
        onFailed: (message) => sink.fail([{ code: 'K8S_WATCH', path: source, message }]),
        onSynced: () => undefined,
      });
      await runner.start();
    },
    stop: () => runner?.stop(),
  };
}
