// What /status shows of each ADS stream, bounded so a stream subscribing to thousands of
// names cannot make the page huge.
import type { TypeStatus } from './stream-observer';
import type { TypeUrl } from './type-urls';

/** Names shown per type and stream in /status; the count is always shown. */
export const STATUS_NAMES = 50;

export type StreamKind = 'sotw' | 'delta';

export interface StreamStatus {
  readonly id: number;
  readonly kind: StreamKind;
  readonly nodeId: string;
  readonly peer: string;
  readonly openedAt: string;
  readonly types: Partial<Record<TypeUrl, TypeStatus>>;
}

/** /status shows at most STATUS_NAMES names per type and stream, and how many there are. */
export function boundedTypes(types: Partial<Record<TypeUrl, TypeStatus>>): Partial<Record<TypeUrl, TypeStatus>> {
  const out: Partial<Record<TypeUrl, TypeStatus>> = {};
  for (const [t, st] of Object.entries(types) as Array<[TypeUrl, TypeStatus]>) {
    out[t] =
      st.subscribed === 'wildcard' || st.subscribed.length <= STATUS_NAMES
        ? st
        : { ...st, subscribed: st.subscribed.slice(0, STATUS_NAMES), subscribedCount: st.subscribed.length };
  }
  return out;
}
