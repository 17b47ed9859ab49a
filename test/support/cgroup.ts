// A CPU quota for a test process, as a Kubernetes CPU limit gives a pod: a child cgroup with
// a CFS quota (cgroup v1's cpu controller or cgroup v2's cpu.max). Needs root, as CI has;
// without it the test fails and says why (a skipped suite would hide the broker's real case).
import fs from 'node:fs';
import path from 'node:path';

const V1_CPU = '/sys/fs/cgroup/cpu';
const V2_ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

export interface CpuCgroup {
  readonly path: string;
  readonly version: 1 | 2;
  /** The quota in cores (0.15 = 15 ms of CPU per 100 ms). */
  readonly cores: number;
  /** Moves a process (all its threads) into the cgroup. */
  add(pid: number): void;
  /** Removes the cgroup; its processes must have exited (they are moved back to the root first if not). */
  remove(): void;
}

export function createCpuCgroup(name: string, cores: number): CpuCgroup {
  if (!(cores > 0)) throw new Error(`a CPU quota must be above 0 cores, got ${cores}`);
  const quotaUs = Math.round(cores * PERIOD_US);
  const v1 = fs.existsSync(path.join(V1_CPU, 'cpu.cfs_quota_us'));
  const v2 = !v1 && fs.existsSync(path.join(V2_ROOT, 'cgroup.controllers'));
  if (!v1 && !v2) throw new Error('no cgroup cpu controller found (neither /sys/fs/cgroup/cpu nor a cgroup v2 root)');
  const root = v1 ? V1_CPU : V2_ROOT;
  const dir = path.join(root, name);
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (v1) {
      fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
    } else {
      const control = fs.readFileSync(path.join(V2_ROOT, 'cgroup.subtree_control'), 'utf8');
      if (!control.split(/\s+/).includes('cpu')) fs.writeFileSync(path.join(V2_ROOT, 'cgroup.subtree_control'), '+cpu');
      fs.writeFileSync(path.join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
    }
  } catch (err) {
    throw new Error(`cannot create the CPU cgroup ${dir} (the test needs root and a writable cgroup cpu controller): ${String(err)}`);
  }
  return {
    path: dir,
    version: v1 ? 1 : 2,
    cores,
    add: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)),
    remove: () => {
      if (!fs.existsSync(dir)) return;
      const procs = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      for (const pid of procs) {
        try {
          fs.writeFileSync(path.join(root, 'cgroup.procs'), pid);
        } catch {
          // It exited meanwhile.
        }
      }
      fs.rmdirSync(dir);
    },
  };
}

/** CPU seconds a process has used so far (user + system), from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // utime and stime are fields 14 and 15, in ticks of USER_HZ (100 on Linux). The command
  // name (field 2) may hold spaces and parentheses, so count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
