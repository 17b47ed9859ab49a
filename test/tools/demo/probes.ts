// What the demo asks the outside world: is a port free, does a listener accept TCP, and
// how does Envoy see the broker cluster. Failures are values; nothing here throws.
import http from 'node:http';
import net from 'node:net';

/** True when something already listens on host:port, so we could not bind it. */
export function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function tcpAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (accepted: boolean): void => {
      socket.destroy();
      resolve(accepted);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface EnvoyHost {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  /** Envoy's reasons not to route to the host (`failed_active_health_check`); [] if healthy. */
  readonly healthFlags: string[];
  /** Upstream connections open now, and since the host appeared. */
  readonly cxActive: number;
  readonly cxTotal: number;
}

/** Hosts of `cluster` from Envoy's admin; undefined if the admin does not answer. */
export async function envoyClusterHosts(adminUrl: string, cluster: string): Promise<EnvoyHost[] | undefined> {
  const body = await httpGet(`${adminUrl}/clusters?format=json`);
  if (body === undefined) return undefined;
  try {
    return parseClusterHosts(JSON.parse(body), cluster);
  } catch {
    return undefined;
  }
}

const ROUTABLE_EDS_STATUSES = new Set(['HEALTHY', 'UNKNOWN']);

/** Pure: the body of /clusters?format=json → hosts of one cluster ([] while unknown). */
export function parseClusterHosts(json: unknown, cluster: string): EnvoyHost[] {
  const statuses = (json as { cluster_statuses?: unknown[] } | null)?.cluster_statuses ?? [];
  const found = statuses.find((c) => (c as { name?: unknown })?.name === cluster) as
    { host_statuses?: Array<Record<string, any>> } | undefined;
  return (found?.host_statuses ?? []).map((h) => {
    // Proto3 JSON leaves false flags out; a flag present and true is a reason not to route.
    const health: Record<string, unknown> = h.health_status ?? {};
    const flags = Object.entries(health)
      .filter(([key, value]) => key !== 'eds_health_status' && value === true)
      .map(([key]) => key);
    const eds = String(health.eds_health_status ?? 'UNKNOWN');
    if (!ROUTABLE_EDS_STATUSES.has(eds)) flags.push(`eds_${eds.toLowerCase()}`);
    const socket = h.address?.socket_address ?? {};
    // Proto3 JSON leaves out zero values and prints 64-bit counters as strings.
    const stats = new Map<string, number>(
      ((h.stats ?? []) as Array<{ name?: unknown; value?: unknown }>).map((st) => [String(st.name), Number(st.value ?? 0)]),
    );
    return {
      address: String(socket.address ?? ''),
      port: Number(socket.port_value ?? 0),
      weight: Number(h.weight ?? 0),
      healthFlags: flags,
      cxActive: stats.get('cx_active') ?? 0,
      cxTotal: stats.get('cx_total') ?? 0,
    };
  });
}

function httpGet(url: string, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
