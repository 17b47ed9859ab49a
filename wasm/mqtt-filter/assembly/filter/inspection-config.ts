// The keys of PUBLISH inspection (mqtt/framing.ts) and of the counters' tenant label, read apart
// from the CONNECT keys in config.ts. Every value is checked; an error names the key (and, for
// topicPrefixes, the entry).
//
// topicPrefixes is one string (the reader takes flat values only): the entries joined by ",",
// where a comma inside an entry is written as backslash-comma and a backslash as two backslashes;
// any other backslash is an error (so "a/,b/" is two entries, "a\\,b/" one).
// topicPrefix (one entry, written as is) is kept: it is the one-entry list.
import { JsonValue } from './json';

export class InspectionConfig {
  /** Follow the packets after the CONNECT; off: the filter does no work per byte once it has passed. */
  inspectPublish: bool = false;
  /** Largest PUBLISH payload (remaining length − variable header); 0: no limit. */
  maxPublishPayloadBytes: u32 = 0;
  /** Every PUBLISH topic and SUBSCRIBE filter must start with one of these UTF-8 byte strings; none: no check. */
  topicPrefixes: Array<Uint8Array> = [];
  /** Which of topicPrefix / topicPrefixes was given: one only. */
  private prefixKey: string = '';
  /** The tenant whose chain this configuration serves; a label on every counter. Empty: the default chain. */
  tenant: string = '';
}

export const INSPECTION_KEYS = ['inspectPublish', 'maxPublishPayloadBytes', 'topicPrefix', 'topicPrefixes', 'tenant'];

/** The MQTT maximum remaining length: no payload is larger. */
const MAX_PAYLOAD: f64 = 268435455;
export const MAX_PREFIX_BYTES = 1024;
/** At most this many prefixes: the matcher keeps one bit per prefix in a u32 (mqtt/framing.ts). */
export const MAX_PREFIXES = 32;

/** Reads one of INSPECTION_KEYS into `c`; '' on success, else the problem. */
export function readInspectionKey(c: InspectionConfig, key: string, value: JsonValue): string {
  if (key == 'inspectPublish') {
    if (value.kind != 1) return '"inspectPublish" must be true or false';
    c.inspectPublish = value.num != 0;
    return '';
  }
  if (key == 'maxPublishPayloadBytes') {
    if (value.kind != 2 || value.num != Math.floor(value.num) || value.num < 0 || value.num > MAX_PAYLOAD)
      return '"maxPublishPayloadBytes" must be an integer between 0 and 268435455';
    c.maxPublishPayloadBytes = <u32>value.num;
    return '';
  }
  if (key == 'topicPrefix' || key == 'topicPrefixes') {
    if (value.kind != 3) return '"' + key + '" must be a string';
    if (c.prefixKey.length > 0) return 'give "topicPrefix" or "topicPrefixes", not both';
    c.prefixKey = key;
    const bytes = Uint8Array.wrap(String.UTF8.encode(value.str));
    if (key == 'topicPrefix') {
      // The old key: one entry, no escapes; empty: no check, as before.
      if (bytes.length == 0) return '';
      const problem = checkPrefix(bytes, '"topicPrefix"');
      if (problem.length > 0) return problem;
      c.topicPrefixes = [bytes];
      return '';
    }
    return readPrefixList(c, bytes);
  }
  // tenant: it ends up in counter names, between dots, so it is a DNS label (as the policy's tenant names are).
  if (value.kind != 3 || !dnsLabel(value.str)) return '"tenant" must be a lower-case DNS label (a-z, 0-9, -; at most 40)';
  c.tenant = value.str;
  return '';
}

/** Splits topicPrefixes' string at unescaped commas; every entry is checked, a problem names it. */
function readPrefixList(c: InspectionConfig, bytes: Uint8Array): string {
  const list: Array<Uint8Array> = [];
  if (bytes.length == 0) {
    c.topicPrefixes = list;
    return '';
  }
  const entry = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i == bytes.length || bytes[i] == 0x2c) {
      const name = '"topicPrefixes" entry ' + (list.length + 1).toString();
      if (list.length == MAX_PREFIXES) return '"topicPrefixes" must have at most ' + MAX_PREFIXES.toString() + ' entries';
      const one = entry.slice(0, n);
      const problem = checkPrefix(one, name);
      if (problem.length > 0) return problem;
      list.push(one);
      n = 0;
      continue;
    }
    let b = bytes[i];
    if (b == 0x5c) {
      const e = i + 1 < bytes.length ? bytes[i + 1] : 0;
      if (e != 0x2c && e != 0x5c)
        return '"topicPrefixes" entry ' + (list.length + 1).toString() + ': a backslash must be followed by "," or "\\"';
      b = e;
      i++;
    }
    entry[n++] = b;
  }
  c.topicPrefixes = list;
  return '';
}

/** '' when `bytes` can be a prefix, else the problem, starting with `name`. */
function checkPrefix(bytes: Uint8Array, name: string): string {
  if (bytes.length == 0) return name + ' is empty (an empty prefix would allow every topic)';
  if (bytes.length > MAX_PREFIX_BYTES) return name + ' must be at most ' + MAX_PREFIX_BYTES.toString() + ' bytes';
  for (let i = 0; i < bytes.length; i++) {
    // A PUBLISH topic holds neither wildcard nor NUL, so a prefix with one could match nothing.
    const b = bytes[i];
    if (b == 0x2b || b == 0x23 || b == 0) return name + ' (' + quoteBytes(bytes) + ') must not contain +, # or NUL';
  }
  return '';
}

function quoteBytes(bytes: Uint8Array): string {
  const s = String.UTF8.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return '"' + (s.length > 64 ? s.substring(0, 64) + '…' : s) + '"';
}

function dnsLabel(s: string): bool {
  if (s.length == 0 || s.length > 40) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c == 0x2d && i > 0 && i < s.length - 1);
    if (!ok) return false;
  }
  return true;
}
