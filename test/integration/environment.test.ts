import type { ChildProcess } from 'node:child_process';
import { spawnChild } from '../support/children';

// The integration environment kills what a test file left running (environment.js). A
// test file cannot watch its own teardown, so this one drives a second instance of the
// environment by hand around a real child process.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const IntegrationEnvironment = require('./environment.js');

const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

describe('the integration test environment', () => {
  it('registers what spawnChild starts in this file', () => {
    const registry = (globalThis as { __mqttXdsChildren?: Set<ChildProcess> }).__mqttXdsChildren;
    // The Set comes from the environment's realm, so instanceof against this realm's Set fails.
    expect(typeof registry?.has).toBe('function');
    const child = spawnChild('sleep', ['30'], { stdio: ['ignore', 'ignore', 'pipe'] });
    expect(registry!.has(child)).toBe(true);
    child.kill('SIGKILL');
    return new Promise<void>((resolve) =>
      child.once('exit', () => {
        expect(registry!.has(child)).toBe(false);
        resolve();
      }),
    );
  });

  it('SIGKILLs at teardown every registered child still running, and leaves exited ones alone', async () => {
    const env = new IntegrationEnvironment(
      { globalConfig: {}, projectConfig: { testEnvironmentOptions: {}, setupFiles: [], testEnvironment: 'node' } },
      { console, docblockPragmas: {}, testPath: __filename },
    );
    const children: Set<ChildProcess> = env.global.__mqttXdsChildren;
    const { spawn } = await import('node:child_process');
    const orphan = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => done.once('exit', resolve));
    children.add(orphan);
    children.add(done);
    const warn = jest.fn();
    env.warn = warn;
    await env.teardown();
    expect(alive(orphan)).toBe(false);
    expect(orphan.signalCode).toBe('SIGKILL');
    expect(done.exitCode).toBe(0);
    expect(children.size).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`${__filename} left 1 process(es) running`));
  });
});
