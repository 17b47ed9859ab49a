/** The parts of a coordination.k8s.io/v1 Lease the election reads. */
export interface LeaseView {
  readonly holderIdentity?: string;
  /** Milliseconds since the epoch of the holder's last renewal. */
  readonly renewTimeMs?: number;
  readonly leaseDurationMs?: number;
}

export type LeaseAction =
  /** Nobody holds it, the holder let it lapse, or released it: take it. */
  | { readonly kind: 'acquire'; readonly why: string }
  /** We hold it: renew it. */
  | { readonly kind: 'renew' }
  /** Someone else holds a live lease: follow. */
  | { readonly kind: 'follow'; readonly holder: string; readonly expiresInMs: number };

/**
 * Pure leader-election step. A lease is live while renewTime + leaseDuration is in the
 * future; a holder that stops cleanly releases it (empty holder) so the next replica
 * takes over at once instead of after the lease duration.
 */
export function decideLease(lease: LeaseView | undefined, me: string, nowMs: number, defaultDurationMs: number): LeaseAction {
  if (!lease) return { kind: 'acquire', why: 'no lease yet' };
  const holder = lease.holderIdentity ?? '';
  if (holder === '') return { kind: 'acquire', why: 'lease released' };
  if (holder === me) return { kind: 'renew' };
  const expiresAt = (lease.renewTimeMs ?? 0) + (lease.leaseDurationMs ?? defaultDurationMs);
  if (expiresAt <= nowMs) return { kind: 'acquire', why: `lease of ${holder} expired ${nowMs - expiresAt} ms ago` };
  return { kind: 'follow', holder, expiresInMs: expiresAt - nowMs };
}
