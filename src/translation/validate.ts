import { MAX_WEIGHT_SUM } from '../domain';
import type { Problem } from '../util/result';
import type { ResourceSet } from './resources';
import { TYPE_PREFIX } from './any';
import { WASM_TYPE } from './mqtt-filter';

const problem = (code: string, path: string, message: string): Problem => ({ code, path, message });

/**
 * Checks a resource set for consistency before it is published: names unique, every EDS
 * cluster has its assignment, every ECDS filter its config of an allowed type and every
 * TLS listener its SDS certificate (and no orphans), every tcp_proxy points at a known cluster, weights are integers in range
 * and each locality's sum fits uint32. Envoy rejects the first kinds only after the
 * fact, as a NACK or a cluster or listener stuck warming.
 */
export function validateResources(set: ResourceSet): Problem[] {
  const problems: Problem[] = [];
  const clusterNames = uniqueNames(
    set.clusters.map((c) => c.name),
    'clusters',
    problems,
  );
  const claNames = uniqueNames(
    set.endpoints.map((e) => e.cluster_name),
    'endpoints',
    problems,
    'cluster_name',
  );
  uniqueNames(
    set.extensionConfigs.map((x) => x.name),
    'extensionConfigs',
    problems,
  );
  uniqueNames(
    set.listeners.map((l) => l.name),
    'listeners',
    problems,
  );
  const secretNames = uniqueNames(
    set.secrets.map((x) => x.name),
    'secrets',
    problems,
  );
  const namedSecrets = new Set<string>();
  const extensions = new Map(set.extensionConfigs.map((x, i) => [x.name ?? '', { config: x, index: i }]));
  const referenced = new Set<string>();

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
      problems.push(problem('EDS_EMPTY', path, 'no endpoints: refusing to publish an empty broker set (keeping the last good one)'));
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
        problems.push(problem('WEIGHT_SUM', `${path}.endpoints[${j}]`, `weights sum to ${sum}, over the uint32 limit ${MAX_WEIGHT_SUM}`));
      }
    });
  });
  set.listeners.forEach((l, i) => {
    (l.filter_chains ?? []).forEach((fc, j) => {
      for (const name of sdsNames(fc.transport_socket?.typed_config)) {
        namedSecrets.add(name);
        if (!secretNames.has(name)) {
          problems.push(
            problem(
              'SDS_MISSING',
              `listeners[${i}].filter_chains[${j}].transport_socket`,
              `certificate "${name}" has no Secret of that name`,
            ),
          );
        }
      }
      (fc.filters ?? []).forEach((f, k) => {
        const at = `listeners[${i}].filter_chains[${j}].filters[${k}]`;
        let cfg: unknown = f.typed_config;
        let cfgPath = `${at}.typed_config`;
        if (f.config_discovery) {
          const name = f.name ?? '';
          referenced.add(name);
          const found = extensions.get(name);
          if (!found) {
            problems.push(problem('ECDS_MISSING', `${at}.name`, `filter "${name}" has no TypedExtensionConfig of that name`));
            return;
          }
          cfg = found.config.typed_config;
          cfgPath = `extensionConfigs[${found.index}].typed_config`;
          const type = typeUrlOf(cfg);
          const allowed = f.config_discovery.type_urls ?? [];
          if (!allowed.includes(type)) {
            problems.push(
              problem('ECDS_TYPE', `${cfgPath}["@type"]`, `"${type}" is not among the listener's type_urls: ${allowed.join(', ')}`),
            );
          }
        }
        if (typeUrlOf(cfg) === TYPE_PREFIX + WASM_TYPE && wasmCode(cfg) === '') {
          problems.push(
            problem(
              'MQTT_FILTER_MODULE',
              `${cfgPath}.config.vm_config.code.local.inline_bytes`,
              'the MQTT filter is on (policy mqttFilter.enabled) but its module could not be read (the log says why); check listener.mqttFilter.wasmFile or run scripts/setup',
            ),
          );
        }
        const target = clusterOf(cfg);
        if (target !== undefined && !clusterNames.has(target)) {
          problems.push(problem('LISTENER_CLUSTER', `${cfgPath}.cluster`, `unknown cluster "${target}"`));
        }
      });
    });
  });
  set.secrets.forEach((x, i) => {
    if (x.name && !namedSecrets.has(x.name)) {
      problems.push(problem('SDS_ORPHAN', `secrets[${i}]`, `Secret "${x.name}" is named by no listener`));
    }
  });
  set.extensionConfigs.forEach((x, i) => {
    if (x.name && !referenced.has(x.name)) {
      problems.push(problem('ECDS_ORPHAN', `extensionConfigs[${i}]`, `TypedExtensionConfig "${x.name}" is named by no listener filter`));
    }
  });
  return problems;
}

function uniqueNames(names: ReadonlyArray<string | undefined>, kind: string, problems: Problem[], field = 'name'): Set<string> {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (!n) problems.push(problem('NAME_EMPTY', `${kind}[${i}].${field}`, 'name must not be empty'));
    else if (seen.has(n)) problems.push(problem('NAME_DUPLICATE', `${kind}[${i}].${field}`, `duplicate name "${n}"`));
    else seen.add(n);
  });
  return seen;
}

function typeUrlOf(cfg: unknown): string {
  const t = (cfg as { '@type'?: unknown } | null | undefined)?.['@type'];
  return typeof t === 'string' ? t : '(none)';
}

/** The SDS secret names a DownstreamTlsContext asks for: its certificates and its client CA. */
function sdsNames(cfg: unknown): string[] {
  const common = (
    cfg as
      | {
          common_tls_context?: {
            tls_certificate_sds_secret_configs?: Array<{ name?: string }>;
            validation_context_sds_secret_config?: { name?: string };
          };
        }
      | undefined
  )?.common_tls_context;
  const names = (common?.tls_certificate_sds_secret_configs ?? []).map((c) => c.name ?? '');
  const ca = common?.validation_context_sds_secret_config;
  return ca ? [...names, ca.name ?? ''] : names;
}

/** The inline module of a Wasm filter config; '' when there is none. */
function wasmCode(cfg: unknown): string {
  const code = (cfg as { config?: { vm_config?: { code?: { local?: { inline_bytes?: unknown } } } } } | undefined)?.config?.vm_config?.code
    ?.local?.inline_bytes;
  return typeof code === 'string' ? code : '';
}

function clusterOf(cfg: unknown): string | undefined {
  const c = (cfg as { cluster?: unknown } | null | undefined)?.cluster;
  return typeof c === 'string' ? c : undefined;
}
