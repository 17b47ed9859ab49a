import { decideLease } from '../../../src/discovery/kubernetes/lease-decision';

describe('decideLease', () => {
  const now = 1_000_000;
  it('acquires when there is no lease or it was released', () => {
    expect(decideLease(undefined, 'me', now, 15_000).kind).toBe('acquire');
    expect(decideLease({ holderIdentity: '', renewTimeMs: now, leaseDurationMs: 15_000 }, 'me', now, 15_000).kind).toBe('acquire');
  });
  it('renews its own lease', () => {
    expect(decideLease({ holderIdentity: 'me', renewTimeMs: now - 1000, leaseDurationMs: 15_000 }, 'me', now, 15_000)).toEqual({
      kind: 'renew',
    });
  });
  it('follows a live lease held by another replica, saying when it expires', () => {
    expect(decideLease({ holderIdentity: 'other', renewTimeMs: now - 5000, leaseDurationMs: 15_000 }, 'me', now, 15_000)).toEqual({
      kind: 'follow',
      holder: 'other',
      expiresInMs: 10_000,
    });
  });
  it('takes over a lease whose holder stopped renewing', () => {
    const a = decideLease({ holderIdentity: 'other', renewTimeMs: now - 20_000, leaseDurationMs: 15_000 }, 'me', now, 15_000);
    expect(a).toEqual({ kind: 'acquire', why: 'lease of other expired 5000 ms ago' });
  });
  it('uses the default duration when the lease has none', () => {
    expect(decideLease({ holderIdentity: 'other', renewTimeMs: now - 9000 }, 'me', now, 10_000).kind).toBe('follow');
    expect(decideLease({ holderIdentity: 'other', renewTimeMs: now - 11_000 }, 'me', now, 10_000).kind).toBe('acquire');
  });
});
