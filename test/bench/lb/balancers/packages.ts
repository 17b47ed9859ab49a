// HAProxy and NGINX come from Debian. The benchmark installs them when they are missing
// (as root, with apt-get) and otherwise fails with the command to run.
import fs from 'node:fs';
import { runSync } from '../processes';

export const NGINX_STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

interface Requirement {
  readonly present: () => boolean;
  readonly packages: readonly string[];
  readonly what: string;
}

const HAPROXY: Requirement = { present: () => onPath('haproxy'), packages: ['haproxy'], what: 'HAProxy' };
const NGINX: Requirement = {
  present: () => onPath('nginx') && fs.existsSync(NGINX_STREAM_MODULE),
  packages: ['nginx-light', 'libnginx-mod-stream'],
  what: 'NGINX with the stream module',
};

export function ensureHaproxy(log: (m: string) => void): void {
  ensure(HAPROXY, log);
}

export function ensureNginx(log: (m: string) => void): void {
  ensure(NGINX, log);
}

let updated = false;

function ensure(req: Requirement, log: (m: string) => void): void {
  if (req.present()) return;
  const install = `apt-get install -y ${req.packages.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`${req.what} is missing and this is not root; run: sudo apt-get update && sudo ${install}`);
  }
  log(`installing ${req.what}: ${install}`);
  if (!updated) {
    const update = runSync('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update']);
    if (!update.ok) throw new Error(`apt-get update failed:\n${tail(update.output)}`);
    updated = true;
  }
  const result = runSync('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', ...req.packages]);
  if (!result.ok || !req.present()) {
    throw new Error(`could not install ${req.what} (${install}):\n${tail(result.output)}`);
  }
}

function onPath(command: string): boolean {
  return runSync('sh', ['-c', `command -v ${command}`], 10_000).ok;
}

function tail(text: string): string {
  return text.split('\n').slice(-15).join('\n');
}
