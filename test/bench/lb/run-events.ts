// The scenario's events, applied to the running brokers, balancer and metrics proxy at
// their time. Each returns a short note for the run's event log; a failure is thrown and
// logged by the runner, which goes on with the run.
import type { LaunchedBroker } from '../../tools/testbroker';
import { sleep } from '../../support/wait';
import type { Balancer } from './balancers';
import { DrainTracker, DrainWatch } from './drain-watch';
import type { NoiseProxy } from './noise-proxy';
import type { Scenario, ScenarioEvent } from './scenario';
import type { KillRecord } from './samples';

/** A leaving broker is stopped this long after the balancer stopped sending it clients. */
const LEAVE_GRACE_MS = 1000;

export interface EventContext {
  readonly balancer: Balancer;
  readonly brokers: ReadonlyMap<string, LaunchedBroker>;
  readonly stopped: Set<string>;
  readonly proxy?: NoiseProxy;
  readonly timers: NodeJS.Timeout[];
  readonly scenario: Scenario;
  readonly drains: DrainWatch[];
  readonly kills: KillRecord[];
  readonly tNow: () => number;
}

export async function applyEvent(e: ScenarioEvent, ctx: EventContext): Promise<string | undefined> {
  const durationMs = 'durationSec' in e && e.durationSec !== undefined ? Math.round(e.durationSec * 1000) : undefined;
  const post = async (broker: string, action: 'overload' | 'load', body: object): Promise<void> => {
    const reply = await ctx.brokers.get(broker)!.post(action, body);
    if (reply.status !== 200) throw new Error(`POST /admin/${action} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  };
  switch (e.kind) {
    case 'broker-join':
      await ctx.balancer.join(e.broker);
      return undefined;
    case 'broker-leave': {
      await ctx.balancer.leave(e.broker);
      if (ctx.stopped.has(e.broker)) return 'already dead';
      await sleep(LEAVE_GRACE_MS);
      ctx.stopped.add(e.broker);
      await ctx.brokers.get(e.broker)!.stop();
      return 'broker stopped';
    }
    case 'overload':
      await post(e.broker, 'overload', { level: e.level, ...(durationMs ? { durationMs } : {}) });
      return `level ${e.level}`;
    case 'extra-load':
      await post(e.broker, 'load', { extraCost: e.extraCost, ...(durationMs ? { durationMs } : {}) });
      return `extraCost ${e.extraCost}`;
    case 'drain': {
      const tracker = new DrainTracker(e.broker, round(ctx.tNow()));
      const watch = new DrainWatch(tracker, ctx.brokers.get(e.broker)!, ctx.balancer, ctx.tNow);
      ctx.drains.push(watch);
      if (!ctx.balancer.drain) {
        watch.fail('this strategy has no drain API');
        return 'skipped: this strategy has no drain API';
      }
      await watch.baseline();
      try {
        await ctx.balancer.drain(e.broker);
      } catch (err) {
        watch.fail((err as Error).message);
        throw err;
      }
      watch.start();
      return 'POST /drain';
    }
    case 'kill': {
      const broker = ctx.brokers.get(e.broker)!;
      const [state, counters] = await Promise.all([
        within(broker.state(), 1000).catch(() => undefined),
        ctx.balancer.counters ? within(ctx.balancer.counters(), 1000).catch(() => undefined) : undefined,
      ]);
      const atSec = round(ctx.tNow());
      ctx.stopped.add(e.broker);
      await broker.kill();
      ctx.kills.push({
        broker: e.broker,
        atSec,
        ...(state ? { connectionsAtKill: state.connections } : {}),
        ...(counters ? { countersAtKill: counters } : {}),
      });
      return `SIGKILL (${state?.connections ?? '?'} clients)`;
    }
    case 'noise': {
      const proxy = ctx.proxy;
      // Only mqtt-xds reads metrics; for the other strategies noise changes nothing.
      if (!proxy) return 'no metrics reader in this strategy';
      const names = e.broker ? [e.broker] : ctx.scenario.brokers.map((b) => b.name);
      for (const name of names) proxy.setNoise(name, e.ratio);
      if (durationMs) ctx.timers.push(setTimeout(() => names.forEach((n) => proxy.setNoise(n, 0)), durationMs));
      return `±${Math.round(e.ratio * 100)} %`;
    }
    case 'metrics-lie':
      if (!ctx.proxy) return 'no metrics reader in this strategy';
      ctx.proxy.setLie(e.broker, e.mode, durationMs);
      return `page ${e.mode}${durationMs ? ` for ${e.durationSec} s` : ''}`;
    case 'metrics-slow':
      if (!ctx.proxy) return 'no metrics reader in this strategy';
      ctx.proxy.setDelay(e.broker, e.delayMs, durationMs);
      return `page answers after ${e.delayMs} ms${durationMs ? ` for ${e.durationSec} s` : ''}`;
  }
}

export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function round(x: number): number {
  return Math.round(x * 100) / 100;
}
