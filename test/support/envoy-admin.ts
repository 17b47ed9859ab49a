import http from 'node:http';
import { parseClusterHosts as parseEnvoyClusterHosts } from '../tools/demo/probes';

export interface HostStat {
  address: string;
  port: number;
  weight: number;
  cxActive: number;
  cxTotal: number;
  /** True when Envoy would route to the host as healthy (no flag below is set). */
  healthy: boolean;
  /** Envoy's reasons the host is not healthy, e.g. "failed_active_health_check", "eds_draining". */
  healthFlags: string[];
}

export interface ConfigDumpVersions {
  /** version_info of the last accepted CDS update (SotW version or Delta system_version_info). */
  cds?: string;
  lds?: string;
  /** Per-resource versions of the dynamic clusters and active listeners. */
  clusters: Record<string, string>;
  listeners: Record<string, string>;
}

export interface AdminResponse {
  status: number;
  body: string;
}

/** A small client for Envoy's admin API at `baseUrl` (http://127.0.0.1:PORT). */
export class EnvoyAdmin {
  constructor(readonly baseUrl: string) {}

  /** Any method, any status: for probes such as /ready and for POST actions. */
  request(path: string, method = 'GET', timeoutMs = 5000): Promise<AdminResponse> {
    return new Promise((resolve, reject) => {
      // agent: false closes the socket after each call, so jest sees no open handles.
      const req = http.request(`${this.baseUrl}${path}`, { method, agent: false, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** The body of a GET; throws unless the status is 2xx. */
  async get(path: string): Promise<string> {
    const { status, body } = await this.request(path);
    if (status < 200 || status > 299) throw new Error(`GET ${path} answered ${status}: ${body.slice(0, 500)}`);
    return body;
  }

  async getJson(path: string): Promise<any> {
    return JSON.parse(await this.get(path));
  }

  /** Hosts of `clusterName` as Envoy sees them; [] while the cluster is unknown. */
  async clusterHosts(clusterName: string): Promise<HostStat[]> {
    return parseClusterHosts(await this.getJson('/clusters?format=json'), clusterName);
  }

  async clusterNames(): Promise<string[]> {
    const json = await this.getJson('/clusters?format=json');
    return (json.cluster_statuses ?? []).map((c: any) => String(c.name));
  }

  /** One counter or gauge by its full name, e.g. "cluster.brokers.upstream_cx_total". */
  async stat(name: string): Promise<number | undefined> {
    const filter = encodeURIComponent(`^${escapeRegExp(name)}$`);
    const json = await this.getJson(`/stats?format=json&filter=${filter}`);
    const found = (json.stats ?? []).find((s: any) => s?.name === name);
    return found === undefined ? undefined : Number(found.value ?? 0);
  }

  /** True once an active listener is bound to `port`. */
  async listenerReady(port: number): Promise<boolean> {
    const json = await this.getJson('/listeners?format=json');
    return (json.listener_statuses ?? []).some((l: any) => Number(l?.local_address?.socket_address?.port_value) === port);
  }

  async configDumpVersions(): Promise<ConfigDumpVersions> {
    return parseConfigDumpVersions(await this.getJson('/config_dump'));
  }
}

/** Pure: /clusters?format=json → HostStat[] for one cluster (the demo's parser, plus `healthy`). */
export function parseClusterHosts(json: unknown, clusterName: string): HostStat[] {
  return parseEnvoyClusterHosts(json, clusterName).map((h) => ({ ...h, healthy: h.healthFlags.length === 0 }));
}

/** Pure: /config_dump → versions of the dynamic clusters and listeners. */
export function parseConfigDumpVersions(json: any): ConfigDumpVersions {
  const configs: any[] = json?.configs ?? [];
  const byType = (suffix: string): any => configs.find((c) => String(c?.['@type'] ?? '').endsWith(suffix)) ?? {};
  const clustersDump = byType('.ClustersConfigDump');
  const listenersDump = byType('.ListenersConfigDump');
  const clusters: Record<string, string> = {};
  for (const c of clustersDump.dynamic_active_clusters ?? []) {
    if (c?.cluster?.name) clusters[c.cluster.name] = String(c.version_info ?? '');
  }
  const listeners: Record<string, string> = {};
  for (const l of listenersDump.dynamic_listeners ?? []) {
    if (l?.name && l.active_state) listeners[l.name] = String(l.active_state.version_info ?? '');
  }
  return {
    cds: clustersDump.version_info || undefined,
    lds: listenersDump.version_info || undefined,
    clusters,
    listeners,
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
