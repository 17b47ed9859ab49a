// A Warning Event on the object an operator changed, so `kubectl describe` shows what
// mqtt-xds refused and why, where the change was made. Best effort: a failure to raise one
// is logged, never thrown.
import { hostname } from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../util/log';
import type { ObjectRef } from './secret-pem';

/** Kubernetes caps an Event's message; keep ours well inside it. */
export const MAX_EVENT_MESSAGE = 1000;

export interface EventTarget {
  readonly kind: 'ConfigMap' | 'Secret';
  readonly metadata?: ObjectRef;
}

export async function warningEvent(
  core: k8s.CoreV1Api,
  target: EventTarget,
  reason: string,
  message: string,
  logger: Logger,
): Promise<void> {
  const now = new Date();
  const meta = target.metadata;
  const namespace = meta?.namespace ?? 'default';
  try {
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${meta?.name ?? target.kind.toLowerCase()}.` },
        involvedObject: {
          apiVersion: 'v1',
          kind: target.kind,
          name: meta?.name,
          namespace,
          uid: meta?.uid,
          resourceVersion: meta?.resourceVersion,
        },
        reason,
        type: 'Warning',
        message: message.slice(0, MAX_EVENT_MESSAGE),
        source: { component: 'mqtt-xds', host: hostname() },
        reportingComponent: 'mqtt-xds',
        reportingInstance: hostname(),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  } catch (err) {
    logger.warn(`could not raise a ${reason} Event on ${target.kind} ${namespace}/${meta?.name ?? '?'}`, {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
