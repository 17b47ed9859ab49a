// kubernetes.io/tls Secrets in one namespace of a real kube-apiserver, as the Secret suites
// create, renew and delete them (listener-tls-secret, tenant-tls-secret).
import { X509Certificate } from 'node:crypto';
import type { Pem } from './certs';
import type { KubeEnv } from './kube';

export const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A certificate's serial number, which the suites compare with what Envoy presents. */
export const serialOf = (p: Pick<Pem, 'cert'>): string => new X509Certificate(p.cert).serialNumber;

/** A Secret's data for a pair. */
export const tlsSecretData = (p: Pick<Pem, 'cert' | 'key'>): Record<string, string> => ({ 'tls.crt': b64(p.cert), 'tls.key': b64(p.key) });

/**
 * An authenticated API call that throws on any answer of 300 or more, with its body.
 * `kube` is read at each call: the suites start the API server in beforeAll.
 */
export function kubeApi(kube: () => KubeEnv): (method: string, path: string, body?: unknown, contentType?: string) => Promise<any> {
  return async (method, path, body, contentType) => {
    const res = await kube().request(method, path, body, contentType);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
}

export interface TlsSecrets {
  create(name: string, p: Pick<Pem, 'cert' | 'key'>, type?: string): Promise<unknown>;
  /** One update of both keys, as cert-manager writes a renewal. */
  update(name: string, p: Pick<Pem, 'cert' | 'key'>): Promise<unknown>;
  remove(name: string): Promise<unknown>;
}

export function tlsSecrets(kube: () => KubeEnv, namespace: string): TlsSecrets {
  const api = kubeApi(kube);
  const base = `/api/v1/namespaces/${namespace}/secrets`;
  return {
    create: (name, p, type = 'kubernetes.io/tls') =>
      api('POST', base, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, type, data: tlsSecretData(p) }),
    update: (name, p) => api('PATCH', `${base}/${name}`, { data: tlsSecretData(p) }, 'application/merge-patch+json'),
    remove: (name) => api('DELETE', `${base}/${name}`),
  };
}
