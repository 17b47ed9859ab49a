// Test-only module (never shipped): exposes the pure CONNECT parser to the unit tests, which
// run it in Node's WebAssembly. One parser at a time; its decision comes back as JSON.
import './abort/abort';
import { ConnectParser, Verdict } from './mqtt/connect';
import { connackReasonV5, refusalName } from './mqtt/refusal';

let parser: ConnectParser | null = null;
let result: ArrayBuffer = new ArrayBuffer(0);

export function probe_alloc(size: usize): usize {
  return heap.alloc(size);
}

export function probe_free(ptr: usize): void {
  heap.free(ptr);
}

export function probe_reset(maxConnectBytes: u32, maxClientIdBytes: u32): void {
  parser = new ConnectParser(maxConnectBytes, maxClientIdBytes);
}

/** Feeds bytes at `ptr`; returns the verdict (0 need more, 1 accepted, 2 refused). */
export function probe_feed(ptr: usize, len: i32): u32 {
  return <u32>parser!.feedRaw(ptr, len);
}

export function probe_wanted(): i32 {
  return parser!.wanted();
}

export function probe_end(): u32 {
  return <u32>parser!.endOfStream();
}

/** Writes the decision as UTF-8 JSON and returns its address; probe_result_size() its length. */
export function probe_result(): usize {
  const p = parser!;
  let json = '{"verdict":' + (<u32>p.verdict).toString() + ',"reason":"' + refusalName(p.refusal) + '"';
  json += ',"connackV5":' + connackReasonV5(p.refusal).toString() + ',"protocolLevel":' + p.protocolLevel.toString();
  json += ',"consumed":' + p.consumed().toString() + ',"detail":' + jsonString(p.detail);
  if (p.verdict == Verdict.Accepted) {
    const i = p.info!;
    json += ',"info":{"protocolVersion":' + i.protocolVersion.toString() + ',"clientId":' + jsonString(i.clientId);
    json += ',"hasUsername":' + b(i.hasUsername) + ',"username":' + jsonString(i.username) + ',"hasPassword":' + b(i.hasPassword);
    json += ',"cleanStart":' + b(i.cleanStart) + ',"keepAliveS":' + i.keepAliveS.toString() + ',"willFlag":' + b(i.willFlag);
    json += ',"willQos":' + i.willQos.toString() + ',"willRetain":' + b(i.willRetain) + ',"sessionExpiryS":' + i.sessionExpiryS.toString();
    json += ',"packetBytes":' + i.packetBytes.toString() + '}';
  }
  result = String.UTF8.encode(json + '}');
  return changetype<usize>(result);
}

export function probe_result_size(): i32 {
  return result.byteLength;
}

function b(v: bool): string {
  return v ? 'true' : 'false';
}

/** quote() escapes control characters as \xNN, which JSON lacks; JSON wants \u00NN. */
function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c < 0x20) out += '\\u00' + (c < 16 ? '0' : '') + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + '"';
}
