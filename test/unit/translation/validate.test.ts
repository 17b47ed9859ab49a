import { buildResources, validateResources, type ResourceSet } from '../../../src/translation';
import { MAX_WEIGHT_SUM } from '../../../src/domain';
import { model, plan } from './fixtures';

const codes = (set: ResourceSet): string[] => validateResources(set).map((p) => p.code);

describe('validateResources', () => {
  it('accepts what the builders produce', () => {
    expect(validateResources(buildResources(model()))).toEqual([]);
  });

  it('refuses weights whose sum overflows uint32, naming the locality', () => {
    const big = Math.floor(MAX_WEIGHT_SUM / 2) + 1;
    const set = buildResources(model({ plan: { endpoints: plan.endpoints.slice(0, 2).map((e) => ({ ...e, weight: big })) } }));
    const problems = validateResources(set);
    expect(problems.map((p) => p.code)).toEqual(['WEIGHT_SUM']);
    expect(problems[0].path).toBe('endpoints[0].endpoints[0]');
  });

  it('refuses a zero or fractional weight with the path of the endpoint', () => {
    const set = buildResources(
      model({
        plan: {
          endpoints: [
            { ...plan.endpoints[0], weight: 0 },
            { ...plan.endpoints[1], weight: 1.5 },
          ],
        },
      }),
    );
    const problems = validateResources(set);
    expect(problems.map((p) => p.path)).toEqual([
      'endpoints[0].endpoints[0].lb_endpoints[0].load_balancing_weight',
      'endpoints[0].endpoints[0].lb_endpoints[1].load_balancing_weight',
    ]);
  });

  it('refuses an empty broker set', () => {
    expect(codes(buildResources(model({ plan: { endpoints: [] } })))).toEqual(['EDS_EMPTY']);
  });

  it('refuses an EDS cluster without its assignment and an orphan assignment', () => {
    const set = buildResources(model());
    expect(codes({ ...set, endpoints: [] })).toEqual(['EDS_MISSING']);
    expect(codes({ ...set, endpoints: [...set.endpoints, { ...set.endpoints[0], cluster_name: 'other' }] })).toEqual(['EDS_ORPHAN']);
  });

  it('refuses a listener that proxies to an unknown cluster', () => {
    const m = model();
    const set = buildResources({ ...m, listener: { ...m.listener, clusterName: 'nope' } });
    expect(codes(set)).toEqual(['LISTENER_CLUSTER']);
  });

  it('refuses a tcp_proxy config over ECDS that proxies to an unknown cluster, naming the config', () => {
    const m = model();
    const problems = validateResources(buildResources({ ...m, listener: { ...m.listener, clusterName: 'nope' } }));
    expect(problems.map((p) => p.path)).toEqual(['extensionConfigs[1].typed_config.cluster']);
  });

  it('refuses a listener filter whose ECDS config is missing, and a config no filter names', () => {
    const set = buildResources(model());
    const [rate, proxy] = set.extensionConfigs;
    const missing = validateResources({ ...set, extensionConfigs: [proxy] });
    expect(missing.map((p) => [p.code, p.path])).toEqual([['ECDS_MISSING', 'listeners[0].filter_chains[0].filters[0].name']]);
    expect(codes({ ...set, extensionConfigs: [rate, proxy, { ...rate, name: 'spare' }] })).toEqual(['ECDS_ORPHAN']);
  });

  it('refuses an ECDS config of a type the listener does not accept for that filter', () => {
    const set = buildResources(model());
    const [rate, proxy] = set.extensionConfigs;
    const swapped = { ...rate, typed_config: proxy.typed_config };
    expect(codes({ ...set, extensionConfigs: [swapped, proxy] })).toEqual(['ECDS_TYPE']);
  });

  it('refuses duplicate names', () => {
    const set = buildResources(model());
    expect(codes({ ...set, listeners: [set.listeners[0], set.listeners[0]] })).toEqual(['NAME_DUPLICATE']);
  });
});
