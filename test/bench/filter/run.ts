// bench:filter: what the MQTT Wasm filter costs in the real Envoy 1.40. Each variant is its own
// mqtt-xds (from dist, in this process) driving its own Envoy over ADS, as in production: the
// filter arrives over ECDS. Every Envoy runs one worker (--concurrency 1) in front of the same
// three sink brokers (sink.ts, a child process that answers CONNECT and counts PUBLISH).
// Per round, in an order rotated each round, every variant gets:
// - connection setup: `--connects` CONNECT→CONNACK exchanges, `--concurrency` at a time;
// - PUBLISH throughput: `--publishers` connections writing QoS 0 PUBLISH packets of
//   `--payload-bytes` as fast as they can for `--seconds`, counted at the brokers.
// Envoy's own CPU per operation comes from /proc. The machine is shared: read the ratios
// against `none` from the same round, not the absolute rates.
// Run: npm run build && npm run bench:filter [-- --rounds 5 --filter '{"inspectPublish":true}']
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { withOverrides } from '../../../src/config';
import { parsePolicy } from '../../../src/config/policy';
import type { ControlPlane } from '../../../src/main';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { planeConfig, startPlane } from '../../integration/plane';
import { processCpuSeconds } from '../../support/cgroup';
import { startEnvoy, untilHealthy, type EnvoyHandle } from '../../support/envoy';
import { machineLine } from '../lb/report';
import { connectRate, publishChunk, publishFlood } from './load';
import { startStatic } from './static';
import { parseVariants, policyText, roundOrder, summarise, type Measurement, type Summary, type Variant } from './variants';

const USAGE = `usage: npm run bench:filter -- [--rounds 5] [--connects 2000] [--concurrency 32] [--publishers 4]
       [--seconds 5] [--payload-bytes 128] [--variants none,weighted,sticky] [--filter JSON]...
       [--module LABEL=FILE]... [--out DIR]

  --variants  built-in variants, in order: none (no filter), weighted, sticky (placement: sticky);
              for diagnosis, Envoy from a static bootstrap without mqtt-xds: static-immediate,
              static-early-data (tcp_proxy alone, upstream_connect_mode IMMEDIATE / ON_DOWNSTREAM_DATA)
              and static-filter (the filter in front, ON_DOWNSTREAM_DATA); static-noop: a Wasm module with
              the same exports that does nothing (Envoy's own per-connection Wasm cost);
              static-inspect: static-filter with inspectPublish
  --module    LABEL=FILE: a Wasm module file for static variants named VARIANT@LABEL
              (static-filter@before), to compare two builds of the filter in the same run
  --filter    one more variant: these mqttFilter settings over weighted's, e.g. '{"inspectPublish":true}';
              repeatable; a setting mqtt-xds does not know skips that variant, saying why`;

interface Args {
  readonly rounds: number;
  readonly connects: number;
  readonly concurrency: number;
  readonly publishers: number;
  readonly seconds: number;
  readonly payloadBytes: number;
  readonly variants: readonly Variant[];
  readonly outDir: string;
}

