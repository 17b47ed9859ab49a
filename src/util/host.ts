import { isIP } from 'node:net';

// RFC 1123 labels: letters, digits and inner hyphens, at most 63 characters each.
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** True for an IPv4 or IPv6 literal (no brackets, no port). */
export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}

/** True for a DNS name that a resolver could look up (a trailing dot is allowed). */
export function isDnsName(host: string): boolean {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // An all-numeric last label would make `10.0.0.300` a "name" instead of a bad address.
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return false;
  return labels.every((l) => LABEL.test(l));
}

/** An IP literal or a DNS name. */
export function isHost(host: string): boolean {
  return isIpLiteral(host) || isDnsName(host);
}

/** Why a host string is not acceptable, phrased as what to do; undefined when it is fine. */
export function hostProblem(host: string): string | undefined {
  if (isHost(host)) return undefined;
  if (/^\[.*\]$/.test(host)) return 'write an IPv6 address without brackets';
  if (/:\d+$/.test(host) && isHost(host.replace(/:\d+$/, ''))) return 'give the port separately, not as host:port';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) return 'give a bare host, not a URL';
  return 'expected an IPv4 or IPv6 address or a DNS name';
}

/**
 * One spelling per address, so `::1`, `0:0:0:0:0:0:0:1` and `::ffff:127.0.0.1`-style forms
 * compare equal: IPv6 literals in their compressed form (as the URL parser writes them),
 * names lower-cased. Not for display.
 */
export function canonicalHost(host: string): string {
  if (isIP(host) === 6) {
    try {
      return new URL(`http://[${host}]/`).hostname.slice(1, -1);
    } catch {
      return host.toLowerCase();
    }
  }
  const name = host.toLowerCase();
  return name.endsWith('.') ? name.slice(0, -1) : name;
}
