import type { Problem } from '../../util/result';

// Operator drains: `kubectl annotate pod hivemq-1 mqtt-xds.io/drain=true` (the key is the
// setting discovery.kubernetes.drainAnnotation) drains that broker; `--overwrite ...=false`
// or removing the annotation ends the drain.

/** The parts of a v1 Pod we read; declared here so this file needs no Kubernetes client. */
export interface PodLike {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

export interface PodDrains {
  /** Pod name → why it drains. */
  readonly pods: ReadonlyMap<string, string>;
  /** Annotations with a value that is neither "true" nor "false"; those pods are not drained. */
  readonly problems: Problem[];
}

/**
 * Which pods carry the drain annotation. "true" (any case) drains; "false", an empty
 * value or no annotation does not. Any other value is reported and ignored: a typo must
 * not disconnect a broker's clients.
 */
export function podDrains(pods: readonly PodLike[], annotation: string): PodDrains {
  const out = new Map<string, string>();
  const problems: Problem[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name;
    const raw = pod.metadata?.annotations?.[annotation];
    if (!name || raw === undefined) continue;
    const value = raw.trim().toLowerCase();
    if (value === 'true') out.set(name, `pod annotation ${annotation}`);
    else if (value !== 'false' && value !== '') {
      problems.push({
        code: 'K8S_DRAIN_ANNOTATION',
        path: `pods/${pod.metadata?.namespace ?? '?'}/${name}`,
        message: `annotation ${annotation}=${JSON.stringify(raw)} is neither "true" nor "false"; ignored`,
      });
    }
  }
  return { pods: new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), problems };
}

/**
 * What the informer keeps of a pod: its identity, its resourceVersion (the watch resumes
 * from it) and the drain annotation. Spec and status, most of a pod's size, are dropped,
 * so watching every pod of a namespace costs little memory.
 */
export function slimPod(pod: PodLike, annotation: string): PodLike {
  const m = pod.metadata ?? {};
  const value = m.annotations?.[annotation];
  return {
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(value !== undefined ? { annotations: { [annotation]: value } } : {}),
    },
  };
}
