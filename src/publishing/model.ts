import type { Config, Policy } from '../config';
import { floorStickyWeights, holdStickyWeights, type BrokerDecision, type HoldOutcome } from '../balancing';
import type { Broker, PlannedEndpoint, WeightPlan } from '../domain';
import { deriveLimits, type ConnectionLimits } from '../limits';
import type { PairMaterial } from '../tls';
import type { MqttFilterPolicy, TenantPolicy } from '../config/policy';
import { allowedTopicPrefixes, tenantMqttFilter } from '../config/policy-mqtt-filter';
import type {
  CertificateModel,
  ClusterModel,
  DownstreamTlvSource,
  ListenerModel,
  ListenerTlsModel,
  MqttFilterModel,
  ProxyModel,
  ProxyProtocolModel,
  ProxyTlvModel,
  SanMatch,
  TenantModel,
} from '../translation';
import { parseProxyTlvs, TENANT_TLV_SOURCE, type ProxyTlv } from '../config/proxy-protocol';
import type { Logger } from '../util/log';
import { poolMembers } from './tenant-pools';

/** A sticky cluster's weights as the last build gave them, with the brokers its floor raised (why, by name). */
type ProposedHold = HoldOutcome & { readonly raised: Readonly<Record<string, string>> };
export interface ModelBuilderOptions {
  readonly config: Pick<Config, 'listener' | 'cluster' | 'balancing'>;
  readonly policy: () => Policy;
  readonly logger: Logger;
  /** The MQTT listener's certificate in force; absent or undefined: plaintext MQTT. */
  readonly listenerTls?: () => PairMaterial | undefined;
  /** The discovered brokers: a tenant's pool may select them by label. */
  readonly brokers?: () => readonly Broker[];
  /** A tenant's certificate in force; undefined: the tenant is not served. */
  readonly tenantTls?: (tenant: string) => PairMaterial | undefined;
  /** The MQTT filter's compiled module, asked for only while the policy turns the filter on. */
  readonly mqttFilterModule?: () => { readonly base64: string; readonly sha256: string } | undefined;
  /** Sticky placement: the ids the rebalancer moved, as the filter's saltedIds value ('' for none). */
  readonly stickySalts?: () => string;
}

/** `URI:urn:device:*,DNS:gw.example.com` → matchers; the setting's pattern has checked the form. */
export function sanMatches(setting: string): SanMatch[] {
  if (setting === '') return [];
  return setting.split(',').map((entry) => {
    const colon = entry.indexOf(':');
    const kind = entry.slice(0, colon);
    const raw = entry.slice(colon + 1);
    const prefix = raw.endsWith('*');
    return { type: kind === 'IP' ? 'IP_ADDRESS' : (kind as SanMatch['type']), value: prefix ? raw.slice(0, -1) : raw, prefix };
  });
}

/**
 * The PROXY header for a cluster from the cluster.proxyProtocol settings (checked at load);
 * %TENANT% becomes the tenant's name on its cluster and is left out elsewhere.
 */
export function proxyProtocolModel(
  setting: { readonly version: 'off' | 'v1' | 'v2'; readonly tlvs: readonly ProxyTlv[] },
  tenant: string | undefined,
  tenantTlvs: readonly ProxyTlv[] = [],
): ProxyProtocolModel | undefined {
  if (setting.version === 'off') return undefined;
  if (setting.version === 'v1') return { version: 'V1', tlvs: [] };
  const own = new Set(tenantTlvs.map((t) => t.type));
  const tlvs: ProxyTlvModel[] = [];
  for (const t of [...setting.tlvs.filter((x) => !own.has(x.type)), ...tenantTlvs]) {
    if ('value' in t) tlvs.push(t);
    else if (t.source !== TENANT_TLV_SOURCE) tlvs.push({ type: t.type, source: t.source });
    else if (tenant !== undefined) tlvs.push({ type: t.type, value: tenant });
  }
  return { version: 'V2', tlvs };
}

