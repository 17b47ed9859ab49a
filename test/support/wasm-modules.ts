// Builds (if its sources changed) and loads the AssemblyScript modules from .local/wasm/, so a
// unit test always runs the code in wasm/mqtt-filter as it is now.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './repo-root';

// Node's WebAssembly global; the project's lib settings (ES2022, no DOM) do not declare it.
export interface WasmModule {
  readonly kind: 'wasm-module';
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const WASM_DIR = path.join(REPO_ROOT, '.local', 'wasm');
let built = false;

/** Runs wasm/mqtt-filter/build.mjs once per test file; it returns at once when nothing changed. */
export function buildWasm(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'wasm', 'mqtt-filter', 'build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

export function wasmModule(name: 'mqtt-filter' | 'connect-probe'): WasmModule {
  buildWasm();
  return new WA.Module(fs.readFileSync(path.join(WASM_DIR, `${name}.wasm`)));
}

/** Instantiates and runs the module's start function (AssemblyScript's exported _initialize). */
export function instantiate<T>(module: WasmModule, env: Record<string, unknown>): T {
  const exports = new WA.Instance(module, { env }).exports;
  (exports._initialize as () => void)();
  return exports as T;
}

/** The filter module Envoy loads, built first if needed. */
export function filterWasmPath(): string {
  buildWasm();
  return path.join(WASM_DIR, 'mqtt-filter.wasm');
}
