// bench:xds: mqtt-xds's ADS server against go-control-plane v0.14.0 in the same run, with
// N simulated Envoys (a Go client, test/bench/xds/go/cmd/client: one connection and one
// ADS stream each) on loopback. Per server, mode and fleet size it reports:
// - RSS per stream (server RSS with the fleet connected, minus before, over N);
// - the connect storm: all N streams opened at once until every one has ACKed CDS, EDS, LDS;
// - EDS fan-out: from the change (mqtt-xds: the brokers file renamed into place, so its
//   watcher and push debounce count; the peer: SetSnapshot asked on stdin) to the first,
//   the median, the 99th percentile and the last Envoy holding the new endpoints;
// - CPU seconds the server spent per fan-out.
// Run: npm run build && npm run bench:xds [-- --streams 1000,10000 --modes sotw,delta --rounds 5 --settle-ms 0]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { freePort } from '../../support/ports';
import { processCpuSeconds } from '../../support/cgroup';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const STREAMS = arg('streams', '1000,10000').split(',').map(Number);
const MODES = arg('modes', 'sotw,delta').split(',') as Array<'sotw' | 'delta'>;
const ROUNDS = Number(arg('rounds', '5'));
const BROKERS = Number(arg('brokers', '100'));
/** mqtt-xds's discovery.brokersFileSettleMs; empty keeps its default (400 ms). The bench renames the file into place, which is atomic. */
const SETTLE_MS = arg('settle-ms', '');
const GO_DIR = path.join(REPO_ROOT, 'test', 'bench', 'xds', 'go');
const BIN_DIR = path.join(os.homedir(), '.cache', 'mqtt-xds', 'bench-xds');
/** One tick of process CPU time (USER_HZ is 100 on Linux): the floor of a CPU reading. */
const TICK_S = 0.01;

interface Result {
  server: string;
  mode: string;
  streams: number;
  rssPerStreamKB: number;
  stormMs: number;
  /** Streams that failed during the storm (a refused connect) and were opened again, as Envoy does. */
  stormRetries: number;
  fanout: { firstMs: number; p50Ms: number; p99Ms: number; allMs: number; cpuS: number; snapshotMs: number };
}

function buildGo(): void {
  fs.mkdirSync(BIN_DIR, { recursive: true });
  const env = {
    ...process.env,
    GOMODCACHE: path.join(os.homedir(), '.cache', 'mqtt-xds', 'go', 'mod'),
    GOCACHE: path.join(os.homedir(), '.cache', 'mqtt-xds', 'go', 'build-bench'),
    GOFLAGS: '-mod=mod',
    GOTOOLCHAIN: 'local',
  };
  execFileSync('go', ['build', '-o', BIN_DIR + '/', './cmd/peer', './cmd/client'], {
    cwd: GO_DIR,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** Lines of a child's stdout, awaited by prefix. */
class Lines {
  private readonly waiting: Array<{ prefix: string; resolve: (rest: string) => void }> = [];
  private readonly buffered: string[] = [];
  constructor(child: ChildProcess) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const w = this.waiting.findIndex((x) => line.startsWith(x.prefix));
      if (w >= 0) this.waiting.splice(w, 1)[0].resolve(line.split(' ').slice(1).join(' '));
      else this.buffered.push(line);
    });
  }
  next(prefix: string, timeoutMs: number): Promise<string> {
    const i = this.buffered.findIndex((l) => l.startsWith(prefix));
    if (i >= 0) return Promise.resolve(this.buffered.splice(i, 1)[0].split(' ').slice(1).join(' '));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${prefix}" line within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({ prefix, resolve: (rest) => (clearTimeout(timer), resolve(rest)) });
    });
  }
}

function rssKB(pid: number): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Children stay referenced (the run waits on their output) and die with the run. */
const children = new Set<ChildProcess>();
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function brokersYaml(version: number): string {
  const lines = ['brokers:'];
  for (let i = 0; i < BROKERS; i++)
    lines.push(`  - { name: broker-${i}, host: 127.0.0.1, port: ${20000 + i}, weight: ${100 + ((i * 7 + version) % 900)} }`);
  return lines.join('\n') + '\n';
}

interface Server {
  child: ChildProcess;
  port: number;
  change(version: number): void;
  /** When the server had the new snapshot (Unix ms): mqtt-xds's /status; the peer sets it on the "bump". */
  snapshotAt?(): Promise<number>;
  stop(): Promise<void>;
}

async function startOurs(dir: string): Promise<Server> {
  const file = path.join(dir, 'brokers.yaml');
  fs.writeFileSync(file, brokersYaml(1));
  const port = await freePort();
  const admin = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'dist', 'src', 'cli.js'),
      '--discovery-brokers-file',
      file,
      '--balancing-mode',
      'static',
      '--xds-port',
      String(port),
      '--admin-port',
      String(admin),
      ...(SETTLE_MS === '' ? [] : ['--discovery-brokers-file-settle-ms', SETTLE_MS]),
    ],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  track(child);
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${admin}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 200) throw new Error('mqtt-xds did not become ready');
    await sleep(100);
  }
  return {
    child,
    port,
    change: (version) => {
      fs.writeFileSync(`${file}.tmp`, brokersYaml(version));
      fs.renameSync(`${file}.tmp`, file);
    },
    snapshotAt: async () => {
      const body = (await (await fetch(`http://127.0.0.1:${admin}/status`)).json()) as { snapshot?: { publishedAt?: string } };
      return Date.parse(body.snapshot?.publishedAt ?? '');
    },
    stop: () => stop(child),
  };
}

