import { extractClusterReport, servesBrokers, type LoadStatsRequest } from '../../../src/xds/lrs-messages';

const limits = { maxClusters: 2, maxLocalities: 2, maxEndpoints: 3 };
const at = (address: string, port: number, inProgress?: string, issued?: string) => ({
  address: { socket_address: { address, port_value: port } },
  ...(inProgress === undefined ? {} : { total_requests_in_progress: inProgress }),
  ...(issued === undefined ? {} : { total_issued_requests: issued }),
});

describe('extractClusterReport', () => {
  it('refuses more clusters than the limit before looking inside them', () => {
    const req: LoadStatsRequest = { cluster_stats: [{ cluster_name: 'a' }, { cluster_name: 'b' }, { cluster_name: 'c' }] };
    expect(extractClusterReport(req, 'a', limits)).toMatchObject({ ok: false, reason: 'too_many_clusters' });
  });

  it('refuses a cluster of more localities than the limit', () => {
    const req: LoadStatsRequest = { cluster_stats: [{ cluster_name: 'other', upstream_locality_stats: [{}, {}, {}] }] };
    expect(extractClusterReport(req, 'mqtt', limits)).toMatchObject({ ok: false, reason: 'too_many_localities' });
  });

  it('counts endpoints over every cluster of the report, not only ours', () => {
    const req: LoadStatsRequest = {
      cluster_stats: [
        { cluster_name: 'other', upstream_locality_stats: [{ upstream_endpoint_stats: [at('a', 1), at('b', 1), at('c', 1)] }] },
        { cluster_name: 'mqtt', upstream_locality_stats: [{ upstream_endpoint_stats: [at('d', 1)] }] },
      ],
    };
    expect(extractClusterReport(req, 'mqtt', limits)).toMatchObject({ ok: false, reason: 'too_many_endpoints' });
  });

  it('says nothing of a report without the cluster (the first request of a stream)', () => {
    expect(extractClusterReport({ cluster_stats: [] }, 'mqtt', limits)).toEqual({ ok: true, cluster: undefined });
  });

  it('reads absent counts as 0, skips addresses that are no IP and port, and brackets IPv6', () => {
    const req: LoadStatsRequest = {
      cluster_stats: [
        {
          cluster_name: 'mqtt',
          upstream_locality_stats: [
            { upstream_endpoint_stats: [at('fd00::1', 1883, '2'), at('10.0.0.1', 1883, undefined, '4'), { address: {} }] },
          ],
        },
      ],
    };
    expect(extractClusterReport(req, 'mqtt', limits)).toEqual({
      ok: true,
      cluster: {
        intervalMs: undefined,
        endpoints: [
          { endpoint: '[fd00::1]:1883', inProgress: 2, issued: 0, cluster: 'mqtt' },
          { endpoint: '10.0.0.1:1883', inProgress: 0, issued: 4, cluster: 'mqtt' },
        ],
      },
    });
  });

  it("reads every cluster that serves the brokers (tenants' pools, WebSockets), each load named by its cluster", () => {
    const wide = { maxClusters: 10, maxLocalities: 10, maxEndpoints: 20 };
    const stats = (cluster_name: string, port: number, inProgress: string, seconds: number) => ({
      cluster_name,
      load_report_interval: { seconds },
      upstream_locality_stats: [{ upstream_endpoint_stats: [at('10.0.0.1', port, inProgress)] }],
    });
    const req: LoadStatsRequest = {
      cluster_stats: [
        stats('mqtt.acme', 1883, '4', 3),
        stats('mqtt', 1883, '5', 2),
        stats('mqtt_ws', 8000, '6', 2),
        stats('mqtt_ws.acme', 8000, '7', 2),
        stats('mqttx', 1883, '100', 2),
        stats('other', 1883, '100', 2),
      ],
    };
    expect(extractClusterReport(req, 'mqtt', wide)).toEqual({
      ok: true,
      cluster: {
        // The MQTT cluster's interval, though a tenant's pool came first.
        intervalMs: 2000,
        endpoints: [
          { endpoint: '10.0.0.1:1883', inProgress: 4, issued: 0, cluster: 'mqtt.acme' },
          { endpoint: '10.0.0.1:1883', inProgress: 5, issued: 0, cluster: 'mqtt' },
          { endpoint: '10.0.0.1:8000', inProgress: 6, issued: 0, cluster: 'mqtt_ws' },
          { endpoint: '10.0.0.1:8000', inProgress: 7, issued: 0, cluster: 'mqtt_ws.acme' },
        ],
      },
    });
    expect(servesBrokers('mqtt_wsx', 'mqtt')).toBe(false);
    expect(servesBrokers('mqtt.', 'mqtt')).toBe(true);
  });
});
