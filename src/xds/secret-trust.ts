// Who may be sent certificates and private keys (SDS). Pure.
import { setVersion, type Snapshot } from './snapshot';
import { SECRET } from './type-urls';

/**
 * A stream may receive Secrets when it comes from this machine's loopback, or over TLS with
 * a client certificate the server verified (mTLS). A plaintext or server-only-TLS stream from
 * the network could be anyone who reached the port: it gets no private key.
 */
export function mayReceiveSecrets(peer: string, peerCertificatePresented: boolean): boolean {
  return peerCertificatePresented || isLoopbackPeer(peer);
}

/** grpc-js peers: `127.0.0.1:5000`, `[::1]:5000`, `ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`, `unix:/path`. */
export function isLoopbackPeer(peer: string): boolean {
  const p = peer.replace(/^ipv[46]:/, '');
  if (p.startsWith('unix:')) return true;
  const host = p.startsWith('[') ? p.slice(1, p.indexOf(']')) : p.slice(0, p.lastIndexOf(':'));
  if (host === '::1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

const stripped = new WeakMap<Snapshot, Snapshot>();

/** The snapshot as an untrusted stream sees it: no Secrets. One copy per snapshot. */
export function withoutSecrets(snapshot: Snapshot | undefined): Snapshot | undefined {
  if (snapshot === undefined || snapshot.resources[SECRET].size === 0) return snapshot;
  let s = stripped.get(snapshot);
  if (!s) {
    s = {
      resources: { ...snapshot.resources, [SECRET]: new Map() },
      typeVersions: { ...snapshot.typeVersions, [SECRET]: setVersion(SECRET, []) },
      version: snapshot.version,
    };
    stripped.set(snapshot, s);
  }
  return s;
}
