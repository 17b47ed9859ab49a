import { hostname } from 'node:os';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '../../util/log';
import { fail, ok, type Result } from '../../util/result';
import { httpStatusOf, kubeClient, loadKubeConfig } from './client';
import { InformerRunner } from './informer-runner';

/** A drain asked for through the admin API (or `mqtt-xds drain`) of any replica. */
export interface SharedDrain {
  readonly requestedAtMs: number;
  /** The replica that took the request (its host name, the pod name in Kubernetes). */
  readonly by: string;
}

/**
 * The drains every replica applies. With two replicas behind one Service, a drain request
 * reaches one of them; it writes the drain here, and every replica (the one that took
 * it too) applies what the record holds, so every Envoy gets the broker DRAINING and the
 * leader moves its clients. The record outlives a restart of any replica.
 */
export interface SharedDrainRecord {
  /** e.g. `configmap mqtt/mqtt-xds-drains`, for messages. */
  readonly where: string;
  /** Resolves after the first list, good or bad; `onChange` gets every later state too. */
  start(onChange: (drains: ReadonlyMap<string, SharedDrain>) => void): Promise<void>;
  stop(): void;
  add(broker: string): Promise<Result<void>>;
  remove(broker: string): Promise<Result<void>>;
}

export interface ConfigMapDrainsOptions {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly name: string;
  readonly logger: Logger;
  readonly nowMs?: () => number;
}

/**
 * The record as one ConfigMap (deploy/base/drains.yaml): a key per drained broker, its
 * value `{"requestedAt": ISO time, "by": replica}`. Written with merge patches, so two
 * replicas adding different brokers at once both land; watched by name, which is what lets
 * RBAC limit the control plane to this one ConfigMap.
 */
export function configMapDrainRecord(o: ConfigMapDrainsOptions): SharedDrainRecord {
  const where = `configmap ${o.namespace}/${o.name}`;
  const now = o.nowMs ?? Date.now;
  const self = hostname();
  let runner: InformerRunner | undefined;
  let core: k8s.CoreV1Api | undefined;
  let lastFailure = '';
  /** Newest resourceVersion applied: a watch event older than a write's answer is not applied over it. */
  let applied = -1n;
  let emit: (drains: ReadonlyMap<string, SharedDrain>) => void = () => undefined;
  const firstSeen = new Map<string, number>();

  const apply = (cm: k8s.V1ConfigMap | undefined): void => {
    const version = versionOf(cm);
    if (version !== undefined && version < applied) return;
    if (version !== undefined) applied = version;
    emit(drainsOf(cm?.data ?? {}, firstSeen, now(), o.logger, where));
  };
  const forbiddenMessage = (verb: string): string =>
    `forbidden to ${verb} ${where}: grant the service account get, list, watch and patch on that ConfigMap ` +
    `(deploy/base/rbac.yaml), or set discovery.kubernetes.drainsConfigMap to '' to keep each drain on the replica that took it`;

  const write = async (broker: string, value: string | null): Promise<Result<void>> => {
    if (!core) return fail([{ code: 'K8S_DRAINS_NOT_STARTED', path: where, message: 'the drain record is not started' }]);
    const body = { data: { [broker]: value } };
    const k = kubeClient();
    try {
      const cm = await core.patchNamespacedConfigMap(
        { name: o.name, namespace: o.namespace, body },
        k.setHeaderOptions('Content-Type', k.PatchStrategy.MergePatch),
      );
      apply(cm);
      return ok(undefined);
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 404 && value === null) return ok(undefined);
      if (status === 404) {
        return fail([
          {
            code: 'K8S_DRAINS_CONFIGMAP_MISSING',
            path: where,
            message: `no such ConfigMap: create it (deploy/base/drains.yaml ships it, empty), then ask again`,
          },
        ]);
      }
      if (status === 403) return fail([{ code: 'K8S_DRAINS_FORBIDDEN', path: where, message: forbiddenMessage('patch') }]);
      return fail([
        { code: 'K8S_DRAINS_WRITE', path: where, message: `could not write the drain: ${firstLine(err)}; nothing changed, ask again` },
      ]);
    }
  };

  return {
    where,
    async start(onChange): Promise<void> {
      emit = onChange;
      const k = kubeClient();
      const kc = loadKubeConfig(o.kubeconfig);
      core = kc.makeApiClient(k.CoreV1Api);
      const api = core;
      const fieldSelector = `metadata.name=${o.name}`;
      const informer = new k.ListWatch<k8s.V1ConfigMap>(
        `/api/v1/namespaces/${o.namespace}/configmaps`,
        new k.Watch(kc),
        () => api.listNamespacedConfigMap({ namespace: o.namespace, fieldSelector }),
        false,
        undefined,
        fieldSelector,
      );
      informer.on('add', (cm) => apply(cm));
      informer.on('update', (cm) => apply(cm));
      informer.on('delete', () => {
        o.logger.warn(`${where} was deleted: no drain from the admin API is in force now`);
        applied = -1n;
        apply(undefined);
      });
      runner = new InformerRunner(informer, {
        what: 'drain record',
        logger: o.logger,
        quiet: true,
        onListed: () => {
          lastFailure = '';
          if (!informer.get(o.name, o.namespace)) {
            o.logger.warn(
              `${where} does not exist: drains asked for through the admin API cannot be recorded until it does (deploy/base/drains.yaml)`,
            );
            applied = -1n;
            apply(undefined);
          }
        },
        onFailed: (message, err) => {
          const forbidden = httpStatusOf(err) === 403;
          const key = forbidden ? 'forbidden' : message;
          if (key === lastFailure) return;
          lastFailure = key;
          if (forbidden) o.logger.error(forbiddenMessage('watch'), { code: 'K8S_DRAINS_FORBIDDEN' });
          else o.logger.warn(`${where} watch failed; retrying, the drains last seen stay in force`, { error: firstLine(message) });
        },
        onSynced: () => undefined,
      });
      await runner.start();
    },
    stop: () => runner?.stop(),
    add: (broker) => write(broker, JSON.stringify({ requestedAt: new Date(now()).toISOString(), by: self })),
    remove: (broker) => write(broker, null),
  };
}

