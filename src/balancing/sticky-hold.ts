import type { PlannedEndpoint } from '../domain';
import { fmt } from './factors';

/**
 * Sticky placement hashes client ids over a Maglev table that Envoy builds from the hosts and
 * their weights, so every new weight set is a new table and moves ids (docs/mqtt-filter.md,
 * "Weights held in sticky placement"). A sticky cluster therefore keeps the weights it was
 * last given while each broker's computed weight stays within a band around them, and takes
 * the computed weights, all of them at once, when one leaves the band or when something must
 * not wait: a broker added, removed or re-addressed, a change of health (DRAINING), or a cut
 * of an overloaded broker.
 */
export interface HoldOptions {
  /** A broker's weight may drift this fraction either side of the weight held (0: no hold). */
  readonly bandRatio: number;
  /** Brokers cut for overload now: a decrease of theirs goes out at once. */
  readonly overloaded?: ReadonlySet<string>;
}

export interface HoldOutcome {
  /** What the sticky cluster is given: `next` as it is, or `next` with the weights held. */
  readonly endpoints: readonly PlannedEndpoint[];
  /** Why the computed endpoints were taken; undefined while the held weights stand (changed or not). */
  readonly took?: string;
}

export function holdStickyWeights(
  held: readonly PlannedEndpoint[] | undefined,
  next: readonly PlannedEndpoint[],
  opts: HoldOptions,
): HoldOutcome {
  if (held === undefined) return { endpoints: next, took: 'first plan' };
  const before = new Map(held.map((e) => [e.name, e]));
  const take = (why: string): HoldOutcome => ({ endpoints: next, took: why });
  if (opts.bandRatio <= 0) return { endpoints: next };
  if (held.length !== next.length) return take('brokers added or removed');
  for (const e of next) {
    const h = before.get(e.name);
    if (!h || h.address !== e.address || h.port !== e.port || h.websocketPort !== e.websocketPort) {
      return take('brokers added, removed or moved');
    }
    if (h.health !== e.health) return take(`${e.name} ${e.health}`);
  }
  for (const e of next) {
    const h = before.get(e.name)!.weight;
    if (e.weight < h && opts.overloaded?.has(e.name) === true) return take(`${e.name} overloaded: cut from ${h} to ${e.weight}`);
    const drift = Math.abs(e.weight - h) / h;
    if (drift > opts.bandRatio) {
      return take(`${e.name} from ${h} to ${e.weight}: ${fmt(drift * 100, 1)}% beyond the ±${fmt(opts.bandRatio * 100, 1)}% band`);
    }
  }
  return { endpoints: next.map((e) => ({ ...e, weight: before.get(e.name)!.weight })) };
}
