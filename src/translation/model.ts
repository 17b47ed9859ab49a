import type { WeightPlan } from '../domain';

/** Listener settings; these change almost never, and every change drains the listener. */
export interface ListenerModel {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** The longest MQTT keep-alive the deployment supports; the idle timeout is 1.5× this. */
  readonly maxKeepAliveSec: number;
  readonly clusterName: string;
}

export interface HealthCheckModel {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

export interface ClusterModel {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly maxConnections: number;
  readonly perHostMaxConnections: number;
  readonly healthCheck: HealthCheckModel;
  /** Both honour endpoint weights; LEAST_REQUEST also looks at this Envoy's active connections. */
  readonly lbPolicy: 'ROUND_ROBIN' | 'LEAST_REQUEST';
}

/** Everything translation needs for one proxy configuration. */
export interface ProxyModel {
  readonly listener: ListenerModel;
  readonly cluster: ClusterModel;
  readonly plan: WeightPlan;
}
