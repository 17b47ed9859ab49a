// The capacity test broker: a real MQTT broker (aedes) in its own Node process whose CPU
// and overload state are SIMULATED from the traffic it really handles, and exported under
// HiveMQ's Prometheus metric names. It lets mqtt-xds be benchmarked against brokers of
// different sizes on one small machine: a "big" and a "small" broker differ only in
// --capacity, not in the hardware they would need.
//
//   node dist/test/tools/testbroker/capacity-broker.js --name b1 --capacity 1000 \
//        [--port 0] [--metrics-port 0] [--host 127.0.0.1] [--connection-cost 1] \
//        [--message-cost 1] [--window-ms 5000] [--tick-ms 100] [--noise 0] [--seed 1] [--cores 1] \
//        [--agent-token <token>] [--cpu-model ideal|realistic] [--cpu-view limit|host|rounded] \
//        [--host-cores 8] [--cpu-baseline 0.05] [--cpu-lag-ms 2500] [--cpu-amortisation 4] \
//        [--cpu-fanout-exponent 1.1] [--cpu-spike-interval-ms 30000] [--cpu-spike-min 0.2] [--cpu-spike-max 0.5] \
//        [--proxy-protocol off|required|optional] [--proxy-max-header-bytes 4096] [--proxy-header-timeout-ms 3000] \
//        [--proxy-history 10000] [--cluster-port 0] [--cluster-queue 10000]
//
// The model (capacity-model.ts has the exact rules, docs/test-broker.md the walkthrough):
//   cost(client) = connectionCost + (publishes/s sent + copies/s delivered of them) × messageCost,
//                  rates measured over a sliding --window-ms of real MQTT traffic;
//   utilisation  = (Σ cost(client) + extra load) / capacity;
//   cpu          = --cpu-model ideal (the default): min(1, utilisation), times seeded uniform
//                  noise 1 ± --noise; realistic (capacity-cpu.ts): baseline, GC-like spikes,
//                  convex fan-out, amortisation, lag and throttling at --cores; exported in
//                  percent and as process CPU seconds over the agent's CPU limit, which
//                  --cpu-view can make wrong the ways real readings are (host, rounded);
//   overload level 1..5 between utilisation 0.8 and 1.0, 6..10 above; publishers are
//   under back-pressure from level 6; POST /admin/overload and /admin/load stage events.
//
// PROXY protocol (proxy-*.ts): with --proxy-protocol required|optional each MQTT connection
// may begin with a v1 or v2 header, decoded and recorded for GET /admin/proxy.
//
// Cluster link (cluster-link.ts): with --cluster-port, a client's PUBLISH is also sent to
// every peer set by POST /admin/cluster, which delivers it to its own subscribers only.
//
// Ports: MQTT on --port; the cluster link on 127.0.0.1:--cluster-port; GET /metrics, the admin API and the agent API (/agent/v1/*,
// docs/agent-api.md) on --metrics-port.
// Readiness: when forked with IPC it sends {type:'ready', name, host, port, metricsPort};
// it always prints one line "capacity-broker ready {json}" on stdout. It obeys
// {type:'stop'} and SIGTERM, and exits when its IPC parent goes away.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import { createAdminHandler, type AdminBackend } from './capacity-admin';
import { toAgentClient } from './capacity-agent';
import { capacityBrokerUsage, parseCapacityBrokerArgs, type CapacityBrokerOptions } from './capacity-config';
import { capacityBrokerFamilies, renderExposition } from './capacity-metrics';
import { parseSubscriptionFilter } from './capacity-shared';
import { CapacitySimulation } from './capacity-simulation';
import { ClusterLink } from './cluster-link';
import { ProxyFront } from './proxy-front';
import { formatProblems } from '../../../src/util/result';
import { createLogger } from '../../../src/util/log';
import { REPO_ROOT } from '../../../src/util/repo-root';

// With "module": "commonjs", TypeScript rewrites `import('aedes')` into `require('aedes')`,
// and Node 20 cannot require an ES module such as aedes 1.x. A function built at run time
// is invisible to the compiler, so this stays a real dynamic import.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- on purpose, as said above
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** Rate windows are split into this many buckets. */
const BUCKETS_PER_WINDOW = 20;

