// Helpers over the raw host calls: strings in and out of linear memory, and the two-word
// (pointer, size) return slots the host fills.
import { proxy_get_buffer_bytes, proxy_get_log_level, proxy_get_property, proxy_log, proxy_call_foreign_function, Status } from './host';

// A scratch region for the host's copies. Envoy calls our exported malloc to place every buffer it
// hands over (proxy_get_buffer_bytes), and the filter frees it as soon as it has read it, before
// the next host call. So one fixed region serves nearly every copy: malloc returns it while it is
// free and big enough, and anything else (a larger or an overlapping request) goes to the heap.
// The region never grows: 64 KiB, the widest inspection window (filter/contexts.ts).
export const SCRATCH_BYTES: usize = 65536;
const SCRATCH: usize = memory.data(<i32>SCRATCH_BYTES, 16);
let scratchBusy = false;

/** The exported malloc's body: the scratch region when it is free and big enough, else the heap. */
export function hostAlloc(size: usize): usize {
  if (!scratchBusy && size <= SCRATCH_BYTES) {
    scratchBusy = true;
    return SCRATCH;
  }
  return heap.alloc(size);
}

/** Gives back what hostAlloc returned (0: nothing). */
export function hostFree(ptr: usize): void {
  if (ptr == SCRATCH) scratchBusy = false;
  else if (ptr != 0) heap.free(ptr);
}

// Return slots, reused by every call: the filter runs single-threaded inside one VM, and no
// call below re-enters the host while a slot is live.
const RETURN_DATA: usize = memory.data(8);
const RETURN_SIZE: usize = memory.data(8);

/** The bytes at `ptr` for `len`, copied into a managed array (and the host's copy freed). */
function takeBytes(): Uint8Array {
  const ptr = load<usize>(RETURN_DATA);
  const len = <i32>load<usize>(RETURN_SIZE);
  const out = new Uint8Array(len);
  if (len > 0) memory.copy(out.dataStart, ptr, len);
  hostFree(ptr);
  return out;
}

/** A host-owned buffer region, or null when the host has none (e.g. Status.NotFound). */
export function getBufferBytes(bufferType: u32, start: usize, maxSize: usize): Uint8Array | null {
  store<usize>(RETURN_DATA, 0);
  store<usize>(RETURN_SIZE, 0);
  const status = proxy_get_buffer_bytes(bufferType, start, maxSize, RETURN_DATA, RETURN_SIZE);
  if (status != Status.Ok) return null;
  return takeBytes();
}

/** Raw variant for the hot path: the host's copy stays at the returned pointer; the caller frees it with hostFree. */
export function getBufferRaw(bufferType: u32, start: usize, maxSize: usize): usize {
  store<usize>(RETURN_DATA, 0);
  store<usize>(RETURN_SIZE, 0);
  const status = proxy_get_buffer_bytes(bufferType, start, maxSize, RETURN_DATA, RETURN_SIZE);
  if (status != Status.Ok) return 0;
  return load<usize>(RETURN_DATA);
}

/** Size of the region the last getBufferRaw returned. */
export function lastReturnSize(): i32 {
  return <i32>load<usize>(RETURN_SIZE);
}

/**
 * A property by path, e.g. ["connection_id"] or ["source", "address"]. Envoy joins the path
 * parts with NUL bytes.
 */
export function getProperty(path: string[]): Uint8Array | null {
  let total = 0;
  const parts = new Array<ArrayBuffer>(path.length);
  for (let i = 0; i < path.length; i++) {
    parts[i] = String.UTF8.encode(path[i]);
    total += parts[i].byteLength + (i > 0 ? 1 : 0);
  }
  const joined = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) joined[at++] = 0;
    memory.copy(joined.dataStart + at, changetype<usize>(parts[i]), parts[i].byteLength);
    at += parts[i].byteLength;
  }
  store<usize>(RETURN_DATA, 0);
  store<usize>(RETURN_SIZE, 0);
  const status = proxy_get_property(joined.dataStart, joined.length, RETURN_DATA, RETURN_SIZE);
  if (status != Status.Ok) return null;
  return takeBytes();
}

export class ForeignResult {
  constructor(
    public status: u32,
    public data: Uint8Array,
  ) {}
}

/** proxy_call_foreign_function: Envoy's extensions (set_envoy_filter_state, …) by name. */
export function callForeign(name: string, args: Uint8Array): ForeignResult {
  const encoded = String.UTF8.encode(name);
  store<usize>(RETURN_DATA, 0);
  store<usize>(RETURN_SIZE, 0);
  const status = proxy_call_foreign_function(
    changetype<usize>(encoded),
    encoded.byteLength,
    args.dataStart,
    args.length,
    RETURN_DATA,
    RETURN_SIZE,
  );
  const data = status == Status.Ok ? takeBytes() : new Uint8Array(0);
  return new ForeignResult(status, data);
}

export function log(level: u32, message: string): void {
  const encoded = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(encoded), encoded.byteLength);
}

const LEVEL_SLOT: usize = memory.data(4);

/**
 * Whether Envoy would keep a line at `level`. Asked before building a per-connection line:
 * Envoy drops it below its wasm logger's level, but only after we built, encoded and passed it,
 * which measured as a large share of the filter's CONNECT cost (docs/benchmarks.md). Asked
 * each time, not cached, so `/logging?wasm=debug` on the admin takes effect at once.
 */
export function logEnabled(level: u32): bool {
  store<u32>(LEVEL_SLOT, 0);
  if (proxy_get_log_level(LEVEL_SLOT) != Status.Ok) return true;
  return level >= load<u32>(LEVEL_SLOT);
}
