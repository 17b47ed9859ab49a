// Fleet simulation: the real balancing core and the real rebalancer state machine on
// simulated time, against a simulated fleet (docs/fleet-simulation.md).
//
//   npm run build && npm run bench:fleet -- [--scenario day|scale-out|sweep|all] [--clients N]
//       [--brokers N] [--envoys N] [--hours H] [--start-hour H] [--seed S] [--peers a,b] [--hints] [--policy FILE] [--out DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../../src/util/repo-root';
import { PEERS, type PeerName } from './control-plane';
import { scenarioTable, sweepTable } from './report';
import { dayScenario, scaleOutScenario, sweepScenario, SWEEP_BROKERS, type Scenario } from './scenarios';
import { simulate } from './simulation';
import type { RunSummary } from './summary';

const USAGE = `usage: npm run bench:fleet -- [--scenario day|scale-out|sweep|all] [--clients N] [--brokers N] [--envoys N]
       [--hours H] [--start-hour H] [--seed S] [--peers ${PEERS.join(',')}] [--hints] [--policy FILE] [--out DIR]

  --scenario  day (24 h, a failure and a drain), scale-out (10% more brokers), sweep (cost for 100..1000 brokers); default all
  --hours     simulated hours (day: 24, scale-out: 1.5)
  --start-hour  time of day when the run starts (day: 0, scale-out: 17; the daily peak is at 20)
  --hints     give mqtt-xds the brokers' capacities instead of inferring them from CPU
  --policy    a policy YAML for mqtt-xds instead of the scenario's own
  --out       where <scenario>-results.{md,json} go (default .local/bench/fleet)`;

interface Args {
  readonly scenario: 'day' | 'scale-out' | 'sweep' | 'all';
  readonly overrides: Partial<
    Pick<Scenario, 'clients' | 'brokers' | 'seed' | 'durationSec' | 'startOfDaySec' | 'capacityHints' | 'policyYaml'>
  >;
  readonly envoys?: number;
  readonly peers?: readonly PeerName[];
  readonly outDir: string;
}

function parseArgs(argv: readonly string[]): Args | string {
  let scenario: Args['scenario'] = 'all';
  const overrides: Record<string, unknown> = {};
  let envoys: number | undefined;
  let peers: PeerName[] | undefined;
  let outDir = path.join(REPO_ROOT, '.local', 'bench', 'fleet');
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    const count = (name: string): number | string => {
      const v = Number(value());
      return Number.isFinite(v) && v > 0 ? v : `${name} needs a positive number`;
    };
    let problem: string | undefined;
    const set = (key: string, v: number | string): void => (typeof v === 'string' ? void (problem = v) : void (overrides[key] = v));
    if (flag === '--help' || flag === '-h') return USAGE;
    else if (flag === '--scenario') {
      const v = value();
      if (!['day', 'scale-out', 'sweep', 'all'].includes(v)) return `unknown scenario ${v}\n\n${USAGE}`;
      scenario = v as Args['scenario'];
    } else if (flag === '--clients') set('clients', count(flag));
    else if (flag === '--brokers') set('brokers', count(flag));
    else if (flag === '--seed') set('seed', count(flag));
    else if (flag === '--hours') {
      const h = count(flag);
      set('durationSec', typeof h === 'string' ? h : Math.round(h * 3600));
    } else if (flag === '--start-hour') {
      const h = Number(value());
      if (!(h >= 0 && h < 24)) return '--start-hour needs an hour of the day, 0 to 24';
      overrides.startOfDaySec = Math.round(h * 3600);
    } else if (flag === '--envoys') {
      const e = count(flag);
      if (typeof e === 'string') return e;
      envoys = e;
    } else if (flag === '--peers') {
      const list = value().split(',').filter(Boolean);
      const unknown = list.filter((p) => !(PEERS as readonly string[]).includes(p));
      if (list.length === 0 || unknown.length > 0) return `unknown peer ${unknown.join(', ') || '(none)'}; known: ${PEERS.join(', ')}`;
      peers = list as PeerName[];
    } else if (flag === '--hints') overrides.capacityHints = true;
    else if (flag === '--policy') overrides.policyYaml = fs.readFileSync(value(), 'utf8');
    else if (flag === '--out') outDir = path.resolve(value());
    else return `unknown flag ${flag}\n\n${USAGE}`;
    if (problem) return problem;
  }
  return { scenario, overrides, envoys, peers, outDir };
}

function customise(s: Scenario, a: Args): Scenario {
  return {
    ...s,
    ...a.overrides,
    ...(a.envoys === undefined ? {} : { envoys: { ...s.envoys, count: a.envoys } }),
    ...(a.peers === undefined ? {} : { peers: a.peers }),
  };
}

function runScenario(s: Scenario): RunSummary[] {
  return s.peers.map((peer) => {
    process.stderr.write(`${s.name}: ${peer}, ${s.clients.toLocaleString('en-US')} clients, ${s.brokers} brokers … `);
    const r = simulate(s, peer, (t) => process.stderr.write(`${t / 3600}h `));
    process.stderr.write(`${r.wallSec} s\n`);
    if (r.accounted !== r.devices) throw new Error(`${s.name}/${peer}: ${r.devices} devices but ${r.accounted} accounted for (a bug)`);
    return r;
  });
}

function write(outDir: string, name: string, title: string, table: string, runs: readonly RunSummary[]): void {
  fs.mkdirSync(outDir, { recursive: true });
  const machine = `${os.cpus().length} cores, ${os.type()} ${os.release()}, Node ${process.version}`;
  const md = `## ${title}\n\n${machine}\n\n${table}\n`;
  fs.writeFileSync(path.join(outDir, `${name}-results.md`), md);
  fs.writeFileSync(path.join(outDir, `${name}-results.json`), JSON.stringify({ machine, runs }, null, 2) + '\n');
  process.stdout.write(`\n${md}\n`);
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(args + '\n');
    process.exitCode = args === USAGE ? 0 : 2;
    return;
  }
  const want = (s: Args['scenario']): boolean => args.scenario === 'all' || args.scenario === s;
  if (want('day')) {
    const s = customise(dayScenario(), args);
    const runs = runScenario(s);
    write(args.outDir, s.name, `day: ${s.durationSec / 3600} h, ${s.clients.toLocaleString('en-US')} clients`, scenarioTable(runs), runs);
  }
  if (want('scale-out')) {
    const s = customise(scaleOutScenario(), args);
    const runs = runScenario(s);
    write(args.outDir, s.name, `scale-out: +10% brokers, ${s.clients.toLocaleString('en-US')} clients`, scenarioTable(runs), runs);
  }
  if (want('sweep')) {
    const sizes = args.overrides.brokers === undefined ? SWEEP_BROKERS : [args.overrides.brokers];
    const { brokers: _b, clients: _c, ...rest } = args.overrides;
    const runs = sizes.flatMap((b) => runScenario(customise(sweepScenario(b), { ...args, overrides: rest, peers: undefined })));
    write(args.outDir, 'sweep', 'control-plane cost as the fleet grows', sweepTable(runs), runs);
  }
}

main();
