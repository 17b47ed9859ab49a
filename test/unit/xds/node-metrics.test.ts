import { Registry } from 'prom-client';
import { OTHER_NODES, XdsMetrics } from '../../../src/xds';

describe('per-node stream metrics', () => {
  it('forgets a node when its last stream ends, so /metrics does not grow with every node id ever seen', async () => {
    const registry = new Registry();
    const m = new XdsMetrics(registry);
    const a1 = m.streamOpened('sotw', 'envoy-a');
    const a2 = m.streamOpened('sotw', 'envoy-a');
    m.streamClosed('sotw', a1);
    expect(await registry.getSingleMetricAsString('mqtt_xds_streams_connected')).toContain('node="envoy-a",kind="sotw"} 1');
    m.streamClosed('sotw', a2);
    expect(await registry.getSingleMetricAsString('mqtt_xds_streams_connected')).not.toContain('envoy-a');
  });

  it('past the series limit, further nodes share node="_other", and a freed slot is reused', async () => {
    const registry = new Registry();
    const m = new XdsMetrics(registry, 2);
    const labels = ['n1', 'n2', 'n3', 'n4'].map((n) => m.streamOpened('delta', n));
    expect(labels).toEqual(['n1', 'n2', OTHER_NODES, OTHER_NODES]);
    const text = await registry.getSingleMetricAsString('mqtt_xds_streams_connected');
    expect(text).toContain(`node="${OTHER_NODES}",kind="delta"} 2`);
    m.streamClosed('delta', labels[0]);
    expect(m.streamOpened('delta', 'n5')).toBe('n5');
  });
});
