// The filter's settings, read from the plugin configuration (a JSON object; mqtt-xds will send
// it over ECDS). Every key is checked: an unknown key or a value out of range is an error naming
// the key, and Envoy refuses the configuration.
import { parseFlatJson } from './json';
import { INSPECTION_KEYS, InspectionConfig, readInspectionKey } from './inspection-config';
import { parseSalts, Salts } from './salts';

export class FilterConfig {
  /** Largest first packet (fixed header included) the filter buffers; bigger is refused as too_large. */
  maxConnectBytes: u32 = 16384;
  /** Longest client id in UTF-8 bytes; longer is refused as client_id_invalid. */
  maxClientIdBytes: u32 = 256;
  /** A connection without a complete CONNECT after this long is closed; 0 turns the deadline off. */
  firstPacketTimeoutMs: u32 = 10000;
  /** "sticky": the client id becomes tcp_proxy's hash key (filter/placement.ts); "weighted": no key. */
  sticky: bool = false;
  /** PUBLISH inspection and the tenant label (inspection-config.ts). */
  inspection: InspectionConfig = new InspectionConfig();
  /** Sticky placement: ids the rebalancer moved, hashed with a salt (filter/salts.ts). */
  salts: Salts = new Salts();
  error: string = '';
}

const KNOWN = ['maxConnectBytes', 'maxClientIdBytes', 'firstPacketTimeoutMs', 'placement', 'saltedIds'].concat(INSPECTION_KEYS);

export function parseConfig(text: string): FilterConfig {
  const config = new FilterConfig();
  const json = parseFlatJson(text);
  if (json.error.length > 0) {
    config.error = 'configuration is not a flat JSON object: ' + json.error;
    return config;
  }
  for (let i = 0; i < json.keys.length; i++) {
    const key = json.keys[i];
    const value = json.values[i];
    if (!KNOWN.includes(key)) {
      config.error = 'unknown configuration key "' + key + '" (known: ' + KNOWN.join(', ') + ')';
      return config;
    }
    if (INSPECTION_KEYS.includes(key)) {
      const problem = readInspectionKey(config.inspection, key, value);
      if (problem.length > 0) {
        config.error = problem;
        return config;
      }
      continue;
    }
    if (key == 'placement') {
      if (value.kind != 3 || (value.str != 'weighted' && value.str != 'sticky')) {
        config.error = '"placement" must be "weighted" or "sticky"';
        return config;
      }
      config.sticky = value.str == 'sticky';
      continue;
    }
    if (key == 'saltedIds') {
      if (value.kind != 3) return bad(config, key, 'a string');
      const salts = parseSalts(value.str);
      if (salts.error.length > 0) return bad(config, key, '', salts.error);
      config.salts = salts;
      continue;
    }
    if (value.kind != 2 || value.num != Math.floor(value.num)) {
      config.error = '"' + key + '" must be an integer';
      return config;
    }
    const n = value.num;
    if (key == 'maxConnectBytes') {
      // 14: the smallest CONNECT (an MQTT 3.1.1 one with an empty client id); 1 MiB: a bound on
      // what one connection may make the filter hold.
      if (n < 14 || n > 1048576) return bad(config, key, 'between 14 and 1048576');
      config.maxConnectBytes = <u32>n;
    } else if (key == 'maxClientIdBytes') {
      if (n < 1 || n > 65535) return bad(config, key, 'between 1 and 65535');
      config.maxClientIdBytes = <u32>n;
    } else {
      if (n < 0 || n > 3600000) return bad(config, key, 'between 0 and 3600000');
      config.firstPacketTimeoutMs = <u32>n;
    }
  }
  return config;
}

function bad(config: FilterConfig, key: string, range: string, error: string = ''): FilterConfig {
  config.error = error.length > 0 ? error : '"' + key + '" must be ' + range;
  return config;
}
