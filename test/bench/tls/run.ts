// bench:tls: MQTT over TLS through the real Envoy (its certificate from mqtt-xds over SDS)
// against HAProxy 2.6 terminating TLS with the same certificate, in the same run, in front
// of the same broker. Both proxies run one worker thread (Envoy --concurrency 1, HAProxy
// nbthread 1). For each it reports:
// - handshakes per second: `--concurrency` loops each opening a fresh TLS connection (no
//   session resumption), waiting for the broker's CONNACK and closing it, for `--seconds`;
// - the proxy's CPU per handshake over that phase (utime + stime from /proc);
// - a reconnect storm: `--storm` clients connecting at once, each refused one retrying 200 ms
//   later, the time until every one has its CONNACK.
// Every proxy and client is on loopback, so the client's own TLS work shares the 2 cores:
// read the ratios, not the absolute rates.
// Run: npm run build && npm run bench:tls [-- --seconds 10 --concurrency 32 --storm 4000 --rounds 3]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withOverrides } from '../../../src/config';
import type { ControlPlane } from '../../../src/main';
import { planeConfig, startPlane, writeBrokersFile } from '../../integration/plane';
import { startBroker, type TestBroker } from '../../support/brokers';
import { TestCa } from '../../support/certs';
import { processCpuSeconds } from '../../support/cgroup';
import { startEnvoy, untilHealthy, type EnvoyHandle } from '../../support/envoy';
import { tryConnectClients } from '../../support/mqtt-clients';
import { freePort } from '../../support/ports';
import { waitFor } from '../../support/wait';
import { ensureHaproxy } from '../lb/balancers/packages';
import { runSync, startProc, type Proc } from '../lb/processes';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const SECONDS = Number(arg('seconds', '10'));
const CONCURRENCY = Number(arg('concurrency', '32'));
const STORM = Number(arg('storm', '4000'));
const ROUNDS = Number(arg('rounds', '3'));
const SERVER_NAME = 'localhost';