/** The client-connection values the TLVs read, in the order they are first named. */
export function tlvSourcesOf(tlvs: readonly ProxyTlv[]): DownstreamTlvSource[] {
  const sources: DownstreamTlvSource[] = [];
  for (const t of tlvs) {
    if ('source' in t && t.source !== TENANT_TLV_SOURCE && !sources.includes(t.source)) sources.push(t.source);
  }
  return sources;
}

/** Sticky placement hashes the client id with Maglev; otherwise the setting's weighted policy. */
function lbPolicyFor(filter: MqttFilterModel | undefined, weighted: ClusterModel['lbPolicy']): ClusterModel['lbPolicy'] {
  return filter?.placement === 'sticky' ? 'MAGLEV' : weighted;
}

/** A tenant's chain, filters and secrets are named under this. */
export const tenantChainName = (listenerName: string, tenant: string): string => `${listenerName}.tenant.${tenant}`;
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
  private websocketWarned = false;
  /** Settings do not change while running: parsed once, not on every plan. */
  private readonly clientSans: SanMatch[];
  /** A tenant's SANs, parsed once per policy version (a policy is frozen, so its objects are stable). */
  private readonly tenantSanCache = new WeakMap<TenantPolicy, SanMatch[]>();
  /** A tenant's own PROXY TLVs, parsed once per policy version like its SANs. */
  private readonly tenantTlvCache = new WeakMap<TenantPolicy, ProxyTlv[]>();
  /**
   * Sticky clusters in metrics mode: the endpoints each was last given, by cluster name; its
   * weights change only past the policy's mqttFilter.stickyWeightBand (balancing/sticky-hold.ts).
   */
  private held = new Map<string, readonly PlannedEndpoint[]>();
  /** What the last build would hold, taken as held by committed() once its snapshot is out. */
  private proposed: Map<string, ProposedHold> | undefined;
  /** cluster.proxyProtocol, parsed once (its problems were reported when the config was loaded). */
  private readonly proxy: { readonly version: 'off' | 'v1' | 'v2'; readonly tlvs: readonly ProxyTlv[] };

  constructor(private readonly opts: ModelBuilderOptions) {
    this.clientSans = sanMatches(opts.config.listener.tls.clientSubjectAltNames);
    const pp = opts.config.cluster.proxyProtocol;
    this.proxy = { version: pp.version, tlvs: pp.version === 'v2' ? parseProxyTlvs(pp.tlvs, 'cluster.proxyProtocol.tlvs').tlvs : [] };
  }

  /**
   * `decisions` (metrics mode) name the brokers cut for overload, whose cuts a sticky cluster
   * takes at once. What each sticky cluster is given counts as held only after committed(): a
   * model whose snapshot is refused leaves the weights held before it.
   */
  build(plan: WeightPlan, decisions: readonly BrokerDecision[] = []): ProxyModel {
    const { listener, cluster, balancing } = this.opts.config;
    // Cut hard for overload: a sticky cluster takes the cut at once. One held to its fair share at
    // a threshold waits for the band like any change (the floor keeps it near that share anyway).
    const overloaded = new Set(decisions.filter((d) => d.overloadSevere === true).map((d) => d.name));
    const proposed = new Map<string, ProposedHold>();
    // Circuit breakers, connection rate and duration from the policy's limits section
    // (src/limits); cluster.* settings are the fallback while capacities are unknown.
    const limits = deriveLimits({ policy: this.opts.policy(), plan, fallback: cluster });
    if (limits.why !== this.limitsWhy) {
      this.limitsWhy = limits.why;
      this.opts.logger.info('connection limits derived', { why: limits.why, listener: limits.listener, cluster: limits.cluster });
    }
    this.lastLimits = limits;
    const { tls: tlsFiles, websocketPort, mqttFilter: _module, ...plain } = listener;
    const policy = this.opts.policy();
    const mqttFilter = this.mqttFilter(policy.mqttFilter);
    const material = this.opts.listenerTls?.();
    const secretName = listenerSecretName(listener.name);
    const caName = clientCaSecretName(listener.name);
    const minVersion: ListenerTlsModel['minVersion'] = tlsFiles.minVersion === '1.3' ? 'TLSv1_3' : 'TLSv1_2';
    const tlvSources = tlvSourcesOf(this.proxy.tlvs);
    const mqttListener: ListenerModel = {
      ...plain,
      clusterName: cluster.name,
      ...(tlvSources.length > 0 ? { tlvSources } : {}),
      ...limits.listener,
      ...(mqttFilter ? { mqttFilter } : {}),
      ...(material ? { tls: { secretName, minVersion, ...(material.ca === undefined ? {} : { clientCaSecretName: caName }) } } : {}),
    };
    const { proxyProtocol: _setting, ...clusterSettings } = cluster;
    const proxyProtocol = proxyProtocolModel(this.proxy, undefined);
    const brokerCluster: ClusterModel = {
      ...clusterSettings,
      lbPolicy: lbPolicyFor(mqttFilter, balancing.lbPolicy),
      ...limits.cluster,
      ...(proxyProtocol ? { proxyProtocol } : {}),
    };
    const clusterPlan = this.hold(cluster.name, policy.mqttFilter, plan, { decisions, overloaded }, proposed);
    const tenants = this.tenants(policy.tenants, plan, mqttListener, brokerCluster, minVersion, (name, filter, tenantPlan) =>
      this.hold(name, filter, tenantPlan, { decisions, overloaded }, proposed),
    );
    // A sticky cluster the model no longer has (or no longer holds) is forgotten on commit.
    this.proposed = proposed;
    // Without a certificate of its own the listener has no chain for names no tenant has.
    const defaultChain = tenants.models.length === 0 || (material !== undefined && policy.unknownServerName === 'default');
    const websocket = websocketPort > 0 ? this.websocket(plan, mqttListener, brokerCluster, websocketPort, tenants.models) : undefined;
    return {
      listener: mqttListener,
      cluster: brokerCluster,
      plan: clusterPlan,
      ...(websocket ? { websocket } : {}),
      ...(tenants.models.length > 0 ? { tenants: tenants.models, defaultChain } : {}),
      ...((material && defaultChain) || tenants.certificates.length > 0
        ? {
            certificates: [
              ...(material && defaultChain
                ? [
                    { name: secretName, certificateChain: material.pair.certChain, privateKey: material.pair.privateKey },
                    ...(material.ca === undefined ? [] : [{ name: caName, trustedCa: material.ca, subjectAltNames: this.clientSans }]),
                  ]
                : []),
              ...tenants.certificates,
            ],
          }
        : {}),
    };
  }

  /**
   * One chain per tenant whose certificate is good, in name order: the listener's settings
   * under the tenant's names, its own limits, and a cluster of its pool's brokers with the
   * weights the plan gives them. Without a good certificate a tenant is left out.
   */
  private tenants(
    specs: Readonly<Record<string, TenantPolicy>>,
    plan: WeightPlan,
    listener: ListenerModel,
    cluster: ClusterModel,
    minVersion: ListenerTlsModel['minVersion'],
    hold: (cluster: string, filter: MqttFilterPolicy, plan: WeightPlan) => WeightPlan,
  ): { models: TenantModel[]; certificates: CertificateModel[] } {
    const models: TenantModel[] = [];
    const certificates: CertificateModel[] = [];
    for (const name of Object.keys(specs).sort()) {
      const spec = specs[name];
      const material = this.opts.tenantTls?.(name);
      if (!material) continue;
      const chain = tenantChainName(listener.name, name);
      const secretName = listenerSecretName(chain);
      const caName = clientCaSecretName(chain);
      const pool = poolMembers(spec, this.opts.brokers?.() ?? []);
      const clusterName = `${cluster.name}.${name}`;
      const { perSec, burst } = spec.connectRate ?? { perSec: 'off', burst: 'auto' };
      const { connectRate: _shared, mqttFilter: _listenerFilter, tlvSources: _sources, ...rest } = listener;
      const filterPolicy = tenantMqttFilter(this.opts.policy().mqttFilter, spec.mqttFilter);
      const mqttFilter = this.mqttFilter(filterPolicy, name);
      // The chain keeps every client value its cluster's TLVs read: the setting's and the tenant's own.
      const tlvSources = tlvSourcesOf([...this.proxy.tlvs, ...this.tenantTlvs(name, spec)]);
      models.push({
        name,
        serverNames: spec.serverNames,
        listener: {
          ...rest,
          name: chain,
          clusterName,
          ...(this.proxy.version === 'v2' && tlvSources.length > 0 ? { tlvSources } : {}),
          ...(perSec === 'off' ? {} : { connectRate: { perSec, burst: burst === 'auto' ? perSec : burst } }),
          ...(spec.maxConnections === undefined ? {} : { maxConnections: spec.maxConnections }),
          ...(mqttFilter ? { mqttFilter } : {}),
          tls: { secretName, minVersion, ...(material.ca === undefined ? {} : { clientCaSecretName: caName }) },
        },
        cluster: this.tenantCluster(
          { ...cluster, lbPolicy: lbPolicyFor(mqttFilter, this.opts.config.balancing.lbPolicy) },
          clusterName,
          name,
          spec,
        ),
        plan: hold(clusterName, filterPolicy, { ...plan, endpoints: plan.endpoints.filter((e) => pool === undefined || pool.has(e.name)) }),
      });
      certificates.push({ name: secretName, certificateChain: material.pair.certChain, privateKey: material.pair.privateKey });
      if (material.ca !== undefined) {
        certificates.push({
          name: caName,
          trustedCa: material.ca,
          subjectAltNames: this.tenantSans(spec),
        });
      }
    }
    return { models, certificates };
  }

  /** The shared cluster's settings under the tenant's name; %TENANT% TLVs carry that name. */
  private tenantCluster(cluster: ClusterModel, name: string, tenant: string, spec: TenantPolicy): ClusterModel {
    const { proxyProtocol: _shared, ...rest } = cluster;
    const proxyProtocol = proxyProtocolModel(this.proxy, tenant, this.tenantTlvs(tenant, spec));
    return { ...rest, name, ...(proxyProtocol ? { proxyProtocol } : {}) };
  }

  private tenantTlvs(tenant: string, spec: TenantPolicy): ProxyTlv[] {
    let own = this.tenantTlvCache.get(spec);
    if (own === undefined) {
      own = (spec.proxyTlvs ?? []).flatMap((entry) => parseProxyTlvs(entry, `tenants.${tenant}.proxyTlvs`).tlvs);
      this.tenantTlvCache.set(spec, own);
    }
    return own;
  }

  /**
   * The snapshot built from the last model went out (or was the one out already): what its
   * sticky clusters were given is now what they hold. Not called for a refused snapshot.
   */
  committed(): void {
    const proposed = this.proposed;
    if (proposed === undefined) return;
    this.proposed = undefined;
    this.held = new Map([...proposed].map(([cluster, out]) => [cluster, out.endpoints]));
    for (const [cluster, out] of proposed) {
      if (out.took === undefined) continue;
      this.opts.logger.info('sticky weights taken', {
        cluster,
        why: out.took,
        weights: Object.fromEntries(out.endpoints.map((e) => [e.name, e.weight])),
        ...(Object.keys(out.raised).length > 0 ? { raisedToFloor: out.raised } : {}),
      });
    }
  }

  /**
   * The plan a cluster is given: in metrics mode a sticky cluster keeps its last weights while
   * the computed ones stay within the band; every other cluster follows the plan as it is.
   */
  private hold(
    cluster: string,
    filter: MqttFilterPolicy,
    plan: WeightPlan,
    balanced: { readonly decisions: readonly BrokerDecision[]; readonly overloaded: ReadonlySet<string> },
    proposed: Map<string, ProposedHold>,
  ): WeightPlan {
    if (!filter.enabled || filter.placement !== 'sticky' || this.opts.config.balancing.mode !== 'metrics') return plan;
    // Floored first, so the band compares the weights Envoy would be given.
    const floored = floorStickyWeights(plan.endpoints, balanced.decisions, filter.stickyHeldFloor);
    const overloaded = balanced.overloaded;
    const out = holdStickyWeights(this.held.get(cluster), floored.endpoints, { bandRatio: filter.stickyWeightBand, overloaded });
    proposed.set(cluster, { ...out, raised: floored.raised });
    return out.endpoints === plan.endpoints ? plan : { ...plan, endpoints: out.endpoints };
  }

  /** The filter's model while the policy turns it on; the module only then. */
  private mqttFilter(p: MqttFilterPolicy, tenant?: string): MqttFilterModel | undefined {
    if (!p.enabled) return undefined;
    const module = this.opts.mqttFilterModule?.();
    const salted = p.placement === 'sticky' ? (this.opts.stickySalts?.() ?? '') : '';
    return {
      maxConnectBytes: p.maxConnectBytes,
      maxClientIdBytes: p.maxClientIdBytes,
      firstPacketTimeoutMs: p.firstPacketTimeoutMs,
      placement: p.placement,
      inspectPublish: p.inspectPublish,
      maxPublishPayloadBytes: p.maxPublishPayloadBytes,
      topicPrefixes: allowedTopicPrefixes(p),
      ...(tenant === undefined ? {} : { tenant }),
      ...(salted !== '' ? { saltedIds: salted } : {}),
      ...(module ? { module: { base64: module.base64, sha256: module.sha256 } } : {}),
    };
  }

  private tenantSans(spec: TenantPolicy): SanMatch[] {
    let sans = this.tenantSanCache.get(spec);
    if (sans === undefined) {
      sans = (spec.clientSubjectAltNames ?? []).flatMap((s) => sanMatches(s));
      this.tenantSanCache.set(spec, sans);
    }
    return sans;
  }

  /**
   * The WebSocket listener and its cluster: the MQTT listener's settings (TLS, limits) on
   * another port, to the brokers' websocket ports, checked by TCP connect. Without any
   * broker that has a websocket port there is nothing to send clients to: left out, once
   * warned. Each SNI tenant gets a chain here too, with its certificate (the same SDS
   * Secrets as its MQTT chain), its limits (counted per listener) and a cluster of its
   * pool's websocket ports.
   */
  private websocket(
    plan: WeightPlan,
    listener: ListenerModel,
    cluster: ClusterModel,
    port: number,
    tenants: readonly TenantModel[],
  ): ProxyModel['websocket'] {
    if (!plan.endpoints.some((e) => e.websocketPort !== undefined)) {
      if (!this.websocketWarned) {
        this.websocketWarned = true;
        this.opts.logger.warn('listener.websocketPort is set, but no broker has a websocketPort: no WebSocket listener until one does');
      }
      return undefined;
    }
    this.websocketWarned = false;
    const name = `${cluster.name}_ws`;
    const listenerName = `${listener.name}_ws`;
    // No MQTT filter here: the first bytes are an HTTP upgrade, which it would refuse as not MQTT;
    // and with no filter to set a client id, the clusters stay weighted.
    const weighted = this.opts.config.balancing.lbPolicy;
    const wsTenants = tenants.map((t): TenantModel => {
      const clusterName = `${name}.${t.name}`;
      const { mqttFilter: _tenantFilter, ...tenantListener } = t.listener;
      // The tenant's pool with the plan's weights: a held sticky plan is for its MQTT cluster only.
      const pool = new Set(t.plan.endpoints.map((e) => e.name));
      return {
        ...t,
        plan: { ...plan, endpoints: plan.endpoints.filter((e) => pool.has(e.name)) },
        listener: { ...tenantListener, name: tenantChainName(listenerName, t.name), port, clusterName },
        cluster: { ...t.cluster, name: clusterName, lbPolicy: weighted, healthCheck: { ...t.cluster.healthCheck, kind: 'tcp' } },
      };
    });
    const { mqttFilter: _filter, ...plain } = listener;
    return {
      listener: { ...plain, name: listenerName, port, clusterName: name },
      cluster: { ...cluster, name, lbPolicy: weighted, healthCheck: { ...cluster.healthCheck, kind: 'tcp' } },
      plan,
      ...(wsTenants.length > 0 ? { tenants: wsTenants } : {}),
    };
  }

  /** The limits in the last model built; undefined before the first. */
  status(): ConnectionLimits | undefined {
    return this.lastLimits;
  }
}
