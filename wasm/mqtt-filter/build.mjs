// Builds the MQTT proxy-wasm filter (and the test-only CONNECT probe) with AssemblyScript into
// .local/wasm/. Skipped when neither the sources nor the compiler changed since the last build:
// a stamp file holds a hash over both. `--force` rebuilds anyway.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const outDir = path.join(root, '.local', 'wasm');
const stampFile = path.join(outDir, 'mqtt-filter.stamp');

/**
 * name → entry file; the probe exposes the pure parser to the unit tests, the no-op filter is
 * bench:filter's baseline for Envoy's own per-connection Wasm cost; neither ships.
 */
const TARGETS = { 'mqtt-filter': 'assembly/index.ts', 'connect-probe': 'assembly/probe.ts', 'noop-filter': 'assembly/noop.ts' };

/**
 * asconfig.json's runtime is `minimal`: the filter collects garbage itself at the end of its
 * exports (assembly/abi/collect.ts). The probe has no such points (the unit tests call its
 * exports directly), so it keeps the collector that runs on its own.
 */
const EXTRA_ARGS = { 'connect-probe': ['--runtime', 'incremental'] };

function sourceHash() {
  const hash = createHash('sha256');
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else {
        hash.update(path.relative(here, file));
        hash.update(fs.readFileSync(file));
      }
    }
  };
  walk(here);
  const ascPackage = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'assemblyscript', 'package.json'), 'utf8'));
  hash.update(`assemblyscript ${ascPackage.version}`);
  return hash.digest('hex');
}

const force = process.argv.includes('--force');
const hash = sourceHash();
const outputs = Object.keys(TARGETS).map((name) => path.join(outDir, `${name}.wasm`));
if (!force && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === hash && outputs.every((f) => fs.existsSync(f))) {
  process.exit(0);
}

const asc = await import('assemblyscript/asc');
fs.mkdirSync(outDir, { recursive: true });
for (const [name, entry] of Object.entries(TARGETS)) {
  const outFile = path.join(outDir, `${name}.wasm`);
  // Written beside and renamed into place: test files that build at the same time (jest workers)
  // never load a half-written module.
  const tmpFile = `${outFile}.${process.pid}.tmp`;
  const { error } = await asc.main(
    [entry, '--config', 'asconfig.json', ...(EXTRA_ARGS[name] ?? []), '--outFile', tmpFile, '--baseDir', here],
    {
      stdout: process.stdout,
      stderr: process.stderr,
    },
  );
  if (error) {
    console.error(`wasm build: ${name} (${entry}) failed: ${error.message}`);
    process.exit(1);
  }
  fs.renameSync(tmpFile, outFile);
}
fs.writeFileSync(stampFile, hash);
console.log(`wasm build: ${outputs.map((f) => `${path.basename(f)} ${fs.statSync(f).size} bytes`).join(', ')}`);