async function startPeer(): Promise<Server> {
  const port = await freePort();
  const child = spawn(path.join(BIN_DIR, 'peer'), ['-port', String(port), '-brokers', String(BROKERS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  track(child);
  const lines = new Lines(child);
  await lines.next('ready', 10_000);
  return { child, port, change: () => child.stdin.write('bump\n'), stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function measure(name: string, server: Server, mode: 'sotw' | 'delta', n: number): Promise<Result> {
  const pid = server.child.pid!;
  await sleep(500);
  const rssBefore = rssKB(pid);
  const client = spawn(path.join(BIN_DIR, 'client'), ['-target', `127.0.0.1:${server.port}`, '-n', String(n), '-mode', mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  track(client);
  const lines = new Lines(client);
  try {
    const start = Number(await lines.next('start', 10_000));
    const [connectedAt, retried] = (await lines.next('connected', 180_000)).split(' ').map(Number);
    const connected = connectedAt;
    await sleep(2000);
    const rssAfter = rssKB(pid);
    const rounds: Result['fanout'][] = [];
    for (let r = 0; r < ROUNDS; r++) {
      client.stdin.write('mark\n');
      await lines.next('marked', 10_000);
      const cpu0 = processCpuSeconds(pid);
      const t0 = Date.now();
      server.change(r + 2);
      const round = JSON.parse(await lines.next('round', 120_000)) as { firstMs: number; p50Ms: number; p99Ms: number; allMs: number };
      const cpuS = processCpuSeconds(pid) - cpu0;
      const snapshotMs = (server.snapshotAt ? await server.snapshotAt() : t0) - t0;
      rounds.push({
        firstMs: round.firstMs - t0,
        p50Ms: round.p50Ms - t0,
        p99Ms: round.p99Ms - t0,
        allMs: round.allMs - t0,
        cpuS,
        snapshotMs,
      });
      await sleep(1500);
    }
    const median = (k: keyof Result['fanout']): number => {
      const v = rounds.map((x) => x[k]).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)];
    };
    return {
      server: name,
      mode,
      streams: n,
      rssPerStreamKB: (rssAfter - rssBefore) / n,
      stormMs: connected - start,
      stormRetries: retried,
      fanout: {
        firstMs: median('firstMs'),
        p50Ms: median('p50Ms'),
        p99Ms: median('p99Ms'),
        allMs: median('allMs'),
        cpuS: median('cpuS'),
        snapshotMs: median('snapshotMs'),
      },
    };
  } finally {
    await stop(client);
  }
}

async function main(): Promise<void> {
  buildGo();
  const results: Result[] = [];
  for (const n of STREAMS) {
    for (const mode of MODES) {
      for (const name of ['mqtt-xds', 'go-control-plane']) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-xds-'));
        const server = name === 'mqtt-xds' ? await startOurs(dir) : await startPeer();
        try {
          const r = await measure(name, server, mode, n);
          results.push(r);
          console.error(JSON.stringify(r));
        } finally {
          await server.stop();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }
  const f = (x: number, d = 0): string => x.toFixed(d);
  console.log(
    'Times from the change; "snapshot" is when the server held the new snapshot, and the last column is the fan-out from there to the last Envoy.',
  );
  console.log('');
  console.log(
    '| streams | mode | server | RSS/stream KB | connect storm ms (retried streams) | snapshot ms | first ms | p50 ms | p99 ms | all ms | snapshot to all ms | CPU s/fan-out |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const o = r.fanout;
    console.log(
      `| ${r.streams} | ${r.mode} | ${r.server} | ${f(r.rssPerStreamKB, 1)} | ${f(r.stormMs)} (${r.stormRetries}) | ${f(o.snapshotMs)} | ${f(o.firstMs)} | ${f(o.p50Ms)} | ${f(o.p99Ms)} | ${f(o.allMs)} | ${f(o.allMs - o.snapshotMs)} | ${f(o.cpuS, 2)} |`,
    );
  }
  console.log('');
  console.log('mqtt-xds over go-control-plane:');
  console.log('');
  console.log(
    '| streams | mode | RSS/stream | connect storm | all, from the change | p99, from the change | snapshot to all | CPU/fan-out |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of STREAMS) {
    for (const mode of MODES) {
      const ours = results.find((r) => r.server === 'mqtt-xds' && r.mode === mode && r.streams === n);
      const peer = results.find((r) => r.server === 'go-control-plane' && r.mode === mode && r.streams === n);
      if (!ours || !peer) continue;
      const x = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
      const fromSnapshot = (r: Result): number => r.fanout.allMs - r.fanout.snapshotMs;
      console.log(
        `| ${n} | ${mode} | ${x(ours.rssPerStreamKB, peer.rssPerStreamKB)} | ${x(ours.stormMs, peer.stormMs)} | ${x(ours.fanout.allMs, peer.fanout.allMs)} | ${x(ours.fanout.p99Ms, peer.fanout.p99Ms)} | ${x(fromSnapshot(ours), fromSnapshot(peer))} | ${x(ours.fanout.cpuS || TICK_S, peer.fanout.cpuS || TICK_S)} |`,
      );
    }
  }
  fs.mkdirSync(path.join(REPO_ROOT, 'test-results'), { recursive: true });
  fs.writeFileSync(path.join(REPO_ROOT, 'test-results', 'bench-xds.json'), JSON.stringify(results, null, 2));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
