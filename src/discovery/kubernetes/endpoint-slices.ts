import { isIP } from 'node:net';
import type { Broker } from '../../domain';
import type { Problem } from '../../util/result';

/**
 * The parts of a discovery.k8s.io/v1 EndpointSlice we read. Declared here, so the
 * mapping is pure and testable without the Kubernetes client (an ES module) loaded.
 */
export interface SliceLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly addressType?: string;
  readonly ports?: ReadonlyArray<{
    readonly name?: string;
    readonly port?: number;
    readonly protocol?: string;
    readonly appProtocol?: string;
  }>;
  readonly endpoints?: ReadonlyArray<{
    readonly addresses?: readonly string[];
    readonly zone?: string;
    readonly conditions?: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean };
    readonly targetRef?: { readonly kind?: string; readonly name?: string; readonly namespace?: string };
  }>;
}

/** A port chosen by name (`mqtt`) or by number (`1883`), as Services name them. */
export type PortRef = string | number;

export interface SliceMapping {
  readonly mqttPort: PortRef;
  /** Omit to scrape no metrics. */
  readonly metricsPort?: PortRef;
  readonly metricsPath: string;
  /** The broker agent's port (docs/agent-api.md); omit for none. A slice without it is no error. */
  readonly agentPort?: PortRef;
  /** The brokers' MQTT-over-WebSocket port; omit for none. A slice without it is no error. */
  readonly websocketPort?: PortRef;
}

export interface MappedBrokers {
  readonly brokers: Broker[];
  /** Slices that could not be used, and why; the others still count. */
  readonly problems: Problem[];
}

/**
 * EndpointSlices → brokers. The pod (targetRef) is the identity, so weights and metrics
 * follow the pod, not its IP. Conditions map to Envoy health:
 * - ready → serving;
 * - serving and terminating → draining (no new connections, established ones stay);
 * - anything else (starting, failing readiness, gone) → absent.
 * A pod listed in several slices (an IP-family pair, a slice split) counts once,
 * preferring the ready entry. A pod in `drainingPods` (pod name → why, e.g. its drain
 * annotation) is draining too, ready or not; only pods the slices reference count.
 */
export function brokersFromSlices(
  slices: readonly SliceLike[],
  m: SliceMapping,
  drainingPods: ReadonlyMap<string, string> = new Map(),
): MappedBrokers {
  const problems: Problem[] = [];
  const byName = new Map<string, Broker>();
  const pods = new Set<string>();
  for (const slice of [...slices].sort(bySliceName)) {
    const where = `endpointslices/${slice.metadata?.namespace ?? '?'}/${slice.metadata?.name ?? '?'}`;
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') {
      problems.push({ code: 'K8S_ADDRESS_TYPE', path: where, message: `addressType ${slice.addressType} is not an IP family; skipped` });
      continue;
    }
    const mqtt = findPort(slice, m.mqttPort);
    if (mqtt === undefined) {
      problems.push({
        code: 'K8S_NO_MQTT_PORT',
        path: where,
        message: `no port ${JSON.stringify(m.mqttPort)} among ${describePorts(slice)}; set the MQTT port name or number`,
      });
      continue;
    }
    const metrics = m.metricsPort === undefined ? undefined : findPort(slice, m.metricsPort);
    const agent = m.agentPort === undefined ? undefined : findPort(slice, m.agentPort);
    const websocket = m.websocketPort === undefined ? undefined : findPort(slice, m.websocketPort);
    // A Service port's appProtocol reaches its slices: "https" makes that URL https (an agent serving TLS).
    const metricsScheme = m.metricsPort === undefined ? 'http' : schemeOf(slice, m.metricsPort);
    const agentScheme = m.agentPort === undefined ? 'http' : schemeOf(slice, m.agentPort);
    for (const ep of slice.endpoints ?? []) {
      const address = (ep.addresses ?? []).find((a) => isIP(a) !== 0);
      if (!address) continue;
      const c = ep.conditions ?? {};
      // An unset `ready` means ready (the API's documented default); terminating pods say false.
      const ready = c.ready !== false && c.terminating !== true;
      const draining = !ready && c.serving === true && c.terminating === true;
      if (!ready && !draining) continue;
      const pod = ep.targetRef?.kind === 'Pod' && ep.targetRef.name ? ep.targetRef.name : undefined;
      const name = pod ?? address.replace(/[:.]/g, '-');
      if (pod !== undefined) pods.add(pod);
      const host = isIP(address) === 6 ? `[${address}]` : address;
      const broker: Broker = {
        name,
        address,
        port: mqtt,
        ...(websocket !== undefined ? { websocketPort: websocket } : {}),
        ...(metrics !== undefined ? { metricsUrl: `${metricsScheme}://${host}:${metrics}${m.metricsPath}` } : {}),
        ...(agent !== undefined ? { agentUrl: `${agentScheme}://${host}:${agent}` } : {}),
        ...(draining ? { draining: true, drainReason: 'pod terminating' } : {}),
        ...labelsOf(slice, ep),
      };
      const seen = byName.get(name);
      if (!seen || (seen.draining && !broker.draining)) byName.set(name, broker);
    }
  }
  const brokers = [...byName.values()].map((b) => (pods.has(b.name) ? withPodDrain(b, drainingPods.get(b.name)) : b));
  return { brokers: brokers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), problems };
}

/** What a tenant's pool can select a Kubernetes broker by: its Service, and its zone when the slice says. */
function labelsOf(slice: SliceLike, ep: NonNullable<SliceLike['endpoints']>[number]): { labels?: Record<string, string> } {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  const labels = {
    ...(service === undefined ? {} : { [SERVICE_NAME_LABEL]: service }),
    ...(ep.zone === undefined ? {} : { [ZONE_LABEL]: ep.zone }),
  };
  return Object.keys(labels).length > 0 ? { labels } : {};
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const ZONE_LABEL = 'topology.kubernetes.io/zone';

function withPodDrain(b: Broker, why: string | undefined): Broker {
  if (why === undefined) return b;
  return { ...b, draining: true, drainReason: b.drainReason ? `${b.drainReason}; ${why}` : why };
}

/** Parses a port setting: digits mean a number, anything else a port name. */
export function parsePortRef(text: string): PortRef {
  return /^\d+$/.test(text) ? Number(text) : text;
}

function findPort(slice: SliceLike, ref: PortRef): number | undefined {
  return portEntry(slice, ref)?.port;
}

function portEntry(slice: SliceLike, ref: PortRef): NonNullable<SliceLike['ports']>[number] | undefined {
  return (slice.ports ?? []).find((p) => (typeof ref === 'number' ? p.port === ref : p.name === ref));
}

function schemeOf(slice: SliceLike, ref: PortRef): 'http' | 'https' {
  return portEntry(slice, ref)?.appProtocol?.toLowerCase() === 'https' ? 'https' : 'http';
}

function describePorts(slice: SliceLike): string {
  const ports = (slice.ports ?? []).map((p) => `${p.name ?? '(unnamed)'}=${p.port ?? '?'}`);
  return ports.length > 0 ? ports.join(', ') : 'none';
}

function bySliceName(a: SliceLike, b: SliceLike): number {
  const x = a.metadata?.name ?? '';
  const y = b.metadata?.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
