// Client-id-sticky placement: the accepted CONNECT's client id becomes a filter-state object
// that tcp_proxy's hash_policy hashes, so the cluster's Maglev table sends the same id to the same
// broker. Envoy's Wasm extension creates the object through the foreign function
// set_envoy_filter_state, from a registered factory named by the path; envoy.hashable_string
// builds a string that is Hashable, which is what tcp_proxy's filter_state hash needs.
import { Status } from '../abi/host';
import { callForeign } from '../abi/memory';

export const HASH_KEY_FACTORY = 'envoy.hashable_string';

/** LifeSpan in Envoy's set_envoy_filter_state.proto: the object lives as long as the connection. */
const SPAN_DOWNSTREAM_CONNECTION: u32 = 2;

/** Bytes a protobuf varint of `n` takes. */
function varintSize(n: u32): i32 {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

function putVarint(out: Uint8Array, at: i32, n: u32): i32 {
  while (n >= 0x80) {
    out[at++] = <u8>((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out[at++] = <u8>n;
  return at;
}

function putString(out: Uint8Array, at: i32, tag: u8, bytes: ArrayBuffer): i32 {
  out[at++] = tag;
  at = putVarint(out, at, <u32>bytes.byteLength);
  memory.copy(out.dataStart + <usize>at, changetype<usize>(bytes), <usize>bytes.byteLength);
  return at + bytes.byteLength;
}

/**
 * envoy.source.extensions.common.wasm.SetEnvoyFilterStateArguments, encoded by hand:
 * path = 1 (string), value = 2 (string), span = 3 (enum LifeSpan).
 */
export function filterStateArguments(path: string, value: string, span: u32 = SPAN_DOWNSTREAM_CONNECTION): Uint8Array {
  const p = String.UTF8.encode(path);
  const v = String.UTF8.encode(value);
  const size = 1 + varintSize(<u32>p.byteLength) + p.byteLength + 1 + varintSize(<u32>v.byteLength) + v.byteLength + 1 + varintSize(span);
  const out = new Uint8Array(size);
  let at = putString(out, 0, 0x0a, p);
  at = putString(out, at, 0x12, v);
  out[at++] = 0x18;
  putVarint(out, at, span);
  return out;
}

/** Sets the hash key for this connection; the host's status (Status.Ok when it took it). */
export function setHashKey(clientId: string): u32 {
  const result = callForeign('set_envoy_filter_state', filterStateArguments(HASH_KEY_FACTORY, clientId));
  return result.status;
}

export function statusName(status: u32): string {
  if (status == Status.NotFound) return 'not_found';
  if (status == Status.BadArgument) return 'bad_argument';
  if (status == Status.ParseFailure) return 'parse_failure';
  if (status == Status.Unimplemented) return 'unimplemented';
  return 'status_' + status.toString();
}
