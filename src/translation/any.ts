import type { AnyExtension } from '@grpc/proto-loader';

export const TYPE_PREFIX = 'type.googleapis.com/';

/**
 * Wraps a typed message for an `Any` field. The `@type` form keeps golden files readable
 * (it is what Envoy's own YAML uses); the encoder packs it.
 */
export function typed<T extends object>(typeName: string, message: T): AnyExtension {
  return { '@type': TYPE_PREFIX + typeName, ...message };
}

export function durationMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}
