// The keys of PUBLISH inspection (mqtt/framing.ts) and of the counters' tenant label, read apart
// from the CONNECT keys in config.ts. Every value is checked; an error names the key.
import { JsonValue } from './json';

export class InspectionConfig {
  /** Follow the packets after the CONNECT; off: the filter does no work per byte once it has passed. */
  inspectPublish: bool = false;
  /** Largest PUBLISH payload (remaining length − variable header); 0: no limit. */
  maxPublishPayloadBytes: u32 = 0;
  /** Every PUBLISH topic must start with these UTF-8 bytes; empty: no check. */
  topicPrefix: Uint8Array = new Uint8Array(0);
  /** The tenant whose chain this configuration serves; a label on every counter. Empty: the default chain. */
  tenant: string = '';
}

export const INSPECTION_KEYS = ['inspectPublish', 'maxPublishPayloadBytes', 'topicPrefix', 'tenant'];

/** The MQTT maximum remaining length: no payload is larger. */
const MAX_PAYLOAD: f64 = 268435455;
const MAX_PREFIX_BYTES = 1024;

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
  if (key == 'topicPrefix') {
    if (value.kind != 3) return '"topicPrefix" must be a string';
    const bytes = Uint8Array.wrap(String.UTF8.encode(value.str));
    if (bytes.length > MAX_PREFIX_BYTES) return '"topicPrefix" must be at most ' + MAX_PREFIX_BYTES.toString() + ' bytes';
    for (let i = 0; i < bytes.length; i++) {
      // A PUBLISH topic holds neither wildcard nor NUL, so a prefix with one could match nothing.
      const b = bytes[i];
      if (b == 0x2b || b == 0x23 || b == 0) return '"topicPrefix" must not contain +, # or NUL';
    }
    c.topicPrefix = bytes;
    return '';
  }
  // tenant: it ends up in counter names, between dots, so it is a DNS label (as the policy's tenant names are).
  if (value.kind != 3 || !dnsLabel(value.str)) return '"tenant" must be a lower-case DNS label (a-z, 0-9, -; at most 40)';
  c.tenant = value.str;
  return '';
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
