import { buildResources, validateResources, type ProxyModel, type TenantModel } from '../../../src/translation';
import { listenerSecretName } from '../../../src/publishing';
import { model, plan } from './fixtures';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

function tenant(name: string, serverNames: string[], pool: string[], extra: Partial<TenantModel['listener']> = {}): TenantModel {
  const base = model();
  const chain = `mqtt.tenant.${name}`;
  return {
    name,
    serverNames,
    listener: {
      ...base.listener,
      name: chain,
      clusterName: `mqtt_brokers.${name}`,
      tls: { secretName: listenerSecretName(chain), minVersion: 'TLSv1_2' },
      ...extra,
    },
    cluster: { ...base.cluster, name: `mqtt_brokers.${name}` },
    plan: { endpoints: plan.endpoints.filter((e) => pool.includes(e.name)) },
  };
}

function tenantsModel(tenants: TenantModel[], defaultChain = true): ProxyModel {
  const m = model();
  const name = listenerSecretName(m.listener.name);
  return {
    ...m,
    listener: { ...m.listener, tls: { secretName: name, minVersion: 'TLSv1_2' } },
    tenants,
    defaultChain,
    certificates: [
      { name, certificateChain: CERT, privateKey: KEY },
      ...tenants.map((t) => ({ name: t.listener.tls.secretName, certificateChain: CERT, privateKey: KEY })),
    ],
  };
}

const acme = tenant('acme', ['mqtt.acme.example.com', '*.acme.example.com'], ['broker-a'], { maxConnections: 100 });
const beta = tenant('beta', ['mqtt.beta.example.com'], ['broker-b', 'broker-c']);

describe('SNI tenants: a filter chain, a cluster and filters of their own each', () => {
  it('gives each tenant a chain matched on its server names, beside the default chain, and validates', () => {
    const set = buildResources(tenantsModel([acme, beta]));
    expect(validateResources(set)).toEqual([]);
    const chains = set.listeners[0].filter_chains ?? [];
    expect(chains.map((c) => c.filter_chain_match?.server_names ?? 'default')).toEqual([
      'default',
      ['mqtt.acme.example.com', '*.acme.example.com'],
      ['mqtt.beta.example.com'],
    ]);
    expect(chains[1].filters?.map((f) => f.name)).toEqual([
      'mqtt.tenant.acme.connection_limit',
      'mqtt.tenant.acme.connect_rate_limit',
      'mqtt.tenant.acme.tcp_proxy',
    ]);
    expect(set.listeners[0].listener_filters?.map((f) => f.name)).toEqual(['envoy.filters.listener.tls_inspector']);
  });

  it('sends each tenant to its own cluster holding only its pool, with the plan weights', () => {
    const set = buildResources(tenantsModel([acme, beta]));
    expect(set.clusters.map((c) => c.name)).toEqual(['mqtt_brokers', 'mqtt_brokers.acme', 'mqtt_brokers.beta']);
    const endpointsOf = (cluster: string) =>
      set.endpoints
        .find((e) => e.cluster_name === cluster)
        ?.endpoints?.flatMap((l) => l.lb_endpoints?.map((e) => e.load_balancing_weight?.value));
    expect(endpointsOf('mqtt_brokers.acme')).toEqual([1]);
    expect(endpointsOf('mqtt_brokers.beta')).toEqual([2, 5]);
    const proxy = set.extensionConfigs.find((c) => c.name === 'mqtt.tenant.beta.tcp_proxy')?.typed_config as { cluster?: string };
    expect(proxy.cluster).toBe('mqtt_brokers.beta');
  });

  it('limits a tenant per Envoy with connection_limit, switched off while it has no limit', () => {
    const set = buildResources(tenantsModel([acme, beta]));
    const limit = (name: string) =>
      set.extensionConfigs.find((c) => c.name === `mqtt.tenant.${name}.connection_limit`)?.typed_config as any;
    expect(limit('acme')).toMatchObject({ max_connections: { value: 100 }, runtime_enabled: { default_value: { value: true } } });
    expect(limit('beta')).toMatchObject({ runtime_enabled: { default_value: { value: false } } });
  });

  it('leaves the default chain out when unknown server names are refused', () => {
    const chains = buildResources(tenantsModel([acme], false)).listeners[0].filter_chains ?? [];
    expect(chains.map((c) => c.name)).toEqual(['mqtt.tenant.acme']);
  });

  it("changes neither another tenant's chain nor the default chain when one tenant is added or its limits change", () => {
    const before = buildResources(tenantsModel([acme])).listeners[0];
    const after = buildResources(tenantsModel([{ ...acme, listener: { ...acme.listener, maxConnections: 5 } }, beta])).listeners[0];
    const { filter_chains: a, ...restBefore } = before;
    const { filter_chains: b, ...restAfter } = after;
    expect(restAfter).toEqual(restBefore);
    expect(b?.slice(0, 2)).toEqual(a);
  });
});

