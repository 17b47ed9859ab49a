// Discovery: turns the brokers file or Kubernetes EndpointSlices into a validated, resolved
// Broker set, keeping the last good set whenever a new one is unusable; and reads the other
// Kubernetes objects the control plane watches (policy ConfigMap, listener TLS Secrets).
export { parseBrokersFile, formatEndpoint, type BrokerEntry } from './brokers-file';
export { resolveBrokers, type HostLookup } from './resolve';
export { FileBrokerSource, diffBrokers, type FileBrokerSourceOptions } from './file-source';
export { KubernetesBrokerSource, type KubernetesSourceOptions } from './kubernetes/source';
export { brokersFromSlices, type SliceLike } from './kubernetes/endpoint-slices';
export { configMapPolicyFeed, type ConfigMapPolicyOptions } from './kubernetes/policy-configmap';
export { tlsSecretSource, type TlsSecretSourceOptions } from './kubernetes/tls-secret';
export { MAX_SECRET_BYTES, type SecretPlace } from './kubernetes/secret-pem';
export { LeaderElection, type LeaderElectionOptions } from './kubernetes/leader-election';
