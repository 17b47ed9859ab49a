// The strategies the benchmark compares, each behind the same small Balancer interface.
import type { StrategyName } from '../scenario';
import { startEnvoyBalancer } from './envoy';
import { startHaproxyBalancer } from './haproxy';
import { startNginxBalancer } from './nginx';
import type { Balancer, BalancerContext } from './types';

export type { Balancer, BalancerContext, BrokerAddress, DrainProgress, InstanceView } from './types';

const STARTERS: Record<StrategyName, (ctx: BalancerContext) => Promise<Balancer>> = {
  'envoy-rr': startEnvoyBalancer,
  'envoy-rr-weighted': startEnvoyBalancer,
  'envoy-least-request': startEnvoyBalancer,
  'haproxy-leastconn': startHaproxyBalancer,
  'haproxy-leastconn-weighted': startHaproxyBalancer,
  'nginx-least-conn': startNginxBalancer,
  'nginx-least-conn-weighted': startNginxBalancer,
  'mqtt-xds': startEnvoyBalancer,
  'mqtt-xds-sticky': startEnvoyBalancer,
  'mqtt-xds-sticky-static': startEnvoyBalancer,
  'haproxy-sticky': startHaproxyBalancer,
};

export function startBalancer(ctx: BalancerContext): Promise<Balancer> {
  return STARTERS[ctx.strategy](ctx);
}