describe('SNI tenants on the WebSocket listener', () => {
  const wsTenant = (t: TenantModel): TenantModel => ({
    ...t,
    listener: { ...t.listener, name: `mqtt_ws.tenant.${t.name}`, port: 8000, clusterName: `mqtt_brokers_ws.${t.name}` },
    cluster: { ...t.cluster, name: `mqtt_brokers_ws.${t.name}`, healthCheck: { ...t.cluster.healthCheck, kind: 'tcp' } },
  });
  const withWebsocket = (defaultChain: boolean): ProxyModel => {
    const m = tenantsModel([acme, beta], defaultChain);
    return {
      ...m,
      // Without the default chain the model builder sends no listener certificate.
      certificates: (m.certificates ?? []).filter((c) => defaultChain || c.name !== listenerSecretName(m.listener.name)),
      plan: { endpoints: m.plan.endpoints.map((e) => ({ ...e, websocketPort: e.port + 1000 })) },
      tenants: (m.tenants ?? []).map((t) => ({
        ...t,
        plan: { endpoints: t.plan.endpoints.map((e) => ({ ...e, websocketPort: e.port + 1000 })) },
      })),
      websocket: {
        listener: { ...m.listener, name: 'mqtt_ws', port: 8000, clusterName: 'mqtt_brokers_ws' },
        cluster: { ...m.cluster, name: 'mqtt_brokers_ws' },
        tenants: [wsTenant(acme), wsTenant(beta)].map((t) => ({
          ...t,
          plan: { endpoints: t.plan.endpoints.map((e) => ({ ...e, websocketPort: e.port + 1000 })) },
        })),
      },
    };
  };

  it("gives each tenant a chain on the ws listener with the tenant's certificate, its own filters and its pool's websocket ports", () => {
    const set = buildResources(withWebsocket(true));
    expect(validateResources(set)).toEqual([]);
    const ws = set.listeners.find((l) => l.name === 'mqtt_ws')!;
    const chains = ws.filter_chains ?? [];
    expect(chains.map((c) => c.name ?? 'default')).toEqual(['default', 'mqtt_ws.tenant.acme', 'mqtt_ws.tenant.beta']);
    expect(chains[1].filter_chain_match?.server_names).toEqual(['mqtt.acme.example.com', '*.acme.example.com']);
    // The same SDS certificate as the tenant's MQTT chain: one Secret, rotated once for both.
    const sdsName = (c: (typeof chains)[number]): unknown =>
      JSON.stringify(c.transport_socket).match(/"name":"([^"]+server_certificate)"/)?.[1];
    expect(sdsName(chains[1])).toBe(listenerSecretName('mqtt.tenant.acme'));
    expect(chains[1].filters?.map((f) => f.name)).toEqual([
      'mqtt_ws.tenant.acme.connection_limit',
      'mqtt_ws.tenant.acme.connect_rate_limit',
      'mqtt_ws.tenant.acme.tcp_proxy',
    ]);
    const cla = set.endpoints.find((e) => e.cluster_name === 'mqtt_brokers_ws.beta')!;
    const ports = (cla.endpoints ?? []).flatMap((l) => (l.lb_endpoints ?? []).map((e) => e.endpoint?.address?.socket_address?.port_value));
    expect(ports.sort()).toEqual(beta.plan.endpoints.map((e) => e.port + 1000).sort());
    expect(set.clusters.map((c) => c.name)).toEqual(expect.arrayContaining(['mqtt_brokers_ws.acme', 'mqtt_brokers_ws.beta']));
  });

  it('leaves the default chain out of the ws listener too when unknown server names are refused', () => {
    const set = buildResources(withWebsocket(false));
    expect(validateResources(set)).toEqual([]);
    const ws = set.listeners.find((l) => l.name === 'mqtt_ws')!;
    expect((ws.filter_chains ?? []).map((c) => c.name)).toEqual(['mqtt_ws.tenant.acme', 'mqtt_ws.tenant.beta']);
    expect(set.extensionConfigs.map((c) => c.name)).not.toContain('mqtt_ws.tcp_proxy');
  });
});
