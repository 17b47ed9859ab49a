import { Registry } from 'prom-client';
import type { TenantPolicy } from '../../../src/config/policy';
import type { Broker } from '../../../src/domain';
import { poolMembers, tenantPools, TenantPoolWatch } from '../../../src/publishing';
import { createLogger } from '../../../src/util/log';

const broker = (name: string): Broker => ({ name, address: '10.0.0.1', port: 1883 });
const tenant = (brokers?: string[]): TenantPolicy => ({
  serverNames: ['mqtt.example.test'],
  certFile: '/tls/tls.crt',
  keyFile: '/tls/tls.key',
  ...(brokers === undefined ? {} : { brokers }),
});

describe('tenant pools against the discovered brokers', () => {
  it('counts the known brokers of each pool and names the unknown ones', () => {
    const pools = tenantPools({ acme: tenant(['a', 'typo']), beta: tenant(['x']), all: tenant() }, [broker('a'), broker('b')]);
    expect(pools).toEqual({
      acme: { brokers: 1, unknown: ['typo'] },
      all: { brokers: 2 },
      beta: { brokers: 0, unknown: ['x'] },
    });
  });

  it('selects a pool by label: the brokers carrying every label it asks for', () => {
    const gold = { ...broker('g1'), labels: { tier: 'gold', zone: 'a' } };
    const gold2 = { ...broker('g2'), labels: { tier: 'gold', zone: 'b' } };
    const plain = broker('p');
    const spec = { ...tenant(), brokerLabels: { tier: 'gold' } };
    expect([...poolMembers(spec, [gold, gold2, plain])!]).toEqual(['g1', 'g2']);
    expect([...poolMembers({ ...spec, brokerLabels: { tier: 'gold', zone: 'b' } }, [gold, gold2, plain])!]).toEqual(['g2']);
    expect(poolMembers(tenant(), [plain])).toBeUndefined();
    expect(tenantPools({ acme: spec }, [plain])).toEqual({ acme: { brokers: 0 } });
  });

  it('warns once per change, exports the gauge, and says nothing for complete pools', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const registry = new Registry();
    let brokers = [broker('a')];
    const watch = new TenantPoolWatch({
      logger: createLogger('info', {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
      registry,
      tenants: () => ({ acme: tenant(['a', 'b']) }),
      brokers: () => brokers,
    });
    watch.check();
    watch.check();
    expect(lines.map((l) => l.msg)).toEqual(['tenant acme: its pool names brokers discovery does not know; they are left out']);
    expect(lines[0].unknown).toEqual(['b']);
    expect(await registry.metrics()).toContain('mqtt_xds_tenant_pool_brokers{tenant="acme"} 1');
    brokers = [];
    watch.check();
    expect(lines.at(-1)?.msg).toBe('tenant acme: no broker of its pool is known; its clients are refused until one is');
    expect(await registry.metrics()).toContain('mqtt_xds_tenant_pool_brokers{tenant="acme"} 0');
    brokers = [broker('a'), broker('b')];
    watch.check();
    expect(lines).toHaveLength(2);
    expect(watch.status()).toEqual({ acme: { brokers: 2 } });
  });
});
