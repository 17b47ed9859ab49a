// Follows one drain closely: every DRAIN_POLL_MS it reads whether each Envoy shows the
// broker as DRAINING, the broker's own client count and session counter, and mqtt-xds's
// drain progress. DrainTracker (pure) turns the polls into a DrainRecord; DrainWatch is the
// polling shell around it.
import type { LaunchedBroker } from '../../tools/testbroker';
import { sleep } from '../../support/wait';
import type { Balancer, DrainProgress } from './balancers';
import type { DrainRecord } from './samples';

/** Short, because new sessions on the broker are counted up to the last poll before the ACK. */
export const DRAIN_POLL_MS = 200;
/** Once the broker is empty and mqtt-xds says drained, only late arrivals are watched for. */
const SETTLED_POLL_MS = 1000;

/** One look at a draining broker; a field is undefined when its source did not answer. */
export interface DrainPoll {
  readonly atSec: number;
  /** Every Envoy has the broker's host flagged eds_draining. */
  readonly acked?: boolean;
  /** Envoy's cx_total for the host, summed over Envoys. */
  readonly envoyCx?: number;
  readonly connections?: number;
  readonly clientConnects?: number;
  readonly progress?: DrainProgress;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class DrainTracker {
  private readonly record: Mutable<DrainRecord> & { phases: { atSec: number; phase: string; note?: string }[] };

  constructor(broker: string, requestedAtSec: number) {
    this.record = { broker, requestedAtSec, phases: [] };
  }

  /**
   * Feed polls in time order, starting with one taken just before the drain was asked for.
   * Until a poll shows every Envoy flagging the broker, its counters are the "before ACK"
   * baseline; that makes the count of sessions after the ACK an upper bound.
   */
  observe(p: DrainPoll): void {
    const r = this.record;
    if (r.connectionsAtRequest === undefined && p.connections !== undefined) r.connectionsAtRequest = p.connections;
    if (r.ackSeenAtSec === undefined) {
      if (p.acked === true) {
        r.ackSeenAtSec = p.atSec;
      } else {
        if (p.clientConnects !== undefined) r.connectsBeforeAck = p.clientConnects;
        if (p.envoyCx !== undefined) r.envoyCxBeforeAck = p.envoyCx;
      }
    }
    if (p.clientConnects !== undefined) r.connectsAtEnd = p.clientConnects;
    if (p.envoyCx !== undefined) r.envoyCxAtEnd = p.envoyCx;
    if (p.connections === 0 && r.emptyAtSec === undefined && p.atSec >= r.requestedAtSec) r.emptyAtSec = p.atSec;
    const progress = p.progress;
    if (progress) {
      if (progress.drained && r.drainedAtSec === undefined) r.drainedAtSec = p.atSec;
      r.moved = progress.moved;
      const last = r.phases[r.phases.length - 1];
      if (progress.phase !== undefined && progress.phase !== last?.phase) {
        r.phases.push({ atSec: p.atSec, phase: progress.phase, ...(progress.note ? { note: progress.note } : {}) });
      }
    }
  }

  /** Settled: nothing left on the broker and mqtt-xds agrees. */
  get settled(): boolean {
    return this.record.emptyAtSec !== undefined && this.record.drainedAtSec !== undefined;
  }

  fail(error: string): void {
    this.record.error = error;
  }

  result(): DrainRecord {
    return { ...this.record, phases: [...this.record.phases] };
  }
}

/** Polls one draining broker until stopped. */
export class DrainWatch {
  private stopped = false;
  private failed = false;
  private loop: Promise<void> = Promise.resolve();
  private stopping: Promise<DrainRecord> | undefined;

  constructor(
    private readonly tracker: DrainTracker,
    private readonly broker: LaunchedBroker,
    private readonly balancer: Balancer,
    private readonly tNow: () => number,
  ) {}

  /** One poll now, before the drain is asked for: the baseline of every counter. */
  async baseline(): Promise<void> {
    this.tracker.observe(await this.poll());
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        this.tracker.observe(await this.poll());
        await sleep(this.tracker.settled ? SETTLED_POLL_MS : DRAIN_POLL_MS);
      }
    })();
  }

  fail(error: string): void {
    this.failed = true;
    this.tracker.fail(error);
  }

  /** One last poll (late arrivals count until the end), then the record. Safe to call twice. */
  stop(): Promise<DrainRecord> {
    this.stopping ??= (async () => {
      this.stopped = true;
      await this.loop;
      if (!this.failed) this.tracker.observe(await this.poll());
      return this.tracker.result();
    })();
    return this.stopping;
  }

  private async poll(): Promise<DrainPoll> {
    const name = this.broker.name;
    const atSec = this.tNow();
    const [views, state, progress] = await Promise.all([
      this.balancer.views?.().catch(() => undefined),
      this.broker.state().catch(() => undefined),
      this.balancer.drainStatus?.(name).catch(() => undefined),
    ]);
    const flagged = views?.map((v) => v.flags?.[name]?.includes('eds_draining'));
    const cx = views?.map((v) => v.cxTotal?.[name]);
    return {
      atSec: Math.round(atSec * 100) / 100,
      ...(flagged && flagged.every((f) => f !== undefined) ? { acked: flagged.every((f) => f === true) } : {}),
      ...(cx && cx.every((c) => c !== undefined) ? { envoyCx: cx.reduce((a, b) => a + b, 0) } : {}),
      ...(state ? { connections: state.connections, clientConnects: state.clientConnects } : {}),
      ...(progress ? { progress } : {}),
    };
  }
}
