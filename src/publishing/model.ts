import type { Config, Policy } from '../config';
import type { WeightPlan } from '../domain';
import { deriveLimits, type ConnectionLimits } from '../limits';
import type { PairMaterial } from '../tls';
import type { ProxyModel } from '../translation';
import type { Logger } from '../util/log';

export interface ModelBuilderOptions {
  readonly config: Pick<Config, 'listener' | 'cluster' | 'balancing'>;
  readonly policy: () => Policy;
  readonly logger: Logger;
  /** The MQTT listener's certificate in force; absent or undefined: plaintext MQTT. */
  readonly listenerTls?: () => PairMaterial | undefined;
}

/** The SDS name of the MQTT listener's certificate. */
export const listenerSecretName = (listenerName: string): string => `${listenerName}.server_certificate`;
/** The SDS name of the CA bundle client certificates must chain to (mTLS). */
export const clientCaSecretName = (listenerName: string): string => `${listenerName}.client_ca`;

/**
 * Weight plan + policy + settings → the model translation builds Envoy resources from.
 * Remembers the limits it derived last, for /status, and logs only when their reason changes.
 */
export class ModelBuilder {
  private limitsWhy = '';
  private lastLimits: ConnectionLimits | undefined;

  constructor(private readonly opts: ModelBuilderOptions) {}

  build(plan: WeightPlan): ProxyModel {
    const { listener, cluster, balancing } = this.opts.config;
    // Circuit breakers, connection rate and duration from the policy's limits section
    // (src/limits); cluster.* settings are the fallback while capacities are unknown.
    const limits = deriveLimits({ policy: this.opts.policy(), plan, fallback: cluster });
    if (limits.why !== this.limitsWhy) {
      this.limitsWhy = limits.why;
      this.opts.logger.info('connection limits derived', { why: limits.why, listener: limits.listener, cluster: limits.cluster });
    }
    this.lastLimits = limits;
    const { tls: tlsFiles, ...plain } = listener;
    const material = this.opts.listenerTls?.();
    const secretName = listenerSecretName(listener.name);
    const caName = clientCaSecretName(listener.name);
    const minVersion = tlsFiles.minVersion === '1.3' ? 'TLSv1_3' : 'TLSv1_2';
    return {
      listener: {
        ...plain,
        clusterName: cluster.name,
        ...limits.listener,
        ...(material ? { tls: { secretName, minVersion, ...(material.ca === undefined ? {} : { clientCaSecretName: caName }) } } : {}),
      },
      cluster: { ...cluster, lbPolicy: balancing.lbPolicy, ...limits.cluster },
      plan,
      ...(material
        ? {
            certificates: [
              { name: secretName, certificateChain: material.pair.certChain, privateKey: material.pair.privateKey },
              ...(material.ca === undefined ? [] : [{ name: caName, trustedCa: material.ca }]),
            ],
          }
        : {}),
    };
  }

  /** The limits in the last model built; undefined before the first. */
  status(): ConnectionLimits | undefined {
    return this.lastLimits;
  }
}
