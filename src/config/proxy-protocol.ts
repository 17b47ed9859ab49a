// The upstream PROXY protocol's TLV list (cluster.proxyProtocol.tlvs, docs/proxy-protocol.md):
// `TYPE=VALUE` entries, comma-separated. VALUE is literal text, or one %SOURCE% that Envoy
// fills per connection from the client's side of it, or the tenant's name.
import type { Problem } from '../util/result';

/**
 * Values taken from the downstream connection. Envoy evaluates a TLV's format string on
 * the *upstream* connection, where its DOWNSTREAM_* operators describe Envoy's link to the
 * broker; so these are copied over through filter state (translation builds that).
 */
export const DOWNSTREAM_TLV_SOURCES = [
  'REQUESTED_SERVER_NAME',
  'DOWNSTREAM_PEER_SUBJECT',
  'DOWNSTREAM_PEER_URI_SAN',
  'DOWNSTREAM_PEER_DNS_SAN',
  'DOWNSTREAM_PEER_FINGERPRINT_256',
] as const;
export type DownstreamTlvSource = (typeof DOWNSTREAM_TLV_SOURCES)[number];
/** The tenant whose chain the client came in on: a literal per tenant cluster, absent elsewhere. */
export const TENANT_TLV_SOURCE = 'TENANT';
export type TlvSource = DownstreamTlvSource | typeof TENANT_TLV_SOURCE;

export type ProxyTlv = { readonly type: number; readonly value: string } | { readonly type: number; readonly source: TlvSource };

const SOURCES: readonly string[] = [...DOWNSTREAM_TLV_SOURCES, TENANT_TLV_SOURCE];
/** One PROXY v2 header carries the addresses and every TLV; keep each value small. */
export const MAX_TLV_VALUE_BYTES = 255;
export const MAX_TLVS = 16;
const TYPE = /^(0[xX][0-9a-fA-F]{1,8}|[0-9]{1,10})$/;
const LITERAL = /^[\x21-\x7e]+$/;

/** Parses the TLV list; every entry that is wrong gives one problem naming `path` and the entry. */
export function parseProxyTlvs(text: string, path: string): { tlvs: ProxyTlv[]; problems: Problem[] } {
  const tlvs: ProxyTlv[] = [];
  const problems: Problem[] = [];
  if (text.trim() === '') return { tlvs, problems };
  const entries = text.split(',');
  const bad = (i: number, entry: string, code: string, why: string): void => {
    problems.push({ code, path, message: `${path}: entry ${i + 1} "${entry}": ${why}` });
  };
  if (entries.length > MAX_TLVS) {
    problems.push({ code: 'CONFIG_PROXY_TLV_COUNT', path, message: `${path}: ${entries.length} entries, at most ${MAX_TLVS}` });
  }
  const seen = new Set<number>();
  entries.forEach((raw, i) => {
    const entry = raw.trim();
    const eq = entry.indexOf('=');
    if (eq <= 0) return bad(i, entry, 'CONFIG_PROXY_TLV_FORM', 'expected TYPE=VALUE, e.g. 0xE0=edge-1 or 0xE1=%REQUESTED_SERVER_NAME%');
    const typeText = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (!TYPE.test(typeText)) return bad(i, entry, 'CONFIG_PROXY_TLV_TYPE', `TLV type "${typeText}" is not a number (decimal or 0x hex)`);
    const type = Number(typeText);
    if (type > 255) {
      return bad(
        i,
        entry,
        'CONFIG_PROXY_TLV_TYPE',
        `TLV type ${type} is out of range: a PROXY v2 TLV type is one byte, 0..255 (0xE0..0xEF are for custom use)`,
      );
    }
    if (seen.has(type)) return bad(i, entry, 'CONFIG_PROXY_TLV_DUPLICATE', `TLV type ${typeText} is given twice`);
    seen.add(type);
    const operator = /^%([A-Z0-9_]+)%$/.exec(value);
    if (operator) {
      const source = operator[1];
      if (!SOURCES.includes(source))
        return bad(i, entry, 'CONFIG_PROXY_TLV_SOURCE', `unknown source %${source}%; one of ${SOURCES.map((s) => `%${s}%`).join(', ')}`);
      tlvs.push({ type, source: source as TlvSource });
      return;
    }
    if (value.includes('%')) return bad(i, entry, 'CONFIG_PROXY_TLV_VALUE', 'a value is literal text without "%", or exactly one %SOURCE%');
    if (!LITERAL.test(value) || value.length > MAX_TLV_VALUE_BYTES) {
      return bad(
        i,
        entry,
        'CONFIG_PROXY_TLV_VALUE',
        `a literal value is 1..${MAX_TLV_VALUE_BYTES} printable ASCII characters without spaces or commas`,
      );
    }
    tlvs.push({ type, value });
  });
  return { tlvs, problems };
}
