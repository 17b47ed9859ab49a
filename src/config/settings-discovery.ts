// Settings of discovery (the brokers file or Kubernetes EndpointSlices) and of leader
// election, which uses a Lease in the same cluster.
import { annotationKey, int, k8sName, labelSelector, leaseIdentity, portRef, setting, urlPath, type Setting } from './setting-fields';

/** Where brokers come from, and how their ports and drains are read in Kubernetes. */
export const DISCOVERY_SETTINGS: readonly Setting[] = [
  setting(
    'discovery.source',
    { kind: 'enum', values: ['file', 'kubernetes'] },
    'file',
    'Where brokers come from: the brokers file, or Kubernetes EndpointSlices.',
  ),
  setting(
    'discovery.brokersFile',
    { kind: 'path' },
    'brokers.yaml',
    'YAML file listing the brokers, watched for changes; relative to the working directory.',
  ),
  setting(
    'discovery.brokersFileSettleMs',
    int(0, 10_000),
    400,
    'A changed brokers file is used once two reads this many milliseconds apart agree (a writer cut mid-file can leave valid but wrong text); 0 uses the first read, safe only when the file is replaced atomically (rename, ConfigMap volume).',
  ),
  setting(
    'discovery.kubernetes.kubeconfig',
    { kind: 'path', optional: true },
    '',
    'kubeconfig file; empty uses the in-cluster service account, else $KUBECONFIG or ~/.kube/config.',
  ),
  setting('discovery.kubernetes.namespace', k8sName(false), 'default', 'Namespace of the broker Service.'),
  setting(
    'discovery.kubernetes.service',
    k8sName(true),
    '',
    'Service whose EndpointSlices list the brokers (label kubernetes.io/service-name).',
  ),
  setting('discovery.kubernetes.labelSelector', labelSelector, '', 'Label selector for the EndpointSlices, instead of a service name.'),
  setting('discovery.kubernetes.mqttPort', portRef(false), 'mqtt', 'Name or number of the MQTT port in the EndpointSlices.'),
  setting(
    'discovery.kubernetes.metricsPort',
    portRef(true),
    'metrics',
    'Name or number of the Prometheus metrics port in the EndpointSlices; empty for none.',
  ),
  setting('discovery.kubernetes.metricsPath', urlPath, '/metrics', "HTTP path of the brokers' Prometheus metrics."),
  setting(
    'discovery.kubernetes.agentPort',
    portRef(true),
    'mqtt-xds-agent',
    'Name or number of the broker agent port in the EndpointSlices (docs/agent-api.md); empty for none.',
  ),
  setting(
    'discovery.kubernetes.websocketPort',
    portRef(true),
    'mqtt-ws',
    "Name or number of the brokers' MQTT-over-WebSocket port in the EndpointSlices (for listener.websocketPort); empty for none.",
  ),
  setting(
    'discovery.kubernetes.drainAnnotation',
    annotationKey,
    'mqtt-xds.io/drain',
    'Pod annotation that drains a broker while its value is "true" (needs pods get/list/watch); empty watches no pods.',
  ),
  setting(
    'discovery.kubernetes.podLabelSelector',
    labelSelector,
    '',
    'Label selector narrowing the pod watch for the drain annotation; empty watches every pod in the namespace.',
  ),
  setting(
    'discovery.kubernetes.drainsConfigMap',
    k8sName(true),
    'mqtt-xds-drains',
    'ConfigMap (broker namespace) where drains asked through the admin API are recorded, so every replica applies them; empty: only the replica asked.',
  ),
];

/** The Lease that picks the one replica doing leader-only work. */
export const LEADER_ELECTION_SETTINGS: readonly Setting[] = [
  setting(
    'leaderElection.leaseName',
    k8sName(true),
    '',
    'coordination.k8s.io Lease for leader election (work only one replica may do); empty turns it off.',
  ),
  setting('leaderElection.namespace', k8sName(true), '', 'Namespace of the Lease; empty uses the broker namespace.'),
  setting(
    'leaderElection.identity',
    leaseIdentity,
    '',
    "This replica's identity in the Lease; empty uses the host name (the pod name in Kubernetes).",
  ),
  setting(
    'leaderElection.leaseDurationMs',
    int(1000, 600_000),
    15_000,
    'How long a lease stays valid without renewal, in milliseconds; a crashed leader is replaced after this.',
  ),
  setting('leaderElection.renewIntervalMs', int(100, 600_000), 5000, 'Time between lease renewals, in milliseconds.'),
];
