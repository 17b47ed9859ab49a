// haproxy-leastconn: HAProxy 2.6 in TCP mode with `balance leastconn`, one process per
// instance in the foreground. Every broker of the scenario is declared up front; the
// ones that join later start `disabled` and are enabled over the runtime API (stats
// socket), as an operator adding a server without a reload would. A leaving broker is
// disabled and its sessions shut down. haproxy-leastconn-weighted gives each server a
// `weight` ∝ its broker's capacity, which leastconn divides the connection count by.
// haproxy-sticky hashes on the CONNECT's client id instead: the frontend waits for a valid
// CONNECT (`mqtt_is_valid`), and the backend's consistent hash over its client id
// (`mqtt_field_value`; weights ∝ capacity, bounded load at 125 % as mqtt-xds-sticky's
// Maglev) picks the broker.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../../support/ports';
import { waitFor } from '../../../support/wait';
import { runSync, startProc, waitWhileRunning, type Proc } from '../processes';
import { capacityWeights } from './capacity-weights';
import { ensureHaproxy } from './packages';
import type { Balancer, BalancerContext } from './types';

const BACKEND = 'brokers';

interface Instance {
  readonly proc: Proc;
  readonly socket: string;
}

export async function startHaproxyBalancer(ctx: BalancerContext): Promise<Balancer> {
  ensureHaproxy(ctx.log);
  const port = await freePort();
  const initial = new Set(ctx.scenario.initialBrokers);
  const instances: Instance[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(instances.map((i) => i.proc.stop('SIGTERM', 5000)));
    instances.forEach((inst, i) => fs.writeFileSync(path.join(ctx.workDir, `haproxy-${i + 1}.log`), inst.proc.logs()));
  };
  try {
    for (let i = 1; i <= ctx.scenario.envoys; i++) {
      const dir = path.join(ctx.workDir, `haproxy-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      const socket = path.join(dir, 'admin.sock');
      const config = path.join(dir, 'haproxy.cfg');
      // HAProxy refuses a socket path over 97 characters, which a long scenario name in the
      // work dir reaches: the config names it relative to HAProxy's working directory, dir.
      fs.writeFileSync(config, haproxyConfig(ctx, port, `unix@${path.basename(socket)}`, path.join(dir, 'haproxy.pid'), initial));
      const check = runSync('haproxy', ['-c', '-f', config], 30_000);
      if (!check.ok) throw new Error(`haproxy -c refused ${config}:\n${check.output}`);
      const proc = startProc(`haproxy-${i}`, 'haproxy', ['-db', '-f', config], { cwd: dir });
      instances.push({ proc, socket });
      await waitWhileRunning(
        proc,
        waitFor(async () => fs.existsSync(socket) && (await runtime(socket, 'show info')).includes('Name: HAProxy'), {
          timeoutMs: 15_000,
          what: `HAProxy ${i} runtime API`,
        }),
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- haproxy output ---\n${proc.logs()}`);
      });
    }
    // Wait until every initial server passed its first check, so t = 0 starts balanced.
    for (const inst of instances) {
      await waitFor(
        async () => {
          const up = serverStates(await runtime(inst.socket, `show servers state ${BACKEND}`));
          return [...initial].every((name) => up.get(name) === 2);
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'HAProxy servers to be up' },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const how =
    ctx.strategy === 'haproxy-sticky'
      ? 'consistent hash on the client id (weights ∝ capacity)'
      : `leastconn${ctx.strategy === 'haproxy-leastconn-weighted' ? ' (weights ∝ capacity)' : ''}`;
  ctx.log(`HAProxy ${how} x${instances.length} on 127.0.0.1:${port}`);

  const all = async (commands: string[]): Promise<void> => {
    for (const inst of instances) {
      for (const command of commands) {
        const reply = (await runtime(inst.socket, command)).trim();
        // Successful commands answer nothing (or an empty line).
        if (reply !== '') throw new Error(`HAProxy runtime API: "${command}" answered: ${reply}`);
      }
    }
  };
  return {
    endpoint: { host: '127.0.0.1', port },
    join: (broker) => all([`enable server ${BACKEND}/${broker}`]),
    leave: (broker) => all([`disable server ${BACKEND}/${broker}`, `shutdown sessions server ${BACKEND}/${broker}`]),
    stop,
  };
}

function haproxyConfig(ctx: BalancerContext, port: number, socket: string, pidFile: string, initial: ReadonlySet<string>): string {
  const sticky = ctx.strategy === 'haproxy-sticky';
  const weights = ctx.strategy === 'haproxy-leastconn-weighted' || sticky ? capacityWeights(ctx.scenario.brokers) : undefined;
  const servers = [...ctx.brokers.values()].map(
    (b) =>
      // A TCP connect check every 2 s: HAProxy's default health check, close to Envoy's cadence.
      `    server ${b.name} ${b.host}:${b.port} check inter 2s rise 1 fall 2` +
      `${weights ? ` weight ${weights.get(b.name)}` : ''}${initial.has(b.name) ? '' : ' disabled'}`,
  );
  return [
    'global',
    // HAProxy needs about two descriptors per connection and refuses to start above the fd limit.
    '    maxconn 8000',
    '    nbthread 1',
    `    pidfile ${pidFile}`,
    `    stats socket ${socket} mode 600 level admin`,
    '',
    'defaults',
    '    mode tcp',
    '    timeout connect 5s',
    // MQTT connections are long-lived and mostly idle: the keep-alive, not HAProxy, decides.
    '    timeout client 2h',
    '    timeout server 2h',
    '',
    'frontend mqtt',
    // Two instances bind the same port; HAProxy sets SO_REUSEPORT by default.
    `    bind 127.0.0.1:${port}`,
    ...(sticky ? STICKY_FRONTEND : []),
    `    default_backend ${BACKEND}`,
    '',
    `backend ${BACKEND}`,
    ...(sticky ? STICKY_BACKEND : ['    balance leastconn']),
    ...servers,
    '',
  ].join('\n');
}

// Wait (at most the MQTT filter's default first-packet deadline) for a whole, valid CONNECT;
// anything else is refused, as the filter refuses it. The client id goes into a session
// variable first: HAProxy 2.6.12 accepts `balance hash req.payload(0,0),mqtt_field_value(…)`
// in the backend, but it found no key there and fell back to weighted round robin (measured:
// 10 ids × 3 connects, 5 ids changed server), while `balance hash var(sess.cid)` keeps every id.
const STICKY_FRONTEND = [
  '    tcp-request inspect-delay 10s',
  '    tcp-request content set-var(sess.cid) req.payload(0,0),mqtt_field_value(connect,client_identifier) if { req.payload(0,0),mqtt_is_valid }',
  '    tcp-request content accept if { req.payload(0,0),mqtt_is_valid }',
  '    tcp-request content reject',
];
const STICKY_BACKEND = ['    balance hash var(sess.cid)', '    hash-type consistent', '    hash-balance-factor 125'];

/** One runtime API command over the stats socket; the reply text. */
function runtime(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    const chunks: Buffer[] = [];
    conn.setTimeout(timeoutMs, () => conn.destroy(new Error(`HAProxy runtime API "${command}" timed out`)));
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    conn.on('error', reject);
  });
}

/** `show servers state` → server name → srv_op_state (2 = running). */
function serverStates(text: string): Map<string, number> {
  const states = new Map<string, number>();
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  for (const line of lines.slice(1)) {
    // be_id be_name srv_id srv_name srv_addr srv_op_state …
    const f = line.trim().split(/\s+/);
    if (f.length > 5) states.set(f[3], Number(f[5]));
  }
  return states;
}