/**
 * The drains a ConfigMap's data holds. A key is a drain whatever its value says; a value
 * that is not ours (hand-written) counts from when this replica first saw it.
 */
export function drainsOf(
  data: Readonly<Record<string, string>>,
  firstSeen: Map<string, number>,
  nowMs: number,
  logger: Logger,
  where: string,
): Map<string, SharedDrain> {
  const out = new Map<string, SharedDrain>();
  for (const [broker, value] of Object.entries(data)) {
    let requestedAtMs: number | undefined;
    let by = 'unknown';
    try {
      const v = JSON.parse(value) as { requestedAt?: unknown; by?: unknown };
      const t = typeof v.requestedAt === 'string' ? Date.parse(v.requestedAt) : NaN;
      if (Number.isFinite(t)) requestedAtMs = t;
      if (typeof v.by === 'string' && v.by.length <= 253) by = v.by;
    } catch {
      // reported below
    }
    if (requestedAtMs === undefined && !firstSeen.has(broker)) {
      logger.warn(`${where}: the entry for ${broker} is not {"requestedAt": ..., "by": ...}; drained from now on`, { broker });
    }
    const seen = firstSeen.get(broker) ?? nowMs;
    firstSeen.set(broker, seen);
    out.set(broker, { requestedAtMs: requestedAtMs ?? seen, by });
  }
  for (const broker of firstSeen.keys()) if (!(broker in data)) firstSeen.delete(broker);
  return out;
}

function versionOf(cm: k8s.V1ConfigMap | undefined): bigint | undefined {
  const v = cm?.metadata?.resourceVersion;
  // resourceVersions are opaque by contract; etcd's are integers, and only those are compared.
  return v !== undefined && /^\d{1,20}$/.test(v) ? BigInt(v) : undefined;
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err)
    .split('\n')[0]
    .slice(0, 300);
}
