// The built CLI as an operator starts it: configuration mistakes end with a coded message
// and exit code 2, never a stack trace.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/repo-root';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (_err, _out, stderr) => resolve({ code: child.exitCode, stderr }),
    );
  });
}

describe('the CLI on configuration mistakes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt-xds-cli-'));
  const brokers = path.join(dir, 'brokers.yaml');
  fs.writeFileSync(brokers, 'brokers:\n  - { name: a, host: 127.0.0.1, port: 1883 }\n');
  const base = ['--discovery-brokers-file', brokers, '--xds-port', '0', '--admin-port', '0'];

  it.each([
    ['admin.tokenFile', 'missing', '--admin-token-file'],
    ['agent.tokenFile', 'missing', '--agent-token-file'],
    ['admin.tokenFile', 'empty', '--admin-token-file'],
  ])('names %s when its file is %s, with exit code 2 and no stack trace', async (setting, what, flag) => {
    const file = path.join(dir, `${what}-token`);
    if (what === 'empty') fs.writeFileSync(file, '\n');
    const r = await run([...base, flag, file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${setting}: `);
    expect(r.stderr).toContain('[CONFIG_TOKEN_FILE]');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['an unreadable agent CA', ['--agent-tls-ca-file', '/nonexistent/ca.crt'], 'agent.tls.caFile', 'TLS_FILE_UNREADABLE'],
    [
      'a client certificate without its key',
      ['--agent-tls-cert-file', '/nonexistent/tls.crt'],
      'agent.tls.keyFile',
      'CONFIG_AGENT_TLS_PAIR',
    ],
  ])('names %s, with exit code 2 and no stack trace', async (_what, flags, setting, code) => {
    const r = await run([...base, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(setting);
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('starts with MQTT_XDS_ADMIN_URL exported (it belongs to mqtt-xds drain)', async () => {
    const r = await run([...base, '--help'], { MQTT_XDS_ADMIN_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(0);
    const started = await new Promise<string>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, ...base],
        { env: { PATH: process.env.PATH ?? '', MQTT_XDS_ADMIN_URL: 'http://127.0.0.1:9' } },
        () => undefined,
      );
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('control plane listening')) child.kill('SIGTERM');
      });
      child.on('exit', () => resolve(err));
    });
    expect(started).toContain('control plane listening');
    expect(started).not.toContain('CONFIG_UNKNOWN_ENV');
  });
});