export async function runCapacityBroker(options: CapacityBrokerOptions): Promise<void> {
  const log = createLogger('info', { component: 'capacity-broker', broker: options.name });
  const sim = new CapacitySimulation({ ...options, bucketMs: options.windowMs / BUCKETS_PER_WINDOW }, Date.now());
  // The aedes client object behind each registered id; a take-over replaces it, and
  // events of the replaced connection must then not touch the new one's record.
  const current = new Map<string, Client>();
  // A persistent session's subscriptions are restored before the client is registered.
  const restored = new WeakMap<Client, string[]>();
  const isCurrent = (client: Client): boolean => current.get(client.id) === client;

  // Resolved here (CommonJS resolution) and imported by URL, so it works from src/ and dist/.
  const { Aedes: AedesClass } = (await importModule(pathToFileURL(require.resolve('aedes')).href)) as {
    Aedes: typeof Aedes;
  };
  // Clients whose id the broker assigns (empty client id, as Envoy's MQTT health check sends).
  const anonymous = new WeakSet<Client>();
  const proxy = new ProxyFront(options, log.child({ part: 'proxy-protocol' }));
  const broker = await AedesClass.createBroker({
    id: options.name,
    preConnect: (client, packet, done) => {
      if (!packet.clientId) anonymous.add(client);
      // Noted before authentication, so a CONNECT that is then refused is still joined.
      else proxy.noteClient(client.conn, packet.clientId);
      done(null, true);
    },
    authorizeSubscribe: (client, sub, done) => {
      const parsed = parseSubscriptionFilter(sub.topic);
      // A malformed $share filter is refused in the SUBACK (0x80), not by disconnecting.
      if (parsed.kind === 'invalid') return done(null, null);
      if (isCurrent(client)) sim.ledger.subscribe(client.id, sub.topic);
      else restored.set(client, [...(restored.get(client) ?? []), sub.topic]);
      done(null, parsed.filter === sub.topic ? sub : { ...sub, topic: parsed.filter });
    },
    // A client's PUBLISH is counted as it arrives, before aedes forwards it: counted on the
    // 'publish' event (which comes after the forwards), a tick between the two saw a message's
    // copies without the message (outgoing over 4x incoming in the test). Aedes's own rule
    // stays: $SYS topics are reserved.
    authorizePublish: (client, packet, done) => {
      if (packet.topic.startsWith('$SYS/')) return done(new Error('$SYS/ topic is reserved'));
      if (client) sim.onPublish(client.id, packet.payload?.length ?? 0, Date.now());
      done(null);
    },
    authorizeForward: (client, packet) => {
      const key = Number(packet.brokerCounter);
      if (!sim.ledger.shouldDeliver(client.id, packet.topic, key)) return null;
      sim.onDeliver(publisherOf(packet), client.id, Date.now());
      return packet;
    },
  });

  // The cluster link: what a client published here goes to every peer once; what a peer
  // sends is published here with no client, so it reaches local subscribers and is not sent on.
  const link =
    options.clusterPort === undefined
      ? undefined
      : new ClusterLink({
          port: options.clusterPort,
          queueLimit: options.clusterQueue,
          log: log.child({ part: 'cluster' }),
          onMessage: (m) =>
            new Promise<void>((resolve) =>
              broker.publish({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, dup: false }, (err) => {
                if (err) log.warn('cluster message not delivered', { topic: m.topic, error: err.message });
                resolve();
              }),
            ),
        });
  broker.on('publish', (packet, client) => {
    if (!link || !client || packet.topic.startsWith('$SYS/')) return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload ?? '');
    link.forward({ topic: packet.topic, payload, qos: packet.qos, retain: packet.retain });
  });

  broker.on('client', (client) => {
    if (!anonymous.has(client)) sim.countClientConnect();
    else proxy.noteClient(client.conn, client.id);
    current.set(client.id, client);
    sim.ledger.connect(client.id, Date.now(), client.clean);
    for (const topic of restored.get(client) ?? []) sim.ledger.subscribe(client.id, topic);
    restored.delete(client);
  });
  broker.on('clientDisconnect', (client) => {
    if (!isCurrent(client)) return;
    current.delete(client.id);
    sim.ledger.disconnect(client.id);
  });
  broker.on('unsubscribe', (topics, client) => {
    if (isCurrent(client)) for (const topic of topics) sim.ledger.unsubscribe(client.id, topic);
  });
  // Clients that vanish or are disconnected on purpose are normal here.
  broker.on('clientError', () => undefined);
  broker.on('connectionError', () => undefined);

  const realNotWritable = (): number => {
    let n = 0;
    for (const client of current.values()) if ((client.conn as net.Socket).writableNeedDrain) n += 1;
    return n;
  };
  const tick = setInterval(() => sim.tick(Date.now(), realNotWritable()), options.tickMs);
  tick.unref();

  // Agent requests get 503 until both ports listen and again once a stop began.
  let listening = false;
  let closing = false;
  const closeClient = (id: string, will: 'publish' | 'suppress'): Promise<string | undefined> =>
    new Promise((resolve) => {
      const client = current.get(id);
      if (!client) return resolve(undefined);
      // Otherwise aedes publishes the will, as after any connection lost without DISCONNECT.
      if (will === 'suppress') dropWill(broker, client);
      // No DISCONNECT packet (MQTT 3.1.1 has none from the server, and aedes 1.x refuses
      // MQTT 5 clients): the socket closes, as when HiveMQ's extension SDK disconnects a client.
      client.close(() => resolve(id));
    });
  const closeClients = async (ids: readonly string[], will: 'publish' | 'suppress'): Promise<string[]> =>
    (await Promise.all(ids.map((id) => closeClient(id, will)))).filter((id): id is string => id !== undefined);

  const heapMaxBytes = v8.getHeapStatistics().heap_size_limit;
  const processStartSeconds = (Date.now() - process.uptime() * 1000) / 1000;
  const backend: AdminBackend = {
    name: options.name,
    now: () => Date.now(),
    refresh: () => sim.tick(Date.now(), realNotWritable()),
    metricsText: () =>
      renderExposition(
        capacityBrokerFamilies({
          snapshot: sim.last,
          heapUsedBytes: process.memoryUsage().heapUsed,
          heapMaxBytes,
          payloadSizes: sim.payloadSizeQuantiles(),
          processStartSeconds,
          ...(options.proxyProtocol === 'off' ? {} : { proxy: proxy.counts() }),
          ...(link ? { cluster: link.status() } : {}),
        }),
      ),
    clients: () => sim.clients(Date.now()),
    disconnect: (ids) => closeClients(ids, 'publish'),
    accepting: () => listening && !closing,
    agentClients: () =>
      sim.clients(Date.now()).flatMap((info) => {
        const client = current.get(info.clientId);
        return client ? [toAgentClient(info, client.version)] : [];
      }),
    disconnectWithoutWill: (ids) => closeClients(ids, 'suppress'),
    forceOverload: ({ level, durationMs }) => sim.forceOverload(level, durationMs, Date.now()),
    setExtraLoad: ({ extraCost, durationMs }) => sim.setExtraLoad(extraCost, durationMs, Date.now()),
    proxyReport: (query) => proxy.report(query),
    cluster: () => link?.status(),
    setClusterPeers: (peers) => link?.setPeers(peers),
  };

  // The only MQTT port (this broker serves no WebSockets); with --proxy-protocol it reads the PROXY header first.
  const mqttServer = net.createServer(proxy.wrap((socket) => broker.handle(socket)));
  const httpServer = http.createServer(
    createAdminHandler(backend, {
      ...(options.agentToken === undefined ? {} : { token: options.agentToken }),
      implementation: `mqtt-xds-capacity-broker/${packageVersion()}`,
      logger: log.child({ api: 'agent' }),
    }),
  );
  const [port, metricsPort, clusterPort] = await Promise.all([
    listen(mqttServer, options.port, options.host),
    listen(httpServer, options.metricsPort, options.host),
    link?.start(),
  ]);
  listening = true;

  const shutdown = (code: number): void => {
    if (closing) return;
    closing = true;
    clearInterval(tick);
    link?.close();
    // Sockets that never sent CONNECT keep server.close() waiting; a stop must not.
    setTimeout(() => process.exit(code), 2000).unref();
    httpServer.closeAllConnections();
    httpServer.close();
    broker.close(() => mqttServer.close(() => process.exit(code)));
  };
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  process.on('message', (msg: { type?: string } | undefined) => {
    if (msg?.type === 'stop') shutdown(0);
  });
  // Forked by a benchmark or a test: never outlive the parent.
  if (process.send) process.on('disconnect', () => shutdown(0));

  const ready = {
    type: 'ready',
    name: options.name,
    host: options.host,
    port,
    metricsPort,
    ...(clusterPort === undefined ? {} : { clusterPort }),
    pid: process.pid,
  };
  process.send?.(ready);
  process.stdout.write(`capacity-broker ready ${JSON.stringify(ready)}\n`);
  log.info('ready', { port, metricsPort, capacity: options.capacity, agentToken: options.agentToken !== undefined, clusterPort });
}

