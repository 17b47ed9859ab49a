/** Largest sum of weights Envoy accepts per locality (uint32). */
export const MAX_WEIGHT_SUM = 0xffff_ffff;

export type EndpointHealth = 'serving' | 'draining';

export interface PlannedEndpoint {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Where the WebSocket listener sends this broker's clients; absent: not on that listener. */
  readonly websocketPort?: number;
  /** Integer ≥ 1. */
  readonly weight: number;
  readonly health: EndpointHealth;
}

/** What balancing decided: one entry per broker, sorted by name. */
export interface WeightPlan {
  readonly endpoints: readonly PlannedEndpoint[];
}
