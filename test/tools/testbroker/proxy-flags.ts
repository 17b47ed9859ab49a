// The capacity broker's PROXY protocol flags, declared like the others in capacity-config.ts,
// which lists them after the CPU flags. Kept apart so each file stays small.
import type { FlagSpec } from './capacity-config';
import { PROXY_MODES, type ProxyMode } from './proxy-accept';
import { V1_MAX_BYTES } from './proxy-header';
import { V2_FIXED_BYTES } from './proxy-v2';

export interface ProxyProtocolConfig {
  /** Whether the MQTT TCP port expects a PROXY header first. */
  readonly proxyProtocol: ProxyMode;
  readonly proxyMaxHeaderBytes: number;
  readonly proxyHeaderTimeoutMs: number;
  /** How many connections GET /admin/proxy remembers. */
  readonly proxyHistory: number;
}

export const DEFAULT_PROXY_CONFIG: ProxyProtocolConfig = {
  proxyProtocol: 'off',
  // Far above what Envoy sends (16 bytes, addresses, a few TLVs), far below v2's 65,551.
  proxyMaxHeaderBytes: 4096,
  // The specification's advice: at least 3 s, to cover a TCP retransmit.
  proxyHeaderTimeoutMs: 3000,
  proxyHistory: 10_000,
};

/** v2's largest header: the fixed part and a 16-bit length. */
const V2_MAX_BYTES = V2_FIXED_BYTES + 0xffff;
/** So that a UNIX address block (2 × 108 bytes) and any v1 line always fit. */
const MIN_HEADER_BYTES = Math.max(V2_FIXED_BYTES + 216, V1_MAX_BYTES);

export const PROXY_FLAGS: readonly FlagSpec[] = [
  {
    flag: '--proxy-protocol',
    key: 'proxyProtocol',
    kind: 'choice',
    choices: PROXY_MODES,
    fallback: DEFAULT_PROXY_CONFIG.proxyProtocol,
    help: 'PROXY protocol (v1 or v2) on the MQTT port: required closes a connection without a valid header; optional also takes plain MQTT',
  },
  {
    flag: '--proxy-max-header-bytes',
    key: 'proxyMaxHeaderBytes',
    kind: 'integer',
    fallback: DEFAULT_PROXY_CONFIG.proxyMaxHeaderBytes,
    min: MIN_HEADER_BYTES,
    max: V2_MAX_BYTES,
    help: 'a longer PROXY v2 header is refused (PROXY_TOO_LARGE)',
  },
  {
    flag: '--proxy-header-timeout-ms',
    key: 'proxyHeaderTimeoutMs',
    kind: 'integer',
    fallback: DEFAULT_PROXY_CONFIG.proxyHeaderTimeoutMs,
    min: 10,
    max: 600_000,
    help: 'a connection whose PROXY header is not complete by then is closed (PROXY_TIMEOUT)',
  },
  {
    flag: '--proxy-history',
    key: 'proxyHistory',
    kind: 'integer',
    fallback: DEFAULT_PROXY_CONFIG.proxyHistory,
    min: 1,
    max: 1_000_000,
    help: 'connections GET /admin/proxy remembers (the counts cover all)',
  },
];
