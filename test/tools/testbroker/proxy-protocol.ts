// The PROXY protocol decoder, v1 and v2, pure: decodeProxyHeader reads the bytes received
// so far, ProxyHeaderReader feeds it chunks split anywhere and says when the header is
// complete and which bytes follow it. Expected failures are coded values, never throws.
// The facts come from the specification (haproxy doc/proxy-protocol.txt); the text is ours.
import { proxyError, type ProxyDecodeOptions, type ProxyDecodeResult, type ProxyError, type ProxyHeader } from './proxy-header';
import { decodeV1, V1_SIGNATURE } from './proxy-v1';
import { decodeV2, V2_SIGNATURE } from './proxy-v2';

export * from './proxy-header';

/**
 * Decodes the header at the start of `input`. Once it says `header`, the bytes after
 * `header.headerBytes` are the payload, untouched.
 */
export function decodeProxyHeader(input: Uint8Array, options: ProxyDecodeOptions): ProxyDecodeResult {
  const v2 = prefixMatch(input, V2_SIGNATURE);
  if (v2 === 'full') return decodeV2(input, options.maxHeaderBytes);
  const v1 = prefixMatch(input, V1_SIGNATURE);
  if (v1 === 'full') return decodeV1(input);
  if (v2 === 'partial' || v1 === 'partial') return { kind: 'incomplete', needBytes: input.length + 1 };
  if (options.optional) return { kind: 'absent' };
  return proxyError(
    'PROXY_BAD_SIGNATURE',
    'the connection does not start with a PROXY protocol header (the v2 signature or "PROXY "); ' +
      'make the sender send one, or run the broker with --proxy-protocol optional or off',
  );
}

/** 'full': input starts with the signature; 'partial': input is a proper prefix of it. */
function prefixMatch(input: Uint8Array, signature: Uint8Array): 'full' | 'partial' | 'none' {
  const n = Math.min(input.length, signature.length);
  for (let i = 0; i < n; i++) if (input[i] !== signature[i]) return 'none';
  return input.length >= signature.length ? 'full' : 'partial';
}

export type ProxyReadStep =
  | { readonly kind: 'more' }
  /** `rest`: what followed the header in the bytes pushed so far (the payload's start, maybe empty). */
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly rest: Buffer }
  /** Not a PROXY header (optional only): `rest` is every byte pushed, to be read as the payload. */
  | { readonly kind: 'absent'; readonly rest: Buffer }
  | { readonly kind: 'error'; readonly error: ProxyError };

/**
 * Collects a connection's first chunks until the header is decided. Chunks are joined only
 * when enough bytes for the next decision have arrived, so a header sent one byte at a time
 * costs a join per decision, not per byte; nothing beyond the decided header is kept.
 */
export class ProxyHeaderReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private needBytes = 1;
  private decided = false;

  constructor(private readonly options: ProxyDecodeOptions) {}

  push(chunk: Buffer): ProxyReadStep {
    if (this.decided) throw new Error('ProxyHeaderReader.push after the header was decided');
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length < this.needBytes) return { kind: 'more' };
    const input = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    this.chunks = [input];
    const result = decodeProxyHeader(input, this.options);
    if (result.kind === 'incomplete') {
      this.needBytes = result.needBytes;
      return { kind: 'more' };
    }
    this.decided = true;
    this.chunks = [];
    if (result.kind === 'header') return { kind: 'header', header: result.header, rest: input.subarray(result.header.headerBytes) };
    if (result.kind === 'absent') return { kind: 'absent', rest: input };
    return result;
  }

  /** The connection ended (or failed) before the header was complete. */
  end(): ProxyError {
    return {
      code: 'PROXY_INCOMPLETE',
      message: `the connection ended after ${this.length} bytes, before its PROXY protocol header was complete`,
    };
  }

  /** The header did not arrive in time. */
  expire(timeoutMs: number): ProxyError {
    return {
      code: 'PROXY_TIMEOUT',
      message:
        `no complete PROXY protocol header within ${timeoutMs} ms (${this.length} bytes received); ` +
        'a sender must send the whole header at once, first',
    };
  }
}