interface Proxy {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

interface Row {
  proxy: string;
  round: number;
  handshakesPerSec: number;
  cpuMsPerHandshake: number;
  stormMs: number;
  stormRefused: number;
}

const log = (m: string): void => void process.stderr.write(`bench:tls: ${m}\n`);

async function main(): Promise<void> {
  ensureHaproxy(log);
  const ca = new TestCa('bench:tls CA');
  const leaf = ca.issue('server', { commonName: SERVER_NAME, san: [`DNS:${SERVER_NAME}`, 'IP:127.0.0.1'] });
  const broker = await startBroker('bench-tls-broker');
  const proxies: Proxy[] = [];
  try {
    proxies.push(await startMqttXds(broker, leaf));
    proxies.push(await startHaproxy(broker, leaf, ca.dir));
    const tls = { ca: ca.ca.cert, servername: SERVER_NAME };
    const rows: Row[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate who goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 1 ? proxies : [...proxies].reverse();
      for (const p of order) {
        const rate = await handshakeRate(p, tls);
        const storm = await reconnectStorm(p, tls);
        rows.push({ proxy: p.name, round, ...rate, ...storm });
        log(
          `${p.name} round ${round}: ${rate.handshakesPerSec.toFixed(0)}/s, ${rate.cpuMsPerHandshake.toFixed(3)} ms CPU each, storm ${storm.stormMs} ms`,
        );
      }
    }
    process.stdout.write(report(rows));
  } finally {
    for (const p of proxies) await p.stop();
    await broker.stop();
  }
}

async function startMqttXds(broker: TestBroker, leaf: { certFile: string; keyFile: string }): Promise<Proxy> {
  const setup = await planeConfig();
  writeBrokersFile(setup.brokersFile, [{ broker, weight: 1 }]);
  const config = withOverrides(setup.config, {
    balancing: { mode: 'static' },
    listener: { tls: { certFile: leaf.certFile, keyFile: leaf.keyFile } },
  });
  const { plane }: { plane: ControlPlane } = await startPlane(config);
  const envoy: EnvoyHandle = await startEnvoy({ mode: 'delta', xdsPort: config.xds.port, waitReady: 'live' });
  await untilHealthy(envoy, 1, 'the broker healthy in Envoy');
  return {
    name: 'mqtt-xds (Envoy 1.40, SDS)',
    port: config.listener.port,
    pid: envoy.pid,
    stop: async () => {
      await envoy.stop();
      await plane.stop();
    },
  };
}

async function startHaproxy(broker: TestBroker, leaf: { certFile: string; keyFile: string }, dir: string): Promise<Proxy> {
  const port = await freePort();
  const pem = path.join(dir, 'haproxy.pem');
  fs.writeFileSync(pem, fs.readFileSync(leaf.certFile, 'utf8') + fs.readFileSync(leaf.keyFile, 'utf8'));
  const config = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(
    config,
    [
      'global',
      '  nbthread 1',
      // Two descriptors per proxied connection; the storm needs 8,000, and the shell's limit is often 20,000.
      `  maxconn ${Math.max(1000, STORM + 1000)}`,
      '  ssl-default-bind-options ssl-min-ver TLSv1.2',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend mqtt',
      `  bind 127.0.0.1:${port} ssl crt ${pem}`,
      '  default_backend brokers',
      'backend brokers',
      `  server b1 127.0.0.1:${broker.port}`,
      '',
    ].join('\n'),
  );
  const check = runSync('haproxy', ['-c', '-f', config], 30_000);
  if (!check.ok) throw new Error(`haproxy -c refused ${config}:\n${check.output}`);
  const proc: Proc = startProc('haproxy-tls', 'haproxy', ['-db', '-f', config], { cwd: dir });
  const tls = { ca: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'), servername: SERVER_NAME };
  const probe = async (): Promise<boolean> => {
    const a = await tryConnectClients({ host: '127.0.0.1', port, count: 1, prefix: 'probe', tls });
    await a.pool.endAll();
    return a.refused === 0;
  };
  await waitFor(probe, {
    timeoutMs: 15_000,
    what: 'HAProxy to accept MQTT over TLS',
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n--- haproxy output ---\n${proc.logs()}`);
  });
  return { name: 'HAProxy 2.6 (ssl crt)', port, pid: proc.pid, stop: () => proc.stop('SIGTERM', 5000) };
}

async function handshakeRate(
  p: Proxy,
  tls: { ca: string; servername: string },
): Promise<Pick<Row, 'handshakesPerSec' | 'cpuMsPerHandshake'>> {
  const cpuBefore = processCpuSeconds(p.pid);
  const started = Date.now();
  const deadline = started + SECONDS * 1000;
  let done = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const a = await tryConnectClients({ host: '127.0.0.1', port: p.port, count: 1, prefix: `rate-${i}-${n}`, tls, keepaliveS: 0 });
        await a.pool.endAll();
        if (a.refused === 0) done++;
        else failed++;
      }
    }),
  );
  const elapsedS = (Date.now() - started) / 1000;
  const cpuS = processCpuSeconds(p.pid) - cpuBefore;
  if (failed > 0) log(`${p.name}: ${failed} handshakes failed during the rate phase`);
  return { handshakesPerSec: done / elapsedS, cpuMsPerHandshake: (cpuS * 1000) / Math.max(1, done) };
}

/**
 * Every client connects at once; one refused (Envoy sheds connections beyond its pending
 * limit at once, `limits.connections.pending`, 1024 by default) tries again 200 ms later, as
 * a device with a short backoff would, until all are connected or two minutes are up.
 */
async function reconnectStorm(p: Proxy, tls: { ca: string; servername: string }): Promise<Pick<Row, 'stormMs' | 'stormRefused'>> {
  const started = Date.now();
  const pools: Array<{ endAll(): Promise<void> }> = [];
  let remaining = STORM;
  let refused = 0;
  for (let attempt = 0; remaining > 0 && Date.now() - started < 120_000; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 200));
    const a = await tryConnectClients({
      host: '127.0.0.1',
      port: p.port,
      count: remaining,
      prefix: `storm-${attempt}`,
      tls,
      concurrency: remaining,
      connectTimeoutMs: 60_000,
    });
    pools.push(a.pool);
    refused += a.refused;
    remaining = a.refused;
  }
  const stormMs = remaining === 0 ? Date.now() - started : Number.NaN;
  await Promise.all(pools.map((pool) => pool.endAll()));
  return { stormMs, stormRefused: refused };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function report(rows: Row[]): string {
  const names = [...new Set(rows.map((r) => r.proxy))];
  const med = (name: string, f: (r: Row) => number): number => median(rows.filter((r) => r.proxy === name).map(f));
  const lines = [
    `bench:tls, ${ROUNDS} rounds (median), ${SECONDS} s at ${CONCURRENCY} concurrent handshakes, storm of ${STORM} clients`,
    '',
    '| proxy | handshakes/s | proxy CPU per handshake (ms) | storm: all connected (ms) | storm: refused and retried |',
    '|---|---|---|---|---|',
    ...names.map(
      (n) =>
        `| ${n} | ${med(n, (r) => r.handshakesPerSec).toFixed(0)} | ${med(n, (r) => r.cpuMsPerHandshake).toFixed(3)} | ${med(n, (r) => r.stormMs).toFixed(0)} | ${med(n, (r) => r.stormRefused).toFixed(0)} |`,
    ),
    '',
  ];
  if (names.length === 2) {
    const [a, b] = names;
    lines.push(
      `Ratios ${a} / ${b}: handshakes/s ${(med(a, (r) => r.handshakesPerSec) / med(b, (r) => r.handshakesPerSec)).toFixed(2)}, ` +
        `CPU per handshake ${(med(a, (r) => r.cpuMsPerHandshake) / med(b, (r) => r.cpuMsPerHandshake)).toFixed(2)}, ` +
        `storm time ${(med(a, (r) => r.stormMs) / med(b, (r) => r.stormMs)).toFixed(2)}`,
      '',
      'Rounds:',
      ...rows.map(
        (r) =>
          `- ${r.proxy}, round ${r.round}: ${r.handshakesPerSec.toFixed(0)}/s, ${r.cpuMsPerHandshake.toFixed(3)} ms, storm ${r.stormMs} ms (${r.stormRefused} refused, retried)`,
      ),
      '',
    );
  }
  return lines.join('\n');
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench:tls: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
