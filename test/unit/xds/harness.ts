import { buildResources, type ProxyModel } from '../../../src/translation';
import { decodeResponse, SnapshotCache, type TypeUrl } from '../../../src/xds';
import type { StreamDeps } from '../../../src/xds/sotw-stream';
import type { OutgoingResponse, StreamObserver } from '../../../src/xds/stream-observer';
import { model, plan } from '../translation/fixtures';

export interface Recorded {
  event: 'pushed' | 'acked' | 'nacked' | 'stale';
  typeUrl: TypeUrl;
  detail: string;
}

export function harness(initial: ProxyModel | null = model()) {
  const cache = new SnapshotCache();
  if (initial) expectOk(cache.publish(buildResources(initial)));
  const events: Recorded[] = [];
  let n = 0;
  let now = 1000;
  const observer: StreamObserver = {
    pushed: (typeUrl, version) => events.push({ event: 'pushed', typeUrl, detail: version }),
    acked: (typeUrl, version, latency) => events.push({ event: 'acked', typeUrl, detail: `${version} ${latency}` }),
    nacked: (typeUrl, version, message) => events.push({ event: 'nacked', typeUrl, detail: `${version} ${message}` }),
    stale: (typeUrl, nonce) => events.push({ event: 'stale', typeUrl, detail: nonce }),
  };
  const deps: StreamDeps = {
    snapshot: () => cache.snapshot(),
    nonce: () => `n${++n}`,
    nowMs: () => now,
    observer,
  };
  return {
    cache,
    deps,
    events,
    advance: (ms: number) => (now += ms),
    publishWeights: (...weights: number[]) =>
      expectOk(
        cache.publish(
          buildResources(
            model({ plan: { endpoints: weights.map((w, i) => ({ ...plan.endpoints[i], weight: w, health: 'serving' as const })) } }),
          ),
        ),
      ),
    publish: (m: ProxyModel) => expectOk(cache.publish(buildResources(m))),
  };
}

export function expectOk<T extends { ok: boolean }>(r: T): T {
  if (!r.ok) throw new Error(`publish refused: ${JSON.stringify(r)}`);
  return r;
}

/** Weights of the endpoints in an EDS response. */
export function weightsIn(kind: 'sotw' | 'delta', r: OutgoingResponse): number[] {
  const decoded = decodeResponse(kind, r.bytes) as {
    resources?: Array<{ value?: Buffer; resource?: { value: Buffer } }>;
  };
  const { decodeMessage } = jest.requireActual<typeof import('../../../src/xds/codec')>('../../../src/xds/codec');
  return (decoded.resources ?? []).flatMap((res) => {
    const bytes = kind === 'sotw' ? res.value! : res.resource!.value;
    const cla = decodeMessage<{ endpoints: Array<{ lb_endpoints: Array<{ load_balancing_weight: { value: number } }> }> }>(
      'envoy.config.endpoint.v3.ClusterLoadAssignment',
      bytes,
    );
    return cla.endpoints.flatMap((l) => l.lb_endpoints.map((e) => e.load_balancing_weight.value));
  });
}
