import { buildResources } from '../../../src/translation';
import { buildSnapshot, isLoopbackPeer, mayReceiveSecrets, SECRET, withoutSecrets } from '../../../src/xds';
import { model } from '../translation/fixtures';

describe('who is sent certificates and keys (SDS)', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['ipv4:127.0.0.1:5000', true],
    ['127.8.9.10:1', true],
    ['[::1]:5000', true],
    ['ipv6:[::1]:5000', true],
    ['[::ffff:127.0.0.1]:5000', true],
    ['unix:/run/xds.sock', true],
    ['10.0.0.5:5000', false],
    ['[::ffff:10.0.0.5]:5000', false],
    ['[2001:db8::1]:5000', false],
    ['128.0.0.1:5000', false],
    ['127.0.0.1.evil:5000', false],
  ])('%s is loopback: %s', (peer, loopback) => {
    expect(isLoopbackPeer(peer)).toBe(loopback);
  });

  it('trusts loopback, or a peer that presented a verified client certificate; nobody else', () => {
    expect(mayReceiveSecrets('10.0.0.5:5000', false)).toBe(false);
    expect(mayReceiveSecrets('10.0.0.5:5000', true)).toBe(true);
    expect(mayReceiveSecrets('127.0.0.1:5000', false)).toBe(true);
  });

  it('shows an untrusted stream a snapshot without Secrets, the rest unchanged, one copy per snapshot', () => {
    const m = model();
    const name = 'mqtt.server_certificate';
    const snap = buildSnapshot(
      buildResources({
        ...m,
        listener: { ...m.listener, tls: { secretName: name, minVersion: 'TLSv1_2' } },
        certificates: [{ name, certificateChain: 'c', privateKey: 'k' }],
      }),
    );
    expect(snap.resources[SECRET].size).toBe(1);
    const seen = withoutSecrets(snap)!;
    expect(seen.resources[SECRET].size).toBe(0);
    expect(seen.typeVersions[SECRET]).not.toBe(snap.typeVersions[SECRET]);
    for (const t of Object.keys(snap.resources) as Array<keyof typeof snap.resources>) {
      if (t !== SECRET) expect(seen.resources[t]).toBe(snap.resources[t]);
    }
    expect(withoutSecrets(snap)).toBe(seen);
    const plain = buildSnapshot(buildResources(m));
    expect(withoutSecrets(plain)).toBe(plain);
  });
});
