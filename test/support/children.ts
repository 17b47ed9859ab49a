import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { track } from './child-process';

// Every process a test file starts is registered with the integration environment
// (test/integration/environment.js), which kills whatever is still running once the
// file's hooks are done, so no child outlives its test file even when a beforeAll failed
// before the file kept the handle it would have stopped.
const registry = (): Set<ChildProcess> | undefined => (globalThis as { __mqttXdsChildren?: Set<ChildProcess> }).__mqttXdsChildren;

/**
 * child_process.spawn, registered so that the process cannot outlive the test file, and
 * tracked (src/util/child-process) so that it never holds jest's event loop open and dies
 * with the jest process whatever happens.
 */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  track(child);
  const running = registry();
  if (running) {
    running.add(child);
    child.once('exit', () => running.delete(child));
  }
  return child;
}
