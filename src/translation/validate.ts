import { MAX_WEIGHT_SUM } from '../domain';
import type { Problem } from '../util/result';
import type { ResourceSet } from './resources';

const problem = (code: string, path: string, message: string): Problem => ({ code, path, message });

/**
 * Checks a resource set for consistency before it is published: names unique, every EDS
 * cluster has its assignment (and no orphans), every tcp_proxy points at a known cluster,
 * weights are integers in range and each locality's sum fits uint32. Envoy rejects the
 * first two kinds only after the fact, as a NACK or a cluster stuck warming.
 */
export function validateResources(set: ResourceSet): Problem[] {
  const problems: Problem[] = [];
  const clusterNames = uniqueNames(set.clusters.map((c) => c.name), 'clusters', problems);
  const claNames = uniqueNames(set.endpoints.map((e) => e.cluster_name), 'endpoints', problems, 'cluster_name');
  uniqueNames(set.listeners.map((l) => l.name), 'listeners', problems);

  set.clusters.forEach((c, i) => {
    if (c.type === 'EDS' && !claNames.has(c.name ?? '')) {
      problems.push(problem('EDS_MISSING', `clusters[${i}]`, `EDS cluster "${c.name}" has no ClusterLoadAssignment`));
    }
  });
  set.endpoints.forEach((cla, i) => {
    const path = `endpoints[${i}]`;
    if (!clusterNames.has(cla.cluster_name ?? '')) {
      problems.push(problem('EDS_ORPHAN', path, `ClusterLoadAssignment "${cla.cluster_name}" has no cluster`));
    }
    const localities = cla.endpoints ?? [];
    if (localities.every((l) => (l.lb_endpoints ?? []).length === 0)) {
      problems.push(
        problem('EDS_EMPTY', path, 'no endpoints: refusing to publish an empty broker set (keeping the last good one)'),
      );
    }
    localities.forEach((locality, j) => {
      let sum = 0;
      (locality.lb_endpoints ?? []).forEach((ep, k) => {
        const w = ep.load_balancing_weight?.value;
        const at = `${path}.endpoints[${j}].lb_endpoints[${k}].load_balancing_weight`;
        if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > MAX_WEIGHT_SUM) {
          problems.push(problem('WEIGHT_RANGE', at, `weight must be an integer in 1..${MAX_WEIGHT_SUM}, got ${String(w)}`));
        } else {
          sum += w;
        }
      });
      if (sum > MAX_WEIGHT_SUM) {
        problems.push(
          problem('WEIGHT_SUM', `${path}.endpoints[${j}]`, `weights sum to ${sum}, over the uint32 limit ${MAX_WEIGHT_SUM}`),
        );
      }
    });
  });
  set.listeners.forEach((l, i) => {
    (l.filter_chains ?? []).forEach((fc, j) => {
      (fc.filters ?? []).forEach((f, k) => {
        const cfg = f.typed_config as { cluster?: unknown } | null | undefined;
        const target = cfg && typeof cfg.cluster === 'string' ? cfg.cluster : undefined;
        if (target !== undefined && !clusterNames.has(target)) {
          problems.push(
            problem(
              'LISTENER_CLUSTER',
              `listeners[${i}].filter_chains[${j}].filters[${k}].typed_config.cluster`,
              `unknown cluster "${target}"`,
            ),
          );
        }
      });
    });
  });
  return problems;
}

function uniqueNames(
  names: ReadonlyArray<string | undefined>,
  kind: string,
  problems: Problem[],
  field = 'name',
): Set<string> {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (!n) problems.push(problem('NAME_EMPTY', `${kind}[${i}].${field}`, 'name must not be empty'));
    else if (seen.has(n)) problems.push(problem('NAME_DUPLICATE', `${kind}[${i}].${field}`, `duplicate name "${n}"`));
    else seen.add(n);
  });
  return seen;
}
