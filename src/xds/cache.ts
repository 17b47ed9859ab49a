import type { ResourceSet } from '../translation';
import { validateResources } from '../translation';
import { fail, ok, type Problem, type Result } from '../util/result';
import { CodecError } from './codec';
import { buildSnapshot, type Snapshot } from './snapshot';
import { PUSH_ORDER, type TypeUrl } from './type-urls';

export type SnapshotListener = (snapshot: Snapshot, changed: ReadonlySet<TypeUrl>) => void;

export interface PublishOutcome {
  readonly snapshot: Snapshot;
  /** Types whose content differs from the previous snapshot; empty when nothing changed. */
  readonly changed: ReadonlySet<TypeUrl>;
}

/**
 * Holds the current snapshot. It knows nothing about gRPC: streams subscribe to it.
 * A resource set that fails validation or encoding is refused and the last good snapshot
 * keeps being served.
 */
export class SnapshotCache {
  private current: Snapshot | undefined;
  private readonly listeners = new Set<SnapshotListener>();

  snapshot(): Snapshot | undefined {
    return this.current;
  }

  subscribe(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(set: ResourceSet): Result<PublishOutcome> {
    const problems = validateResources(set);
    if (problems.length > 0) return fail(problems);
    let next: Snapshot;
    try {
      next = buildSnapshot(set, this.current);
    } catch (err) {
      if (err instanceof CodecError) return fail([codecProblem(err)]);
      throw err;
    }
    const prev = this.current;
    const changed = new Set<TypeUrl>(PUSH_ORDER.filter((t) => !prev || prev.typeVersions[t] !== next.typeVersions[t]));
    if (changed.size === 0) return ok({ snapshot: prev as Snapshot, changed });
    this.current = next;
    for (const listener of this.listeners) listener(next, changed);
    return ok({ snapshot: next, changed });
  }
}

function codecProblem(err: CodecError): Problem {
  return { code: 'ENCODE', path: err.message.split(':')[0] ?? '', message: err.message };
}
