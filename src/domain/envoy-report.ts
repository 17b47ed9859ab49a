// What one Envoy says about its connections to the brokers (over LRS, docs/envoy-view.md):
// the seam between xds/, which decodes the reports, and envoy-view/, which adds them up.

/** One upstream endpoint of a cluster that serves the brokers, as one Envoy counted it over one interval. */
export interface EndpointLoad {
  /** `address:port`, as endpointKey writes it. */
  readonly endpoint: string;
  /** Connections this Envoy holds to the endpoint now. */
  readonly inProgress: number;
  /** Connections it opened to the endpoint during the interval. */
  readonly issued: number;
  /**
   * The cluster it counted them in: the MQTT cluster, a tenant's pool or the WebSocket
   * cluster (a broker is an endpoint of each). Absent: the report names no cluster.
   */
  readonly cluster?: string;
}

/** One load report of one Envoy for the MQTT cluster. Endpoints it does not name: 0 and 0. */
export interface EnvoyLoadReport {
  readonly nodeId: string;
  /** The interval Envoy measured the counts over, in milliseconds. */
  readonly intervalMs: number;
  readonly endpoints: readonly EndpointLoad[];
}

/**
 * The key a broker's endpoint is known by on both sides: EDS gives Envoy the broker's
 * address and port, and Envoy reports them back. IPv6 addresses go in brackets, so the port
 * stays unambiguous.
 */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** What the Envoys together say about one broker, as balancing reads it (docs/envoy-view.md). */
export interface EnvoyBrokerLoad {
  /** Connections the reporting Envoys hold to the broker now. */
  readonly connections: number;
  /** New connections per second they opened to it over their last intervals. */
  readonly openedPerSec: number;
  /** Envoys whose fresh reports these numbers add up; 0 = no view. */
  readonly envoys: number;
  /**
   * At most this many more they hold without counting: connections made before their
   * cluster was replaced (a Cluster update). `connections` is then a lower bound.
   */
  readonly uncounted?: number;
  /** Some of them may still count on the old cluster: their count and `uncounted` may overlap. */
  readonly settling?: boolean;
}
