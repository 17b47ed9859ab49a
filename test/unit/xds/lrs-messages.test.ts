import { extractClusterReport, type LoadStatsRequest } from '../../../src/xds/lrs-messages';

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
          { endpoint: '[fd00::1]:1883', inProgress: 2, issued: 0 },
          { endpoint: '10.0.0.1:1883', inProgress: 0, issued: 4 },
        ],
      },
    });
  });
});
