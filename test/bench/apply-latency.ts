// Benchmark: how long from an operator saving the brokers file to Envoy applying the new
// weights, over SotW and Delta ADS, with the real Envoy and real brokers on loopback.
// Run: npm run build && npm run bench:apply [-- --rounds 30]
import * as os from 'node:os';
import { defaultConfig, withOverrides } from '../../src/config';
import { ControlPlane } from '../../src/main';
import { silentLogger } from '../../src/util/log';
import { planeConfig, writeBrokersFile } from '../integration/plane';
import { startBrokers, startEnvoy, stopBrokers, waitFor, type EnvoyHandle } from '../support';

interface Row {
  mode: string;
  rounds: number;
  minMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 30);

async function measure(mode: 'sotw' | 'delta'): Promise<Row> {
  const brokers = await startBrokers(3);
  const setup = await planeConfig();
  writeBrokersFile(
    setup.brokersFile,
    brokers.map((broker) => ({ broker, weight: 1 })),
  );
  // Production debounce (the tests shorten it): the number is what an operator sees.
  const config = withOverrides(setup.config, { pushDebounceMs: defaultConfig().pushDebounceMs });
  const plane = new ControlPlane({ config, logger: silentLogger });
  await plane.start();
  let envoy: EnvoyHandle | undefined;
  try {
    envoy = await startEnvoy({ mode, xdsPort: setup.config.xds.port, waitReady: 'live' });
    const e = envoy;
    await waitFor(async () => (await e.clusterHosts('mqtt_brokers')).length === 3, { timeoutMs: 30_000, what: 'hosts' });
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const weight = 2 + i;
      const started = process.hrtime.bigint();
      writeBrokersFile(
        setup.brokersFile,
        brokers.map((broker) => ({ broker, weight })),
      );
      await waitFor(async () => (await e.clusterHosts('mqtt_brokers')).every((h) => h.weight === weight), {
        timeoutMs: 10_000,
        intervalMs: 2,
        what: `weight ${weight}`,
      });
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    samples.sort((a, b) => a - b);
    const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
    return { mode, rounds, minMs: samples[0], p50Ms: q(0.5), p95Ms: q(0.95), maxMs: samples[samples.length - 1] };
  } finally {
    await envoy?.stop();
    await plane.stop();
    await stopBrokers(brokers);
  }
}

async function main(): Promise<void> {
  const rows = [await measure('sotw'), await measure('delta')];
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  console.log('| mode | rounds | min ms | p50 ms | p95 ms | max ms |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const f = (n: number): string => n.toFixed(1);
    console.log(`| ${r.mode} | ${r.rounds} | ${f(r.minMs)} | ${f(r.p50Ms)} | ${f(r.p95Ms)} | ${f(r.maxMs)} |`);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
