import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../util/log';
import { REPO_ROOT } from '../util/repo-root';

/** Where scripts/setup (wasm/mqtt-filter/build.mjs) writes the filter. */
export const BUILT_MQTT_FILTER = path.join(REPO_ROOT, '.local', 'wasm', 'mqtt-filter.wasm');

/** Far above the module's ~40 KB; a file this large is not the filter. */
export const MAX_MODULE_BYTES = 4 * 1024 * 1024;

const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

export interface MqttFilterModule {
  readonly base64: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** Reads and checks the module: a bounded read, and the Wasm magic number in front. */
export function readMqttFilterModule(file: string): { module: MqttFilterModule } | { problem: string } {
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_MODULE_BYTES) return { problem: `${file} is ${size} bytes, over the limit of ${MAX_MODULE_BYTES}` };
    bytes = fs.readFileSync(file);
  } catch (err) {
    return { problem: `cannot read ${file} (${(err as Error).message}); run scripts/setup, or set listener.mqttFilter.wasmFile` };
  }
  if (bytes.length > MAX_MODULE_BYTES) return { problem: `${file} grew over ${MAX_MODULE_BYTES} bytes while read` };
  if (bytes.length < 8 || !bytes.subarray(0, 4).equals(WASM_MAGIC)) return { problem: `${file} is not a WebAssembly module` };
  return {
    module: { base64: bytes.toString('base64'), sha256: crypto.createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length },
  };
}

/**
 * The module, read when a policy first turns the filter on, then kept: it does not change
 * while running, and a deployment without the filter never needs the file. A failure is
 * logged once and kept too; the publisher then refuses every set with the filter on.
 */
export function mqttFilterModuleSource(setting: string, logger: Logger): () => MqttFilterModule | undefined {
  let read: ReturnType<typeof readMqttFilterModule> | undefined;
  return () => {
    if (read === undefined) {
      read = readMqttFilterModule(setting === '' ? BUILT_MQTT_FILTER : setting);
      if ('problem' in read) logger.error('the MQTT filter module cannot be used', { problem: read.problem });
      else logger.info('MQTT filter module read', { bytes: read.module.bytes, sha256: read.module.sha256 });
    }
    return 'module' in read ? read.module : undefined;
  };
}
