// Pods as metadata only: the API server sends PartialObjectMetadata (name, annotations,
// resource version), never a pod's spec, so container env values and the like never
// reach this process. RBAC cannot narrow "list pods" to metadata; this narrows what is
// actually read.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as k8s from '@kubernetes/client-node';
import type { PodLike } from './pod-drains';

export const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
/** A namespace with 10,000 pods lists in well under this as metadata. */
const MAX_LIST_BYTES = 64 * 1024 * 1024;
const LIST_TIMEOUT_MS = 30_000;

export interface PodMetadataList {
  readonly metadata: { readonly resourceVersion?: string };
  readonly items: PodLike[];
}

/**
 * A KubeConfig stand-in for client-node's Watch: the same cluster and credentials, asking
 * for metadata only. Watch reads nothing else of its config.
 */
export function metadataWatchConfig(kc: k8s.KubeConfig): k8s.KubeConfig {
  const wrapper = {
    getCurrentCluster: () => kc.getCurrentCluster(),
    applyToFetchOptions: async (opts: Parameters<k8s.KubeConfig['applyToFetchOptions']>[0]) => {
      const init = await kc.applyToFetchOptions(opts);
      const headers = init.headers as unknown as { set(k: string, v: string): void };
      headers.set('Accept', WATCH_ACCEPT);
      return init;
    },
  };
  return wrapper as unknown as k8s.KubeConfig;
}

/** Lists the namespace's pods as metadata, bounded in size and time. */
export async function listPodMetadata(kc: k8s.KubeConfig, namespace: string, labelSelector: string | undefined): Promise<PodMetadataList> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(`${cluster.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`);
  if (labelSelector) url.searchParams.set('labelSelector', labelSelector);
  const opts: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  opts.headers = { ...(opts.headers as Record<string, string>), Accept: METADATA_ACCEPT };
  const body = await new Promise<string>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { ...opts, method: 'GET', timeout: LIST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_LIST_BYTES) {
          req.destroy(new Error(`pod list larger than ${MAX_LIST_BYTES} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          const err = new Error(`listing pods in ${namespace}: HTTP ${res.statusCode}`) as Error & {
            statusCode?: number;
            code?: number;
            body?: string;
          };
          // client-node's informer and our error reporting read these.
          err.statusCode = res.statusCode;
          err.code = res.statusCode;
          err.body = text.slice(0, 1000);
          reject(err);
          return;
        }
        resolve(text);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`listing pods in ${namespace}: no answer within ${LIST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
  const parsed = JSON.parse(body) as { metadata?: { resourceVersion?: string }; items?: PodLike[] };
  return { metadata: parsed.metadata ?? {}, items: parsed.items ?? [] };
}