function parseArgs(argv: readonly string[]): Args | string {
  const nums: Record<string, { value: number; min: number; max: number }> = {
    rounds: { value: 5, min: 1, max: 50 },
    connects: { value: 2000, min: 10, max: 100_000 },
    concurrency: { value: 32, min: 1, max: 1000 },
    publishers: { value: 4, min: 1, max: 64 },
    seconds: { value: 5, min: 1, max: 120 },
    'payload-bytes': { value: 128, min: 0, max: 65_536 },
  };
  let variantNames = 'none,weighted,sticky';
  const filters: string[] = [];
  const modules = new Map<string, string>();
  let outDir = path.join(REPO_ROOT, '.local', 'bench', 'filter');
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') return USAGE;
    const name = flag.replace(/^--/, '');
    if (nums[name]) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < nums[name].min || n > nums[name].max)
        return `${flag} takes an integer in ${nums[name].min}..${nums[name].max}, got ${value ?? '(nothing)'}`;
      nums[name].value = n;
    } else if (flag === '--variants') variantNames = value ?? '';
    else if (flag === '--filter') filters.push(value ?? '');
    else if (flag === '--module') {
      const m = /^([A-Za-z0-9_-]+)=(.+)$/.exec(value ?? '');
      if (!m) return `--module takes LABEL=FILE (label: letters, digits, _ and -), got ${value ?? '(nothing)'}`;
      const file = path.resolve(m[2]);
      if (!fs.existsSync(file)) return `--module ${m[1]}: no file ${file}`;
      modules.set(m[1], file);
    } else if (flag === '--out') outDir = path.resolve(value ?? '.');
    else return `unknown argument ${flag}\n\n${USAGE}`;
    i++;
  }
  const variants = parseVariants(variantNames, filters, modules);
  if (!variants.ok) return variants.error;
  return {
    rounds: nums.rounds.value,
    connects: nums.connects.value,
    concurrency: nums.concurrency.value,
    publishers: nums.publishers.value,
    seconds: nums.seconds.value,
    payloadBytes: nums['payload-bytes'].value,
    variants: variants.value,
    outDir,
  };
}

