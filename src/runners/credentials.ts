// The secrets and certificates the control plane serves and presents, read and checked
// before anything starts: a missing token file or a bad certificate stops the start with a
// coded problem (ConfigError), never a stack trace. The TLS sources re-read their files
// once started (start()/stop() with the control plane). The one exception is the listener
// certificate from a Kubernetes Secret: it arrives by its watch after the start, and until
// it is good the control plane publishes nothing and is not ready (WatchedPair.waiting()).
import type * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import { configMapDrainRecord, type SharedDrainRecord } from '../discovery/kubernetes/drain-record';
import { tlsSecretSource } from '../discovery/kubernetes/tls-secret';
import { ClientTls, WatchedPair, parseCertificates, readPem, type PemSource, type TenantSecrets } from '../tls';
import type { Logger } from '../util/log';
import { ConfigError, readTokenFile } from '../util/token-file';
import { XdsTlsSource } from '../xds';

export interface Credentials {
  readonly adminToken: string | undefined;
  readonly agentToken: string | undefined;
  /** xDS over TLS: the source that re-reads the files, and the credentials it built. */
  readonly xdsTls?: { readonly source: XdsTlsSource; readonly credentials: grpc.ServerCredentials };
  /** HTTPS to the agents and to https metrics URLs (agent.tls.*). */
  readonly agentTls?: ClientTls;
  /** The MQTT listener's certificate (listener.tls.*), which the Envoys get over SDS. */
  readonly listenerTls?: WatchedPair;
  /** listener.tls.issuerCaFile's bundle: the listener's and every tenant's chain must verify against it. */
  readonly issuerCa?: string;
}

/** listener.tls.issuerCaFile, read and parsed once at start; a bad file stops the start. */
export function readIssuerCa(file: string): string | undefined {
  if (file === '') return undefined;
  const setting = 'listener.tls.issuerCaFile';
  const pem = readPem(file, setting);
  if (!pem.ok) throw new ConfigError(pem.problems);
  const certs = parseCertificates(pem.value, setting);
  if (!certs.ok) throw new ConfigError(certs.problems);
  return pem.value;
}

/**
 * `onListenerCertificate` is called when a re-read listener certificate is good and changed,
 * so it is published at once.
 */
export function loadCredentials(config: Config, log: Logger, registry: Registry, onListenerCertificate?: () => void): Credentials {
  // Admin before agent, so a missing file stops the start before anything runs.
  const adminToken = readTokenFile(config.admin.tokenFile, 'admin.tokenFile');
  const agentToken = readTokenFile(config.agent.tokenFile, 'agent.tokenFile');
  const { tls } = config.xds;
  let xdsTls: Credentials['xdsTls'];
  if (tls.certFile !== '') {
    const source = new XdsTlsSource({ files: tls, logger: log.child({ stage: 'xds' }), registry });
    const credentials = source.load();
    if (!credentials.ok) throw new ConfigError(credentials.problems);
    xdsTls = { source, credentials: credentials.value };
  }
  const a = config.agent.tls;
  let agentTls: ClientTls | undefined;
  if (a.caFile !== '' || a.certFile !== '' || a.serverName !== '') {
    agentTls = new ClientTls({ files: a, setting: 'agent.tls', logger: log.child({ stage: 'agent-tls' }), registry });
    const loaded = agentTls.load();
    if (!loaded.ok) throw new ConfigError(loaded.problems);
  }
  const lt = config.listener.tls;
  const issuerCa = readIssuerCa(lt.issuerCaFile);
  let listenerTls: WatchedPair | undefined;
  if (lt.certFile !== '' || lt.secret !== '') {
    const logger = log.child({ stage: 'listener-tls' });
    listenerTls = new WatchedPair({
      ...(lt.secret !== '' ? { source: listenerSecretSource(config, logger) } : { files: lt }),
      setting: 'listener.tls',
      what: 'MQTT listener TLS',
      metricPrefix: 'mqtt_xds_listener_tls',
      logger,
      registry,
      onChange: () => onListenerCertificate?.(),
      ...(issuerCa === undefined ? {} : { issuerCa }),
    });
    if (lt.secret === '') {
      const loaded = listenerTls.load();
      if (!loaded.ok) throw new ConfigError(loaded.problems);
    }
  }
  return {
    adminToken,
    agentToken,
    ...(xdsTls ? { xdsTls } : {}),
    ...(agentTls ? { agentTls } : {}),
    ...(listenerTls ? { listenerTls } : {}),
    ...(issuerCa === undefined ? {} : { issuerCa }),
  };
}

/** A Secret named as `name` (in discovery.kubernetes.namespace, like the policy ConfigMap) or `namespace/name`. */
function secretPlace(config: Config, ref: string, setting: string): { namespace: string; name: string; setting: string } {
  const [namespace, name] = ref.includes('/') ? ref.split('/', 2) : [config.discovery.kubernetes.namespace, ref];
  return { namespace, name, setting };
}

/** A tenant's `secret` (and `clientCaSecret`), watched as listener.tls.secret is. */
export function tenantSecretSource(config: Config, logger: Logger): (tenant: string, secrets: TenantSecrets) => PemSource {
  return (tenant, { secret, clientCaSecret }) =>
    tlsSecretSource({
      kubeconfig: config.discovery.kubernetes.kubeconfig,
      pair: secretPlace(config, secret, `tenants.${tenant}.secret`),
      ...(clientCaSecret === undefined ? {} : { clientCa: secretPlace(config, clientCaSecret, `tenants.${tenant}.clientCaSecret`) }),
      purpose: `tenant ${tenant} TLS`,
      logger: logger.child({ tenant }),
    });
}

/** listener.tls.secret (and clientCaSecret). */
function listenerSecretSource(config: Config, logger: Logger): PemSource {
  const k8s = config.discovery.kubernetes;
  const place = (ref: string, setting: string) => secretPlace(config, ref, setting);
  const { secret, clientCaSecret } = config.listener.tls;
  return tlsSecretSource({
    kubeconfig: k8s.kubeconfig,
    pair: place(secret, 'listener.tls.secret'),
    ...(clientCaSecret !== '' ? { clientCa: place(clientCaSecret, 'listener.tls.clientCaSecret') } : {}),
    logger,
  });
}

/** In Kubernetes, the ConfigMap where admin-API drains are recorded for every replica; otherwise none. */
export function drainRecordFor(config: Config, log: Logger): SharedDrainRecord | undefined {
  const k8s = config.discovery.kubernetes;
  if (config.discovery.source !== 'kubernetes' || k8s.drainsConfigMap === '') return undefined;
  return configMapDrainRecord({
    kubeconfig: k8s.kubeconfig,
    namespace: k8s.namespace,
    name: k8s.drainsConfigMap,
    logger: log.child({ stage: 'drains' }),
  });
}
