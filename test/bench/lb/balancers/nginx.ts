// nginx-least-conn: NGINX 1.22 stream proxy with `least_conn`, one master per instance in
// the foreground (one worker, like Envoy's --concurrency 1). Joins and leaves rewrite the
// upstream block and reload gracefully (`nginx -s reload`): a new worker takes new
// connections, the old one keeps serving its established ones until they close. So after
// a reload least_conn starts counting from zero, which is part of what is measured.
// nginx-least-conn-weighted gives each server `weight=` ∝ its broker's capacity, which
// least_conn takes into account.
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../support/ports';
import { sleep, waitFor } from '../../../support/wait';
import { childPids, isAlive, runSync, startProc, waitWhileRunning, type Proc } from '../processes';
import { capacityWeights } from './capacity-weights';
import { ensureNginx, NGINX_STREAM_MODULE } from './packages';
import type { Balancer, BalancerContext } from './types';

interface Instance {
  readonly dir: string;
  readonly config: string;
  readonly proc: Proc;
  /** Every worker pid seen, so none outlives the benchmark. */
  readonly workers: Set<number>;
}

export async function startNginxBalancer(ctx: BalancerContext): Promise<Balancer> {
  ensureNginx(ctx.log);
  const port = await freePort();
  const present = new Set(ctx.scenario.initialBrokers);
  const instances: Instance[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(instances.map((i) => stopInstance(i)));
    instances.forEach((inst, i) => fs.writeFileSync(path.join(ctx.workDir, `nginx-${i + 1}.log`), inst.proc.logs()));
  };
  try {
    for (let i = 1; i <= ctx.scenario.envoys; i++) {
      const dir = path.join(ctx.workDir, `nginx-${i}`);
      fs.mkdirSync(dir, { recursive: true });
      const config = path.join(dir, 'nginx.conf');
      fs.writeFileSync(config, nginxConfig(ctx, port, dir, present));
      const test = runSync('nginx', ['-t', ...baseArgs(dir, config)], 30_000);
      if (!test.ok) throw new Error(`nginx -t refused ${config}:\n${test.output}`);
      const proc = startProc(`nginx-${i}`, 'nginx', baseArgs(dir, config), { cwd: dir });
      const inst: Instance = { dir, config, proc, workers: new Set() };
      instances.push(inst);
      await waitWhileRunning(
        proc,
        waitFor(() => noteWorkers(inst).length > 0 && fs.existsSync(path.join(dir, 'nginx.pid')), {
          timeoutMs: 15_000,
          what: `NGINX ${i} worker`,
        }),
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n--- nginx output ---\n${proc.logs()}\n${readLog(dir)}`);
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  ctx.log(
    `NGINX least_conn${ctx.strategy === 'nginx-least-conn-weighted' ? ' (weights ∝ capacity)' : ''} x${instances.length} on 127.0.0.1:${port}`,
  );

  const reloadAll = async (): Promise<void> => {
    for (const inst of instances) {
      fs.writeFileSync(inst.config, nginxConfig(ctx, port, inst.dir, present));
      const before = new Set(noteWorkers(inst));
      const reload = runSync('nginx', [...baseArgs(inst.dir, inst.config), '-s', 'reload'], 30_000);
      if (!reload.ok) throw new Error(`nginx -s reload failed:\n${reload.output}\n${readLog(inst.dir)}`);
      // Reloaded once a worker that was not there before is running.
      await waitFor(() => noteWorkers(inst).some((pid) => !before.has(pid)), {
        timeoutMs: 10_000,
        intervalMs: 20,
        what: 'a new NGINX worker after reload',
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n${readLog(inst.dir)}`);
      });
    }
  };
  return {
    endpoint: { host: '127.0.0.1', port },
    join: async (broker) => {
      present.add(broker);
      await reloadAll();
    },
    leave: async (broker) => {
      present.delete(broker);
      await reloadAll();
    },
    stop,
  };
}

function baseArgs(dir: string, config: string): string[] {
  // -e: the startup error log, before the config's error_log is read (1.19.5+).
  return ['-p', dir, '-c', config, '-e', path.join(dir, 'error.log')];
}

function nginxConfig(ctx: BalancerContext, port: number, dir: string, present: ReadonlySet<string>): string {
  const weights = ctx.strategy === 'nginx-least-conn-weighted' ? capacityWeights(ctx.scenario.brokers) : undefined;
  const servers = [...present].map((name) => {
    const b = ctx.brokers.get(name)!;
    return `        server ${b.host}:${b.port}${weights ? ` weight=${weights.get(name)}` : ''};`;
  });
  return [
    `load_module ${NGINX_STREAM_MODULE};`,
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    'worker_rlimit_nofile 20000;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} warn;`,
    'events { worker_connections 10000; }',
    'stream {',
    '    upstream brokers {',
    '        least_conn;',
    ...servers,
    '    }',
    '    server {',
    // reuseport: two instances share the port and the kernel spreads clients.
    `        listen 127.0.0.1:${port} reuseport;`,
    '        proxy_pass brokers;',
    '        proxy_connect_timeout 5s;',
    // MQTT connections are long-lived and mostly idle: the keep-alive, not NGINX, decides.
    '        proxy_timeout 2h;',
    '    }',
    '}',
    '',
  ].join('\n');
}

function noteWorkers(inst: Instance): number[] {
  const pids = childPids(inst.proc.pid);
  for (const pid of pids) inst.workers.add(pid);
  return pids;
}

async function stopInstance(inst: Instance): Promise<void> {
  noteWorkers(inst);
  // SIGTERM = fast shutdown: the master stops every worker, old ones included.
  await inst.proc.stop('SIGTERM', 5000);
  await sleep(100);
  for (const pid of inst.workers) {
    // The pid must still be an NGINX process: never signal a pid the kernel reused.
    if (isAlive(pid) && commandLine(pid).startsWith('nginx')) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function readLog(dir: string): string {
  const file = path.join(dir, 'error.log');
  return fs.existsSync(file) ? `--- ${file} ---\n${fs.readFileSync(file, 'utf8').split('\n').slice(-20).join('\n')}` : '';
}