const log = (m: string): void => void process.stderr.write(`bench:filter: ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Sink {
  readonly ports: readonly number[];
  counts(): Promise<{ connects: number; publishes: number; publishBytes: number }>;
  stop(): Promise<void>;
}

async function startSink(brokers: number): Promise<Sink> {
  const script = path.join(REPO_ROOT, 'dist', 'test', 'bench', 'filter', 'sink.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing; run \`npm run build\` first`);
  const child: ChildProcess = fork(script, ['--ports', String(brokers)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the sink broker did not start within 10 s')), 10_000);
    child.once('message', (m: { type?: string; ports?: number[] }) => {
      clearTimeout(timer);
      if (m?.type === 'ready' && m.ports) resolve(m.ports);
      else reject(new Error(`the sink broker said ${JSON.stringify(m)}`));
    });
    child.once('exit', (code) => reject(new Error(`the sink broker exited (${code})`)));
  });
  return {
    ports,
    counts: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the sink broker did not answer within 5 s')), 5000);
        const onMessage = (m: { type?: string; connects: number; publishes: number; publishBytes: number }): void => {
          if (m?.type !== 'counts') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        child.send({ type: 'counts' });
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

interface Plane {
  readonly variant: Variant;
  readonly port: number;
  readonly envoy: { readonly pid: number };
  stop(): Promise<void>;
}

/** mqtt-xds with the variant's policy, and its Envoy holding every broker healthy; a string says why the variant cannot run. */
async function startVariant(v: Variant, sinkPorts: readonly number[], index: number): Promise<Plane | string> {
  if (v.staticBootstrap !== undefined) {
    const s = await startStatic(v.staticBootstrap, sinkPorts, v.moduleFile);
    return { variant: v, port: s.port, envoy: s.envoy, stop: () => s.envoy.stop() };
  }
  const setup = await planeConfig();
  const text = policyText(v);
  const policyFile = path.join(setup.dir, 'policy.yaml');
  if (text !== undefined) {
    const parsed = parsePolicy(text, 'policy.yaml');
    if (!parsed.ok) return `mqtt-xds refuses the policy: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
    fs.writeFileSync(policyFile, text);
  }
  fs.writeFileSync(
    setup.brokersFile,
    'brokers:\n' + sinkPorts.map((port, i) => `  - name: sink-${i + 1}\n    host: 127.0.0.1\n    port: ${port}\n`).join(''),
  );
  const config = withOverrides(setup.config, {
    balancing: { mode: 'static', ...(text === undefined ? {} : { policyFile }) },
  });
  const { plane }: { plane: ControlPlane } = await startPlane(config);
  let envoy: EnvoyHandle | undefined;
  try {
    envoy = await startEnvoy({ mode: 'delta', xdsPort: config.xds.port, nodeId: `bench-filter-${index}`, waitReady: 'live' });
    await untilHealthy(envoy, sinkPorts.length, `${v.name}: every sink broker healthy in Envoy`);
    const dump = await envoy.get('/config_dump');
    if (v.filter !== undefined && !dump.includes('mqtt_filter')) throw new Error(`${v.name}: Envoy's config has no MQTT filter`);
    if (v.filter === undefined && dump.includes('mqtt_filter')) throw new Error(`${v.name}: Envoy's config has the MQTT filter`);
  } catch (err) {
    await envoy?.stop();
    await plane.stop();
    throw err;
  }
  const e = envoy;
  return {
    variant: v,
    port: config.listener.port,
    envoy: e,
    stop: async () => {
      await e.stop();
      await plane.stop();
    },
  };
}

async function measureConnects(p: Plane, a: Args, round: number): Promise<Measurement & { failed: number }> {
  const cpu0 = processCpuSeconds(p.envoy.pid);
  const r = await connectRate({
    port: p.port,
    count: a.connects,
    concurrency: a.concurrency,
    prefix: `cr-${round}-${p.variant.name.slice(0, 8)}`,
    deadlineMs: 120_000,
  });
  const cpu = processCpuSeconds(p.envoy.pid) - cpu0;
  if (r.failed > 0 || r.timedOut)
    log(`${p.variant.name} round ${round}: ${r.failed} CONNECTs failed${r.timedOut ? ', deadline passed' : ''}`);
  return {
    variant: p.variant.name,
    round,
    perSec: r.done / (r.elapsedMs / 1000),
    envoyCpuUs: (cpu * 1e6) / Math.max(1, r.done),
    failed: r.failed,
  };
}

const PACKETS_PER_CHUNK = 64;

async function measurePublishes(p: Plane, a: Args, round: number, sink: Sink): Promise<Measurement> {
  const flood = await publishFlood({
    port: p.port,
    connections: a.publishers,
    prefix: `pub-${round}`,
    chunk: publishChunk('bench/filter', a.payloadBytes, PACKETS_PER_CHUNK),
    packetsPerChunk: PACKETS_PER_CHUNK,
    connectTimeoutMs: 10_000,
  });
  try {
    await sleep(1000);
    const c0 = await sink.counts();
    const cpu0 = processCpuSeconds(p.envoy.pid);
    const t0 = Date.now();
    await sleep(a.seconds * 1000);
    const c1 = await sink.counts();
    const cpu = processCpuSeconds(p.envoy.pid) - cpu0;
    const elapsed = (Date.now() - t0) / 1000;
    const n = c1.publishes - c0.publishes;
    return { variant: p.variant.name, round, perSec: n / elapsed, envoyCpuUs: (cpu * 1e6) / Math.max(1, n) };
  } finally {
    await flood.stop();
    // What Envoy still holds reaches the brokers before the next measurement starts counting.
    await sleep(500);
  }
}

function fmt(x: number | null, digits = 0): string {
  return x === null ? '–' : x.toFixed(digits);
}

function table(title: string, rows: readonly Summary[], unit: string, cpuScale: number, cpuUnit: string): string[] {
  return [
    `${title}`,
    '',
    `| variant | rounds | median ${unit} | ratio to none (median of rounds) | cost | Envoy CPU ${cpuUnit} (median) | CPU ratio to none |`,
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (s) =>
        `| ${s.variant} | ${s.rounds} | ${fmt(s.medianPerSec)} | ${fmt(s.rateRatio, 3)} | ${s.rateRatio === null ? '–' : `${((1 - s.rateRatio) * 100).toFixed(1)}%`} | ` +
        `${s.medianCpuUs === null ? '–' : (s.medianCpuUs * cpuScale).toFixed(1)} | ${fmt(s.cpuRatio, 3)} |`,
    ),
    '',
  ];
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    const help = args === USAGE;
    (help ? process.stdout : process.stderr).write(`${args}\n`);
    return help ? 0 : 2;
  }
  if (!fs.existsSync(path.join(REPO_ROOT, '.local', 'wasm', 'mqtt-filter.wasm'))) {
    throw new Error('.local/wasm/mqtt-filter.wasm is missing; run scripts/setup (it builds the MQTT filter)');
  }
  const sink = await startSink(3);
  const planes: Plane[] = [];
  const skipped = new Map<string, string>();
  const connects: (Measurement & { failed: number })[] = [];
  const publishes: Measurement[] = [];
  const started = new Date();
  try {
    for (const [i, v] of args.variants.entries()) {
      const p = await startVariant(v, sink.ports, i + 1);
      if (typeof p === 'string') {
        skipped.set(v.name, p);
        log(`${v.name}: skipped: ${p}`);
      } else {
        planes.push(p);
        log(`${v.name}: Envoy on 127.0.0.1:${p.port}`);
      }
    }
    if (planes.length === 0) throw new Error('no variant could start');
    // A short warm-up per variant: V8 compiles the module's hot paths, Envoy fills its pools.
    for (const p of planes) {
      await connectRate({ port: p.port, count: 200, concurrency: args.concurrency, prefix: 'warm', deadlineMs: 30_000 });
      await measurePublishes(p, { ...args, seconds: 1 }, 0, sink);
    }
    for (let round = 1; round <= args.rounds; round++) {
      for (const p of roundOrder(planes, round)) {
        const c = await measureConnects(p, args, round);
        const m = await measurePublishes(p, args, round, sink);
        connects.push(c);
        publishes.push(m);
        log(
          `round ${round} ${p.variant.name}: ${c.perSec.toFixed(0)} CONNECT/s (${c.envoyCpuUs.toFixed(0)} µs CPU each), ` +
            `${m.perSec.toFixed(0)} PUBLISH/s (${(m.envoyCpuUs * 1000).toFixed(0)} ns CPU each)`,
        );
      }
    }
  } finally {
    for (const p of planes) await p.stop().catch((err: Error) => log(`stopping ${p.variant.name}: ${err.message}`));
    await sink.stop();
  }
  const baseline = planes.some((p) => p.variant.name === 'none') ? 'none' : planes[0].variant.name;
  const failedConnects = connects.reduce((n, c) => n + c.failed, 0);
  const lines = [
    `## bench:filter, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${machineLine()}. Envoy 1.40 (--concurrency 1), one mqtt-xds per variant over ADS (Delta), 3 sink brokers; ` +
      `${args.rounds} rounds, order rotated each round. CONNECT: ${args.connects} per round, ${args.concurrency} at a time. ` +
      `PUBLISH: ${args.publishers} connections, QoS 0, ${args.payloadBytes}-byte payload, topic bench/filter, ${args.seconds} s per round. ` +
      `Failed CONNECTs: ${failedConnects}. Ratios are against ${baseline} in the same round.`,
    '',
    ...table('Connection setup (CONNECT→CONNACK)', summarise(connects, baseline), 'CONNECT/s', 1, 'µs/CONNECT'),
    ...table('PUBLISH throughput (counted at the brokers)', summarise(publishes, baseline), 'PUBLISH/s', 1000, 'ns/PUBLISH'),
    ...[...skipped].map(([name, why]) => `- ${name}: skipped: ${why}`),
  ];
  const markdown = lines.join('\n') + '\n';
  fs.mkdirSync(args.outDir, { recursive: true });
  fs.writeFileSync(path.join(args.outDir, 'results.md'), markdown);
  fs.writeFileSync(
    path.join(args.outDir, 'results.json'),
    JSON.stringify(
      { machine: machineLine(), startedAt: started.toISOString(), args, connects, publishes, skipped: Object.fromEntries(skipped) },
      null,
      1,
    ) + '\n',
  );
  process.stdout.write(`\n${markdown}\nWrote ${path.join(args.outDir, 'results.md')} and results.json\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:filter: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