/**
 * Makes the next close() of this client behave like a client DISCONNECT for its will:
 * aedes publishes `client.will` when a connection ends without DISCONNECT (lib/client.js,
 * close() → finish()), and skips it when the field is empty. storeWill() also persisted
 * the will at CONNECT; that copy is deleted too, or it would outlive the session on a
 * broker the client has left.
 */
function dropWill(broker: Aedes, client: Client): void {
  (client as Client & { will: unknown }).will = null;
  const persistence = (broker as Aedes & { persistence: { delWill(client: Client): Promise<unknown> } }).persistence;
  persistence.delWill(client).catch(() => undefined);
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function publisherOf(packet: AedesPublishPacket): string | undefined {
  // aedes stamps the publishing client's id on the packet it routes; absent for its own.
  const id = (packet as { clientId?: unknown }).clientId;
  return typeof id === 'string' ? id : undefined;
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

function fatal(message: string, code: number): void {
  process.stderr.write(`${message}\n`);
  // Exit only once the parent has the message; process.send is asynchronous.
  if (process.send) process.send({ type: 'error', message }, () => process.exit(code));
  else process.exit(code);
}

if (require.main === module) {
  const parsed = parseCapacityBrokerArgs(process.argv.slice(2));
  if (!parsed.ok) {
    fatal(`capacity-broker: ${formatProblems(parsed.problems)}\n\n${capacityBrokerUsage()}`, 2);
  } else if (parsed.value.help) {
    process.stdout.write(`${capacityBrokerUsage()}\n`);
  } else {
    runCapacityBroker(parsed.value.options).catch((err: unknown) =>
      fatal(`capacity-broker: ${err instanceof Error ? err.message : String(err)}`, 1),
    );
  }
}
