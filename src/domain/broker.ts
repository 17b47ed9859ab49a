/** A broker as discovery sees it. `name` is its stable identity (pod name, file entry). */
export interface Broker {
  readonly name: string;
  /** An IP address: Envoy's EDS needs addresses, so discovery resolves names first. */
  readonly address: string;
  readonly port: number;
  /** The broker's MQTT-over-WebSocket port (HiveMQ's default is 8000); absent: none. */
  readonly websocketPort?: number;
  readonly metricsUrl?: string;
  /** Base URL of the broker's agent (docs/agent-api.md); absent: connections cannot be moved. */
  readonly agentUrl?: string;
  /** An operator-pinned weight; absent means "let the policy decide". */
  readonly staticWeight?: number;
  /** A broker that is going away keeps its connections but gets no new ones. */
  readonly draining?: boolean;
  /** Why discovery marks it draining (e.g. `pod terminating`), for logs and status. */
  readonly drainReason?: string;
  /**
   * Labels a tenant's pool can select by (the policy's `brokerLabels`): the brokers file's
   * `labels`, or from Kubernetes the Service and zone of the broker's EndpointSlice.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A label key and value as Kubernetes writes them: an optional DNS-subdomain prefix and a
 * name of at most 63 characters; a value of at most 63, possibly empty.
 */
export const LABEL = {
  key: /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
  value: /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/,
  allowed: 'Kubernetes label syntax: [prefix/]name of letters, digits, "-", "_" and "." (at most 63), and a value like the name or empty',
} as const;

/**
 * The rule every broker name follows, as discovery writes them (DNS-1123-like, plus "_"):
 * the brokers file, the policy's per-broker keys and the admin API's /drain/<name> all
 * check it. `allowed` phrases it to follow "expected".
 */
export const BROKER_NAME: { readonly pattern: RegExp; readonly allowed: string } = {
  pattern: /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/,
  allowed: 'lower-case letters, digits, "-", "_" and ".", starting and ending with a letter or digit',
};

export function sortBrokers(brokers: readonly Broker[]): Broker[] {
  return [...brokers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
