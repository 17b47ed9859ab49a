package io.mqttxds.agent.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fake root directory holding proc/self/{cgroup,mountinfo,status} and cgroup files, in
 * the layouts the kernel gives them, for {@link CgroupCpu} and {@link AgentSeries} tests.
 */
final class FakeCgroupTree {
    final Path root;

    FakeCgroupTree(Path root) {
        this.root = root;
    }

    /** cgroup v1 with the cpu controller mounted alone at /sys/fs/cgroup/cpu, showing the whole hierarchy. */
    static FakeCgroupTree v1(Path root, String cgroupPath) {
        FakeCgroupTree t = new FakeCgroupTree(root);
        t.write("proc/self/cgroup", "5:memory:" + cgroupPath + "\n3:cpuset:/\n2:cpuacct:" + cgroupPath + "\n1:cpu:" + cgroupPath + "\n0::/\n");
        t.write("proc/self/mountinfo", mountinfoLine(30, "/", "/sys/fs/cgroup", "tmpfs", "tmpfs", "rw,mode=755")
                + mountinfoLine(32, "/", "/sys/fs/cgroup/cpu", "cgroup", "cgroup", "rw,cpu")
                + mountinfoLine(33, "/", "/sys/fs/cgroup/cpuacct", "cgroup", "cgroup", "rw,cpuacct")
                + mountinfoLine(34, "/", "/sys/fs/cgroup/cpuset", "cgroup", "cgroup", "rw,cpuset")
                + mountinfoLine(41, "/", "/sys/fs/cgroup/unified", "cgroup2", "cgroup2", "rw"));
        t.write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
        t.write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
        t.write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
        t.status("0-3");
        return t;
    }

    /** cgroup v2 only, in a cgroup namespace: the process sees its own cgroup as "/". */
    static FakeCgroupTree v2(Path root) {
        FakeCgroupTree t = new FakeCgroupTree(root);
        t.write("proc/self/cgroup", "0::/\n");
        t.write("proc/self/mountinfo", mountinfoLine(25, "/", "/sys/fs/cgroup", "cgroup2", "cgroup", "rw,nsdelegate,memory_recursiveprot"));
        t.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        t.status("0-3");
        return t;
    }

    static String mountinfoLine(int id, String root, String mountPoint, String fsType, String source, String superOptions) {
        return id + " 23 0:" + id + " " + root + " " + mountPoint + " rw,nosuid,nodev,noexec,relatime shared:" + id + " - " + fsType
                + " " + source + " " + superOptions + "\n";
    }

    FakeCgroupTree status(String cpusAllowedList) {
        return write("proc/self/status", "Name:\tjava\nState:\tS (sleeping)\nCpus_allowed:\tf\nCpus_allowed_list:\t" + cpusAllowedList
                + "\nMems_allowed_list:\t0\n");
    }

    /** A v1 cpu cgroup directory with its quota, period and cpu.stat. */
    FakeCgroupTree v1Cgroup(String dir, long quotaUs, long periodUs, String stat) {
        write(dir + "/cpu.cfs_quota_us", quotaUs + "\n");
        write(dir + "/cpu.cfs_period_us", periodUs + "\n");
        return write(dir + "/cpu.stat", stat);
    }

    /** A v2 cgroup directory with its cpu.max and cpu.stat. */
    FakeCgroupTree v2Cgroup(String dir, String cpuMax, String stat) {
        write(dir + "/cpu.max", cpuMax + "\n");
        return write(dir + "/cpu.stat", stat);
    }

    FakeCgroupTree write(String relative, String content) {
        try {
            Path p = root.resolve(relative);
            Files.createDirectories(p.getParent());
            Files.writeString(p, content, StandardCharsets.UTF_8);
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    FakeCgroupTree delete(String relative) {
        try {
            Files.delete(root.resolve(relative));
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The reader under test; the JVM's own count is 7 so a test sees when it was used. */
    CgroupCpu cgroupCpu() {
        return new CgroupCpu(root, () -> 7);
    }

    static String v1Stat(long periods, long throttled, long throttledNs) {
        return "nr_periods " + periods + "\nnr_throttled " + throttled + "\nthrottled_time " + throttledNs + "\nnr_bursts 0\nburst_time 0\n";
    }

    static String v2Stat(long periods, long throttled, long throttledUs) {
        return "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods " + periods + "\nnr_throttled " + throttled
                + "\nthrottled_usec " + throttledUs + "\nnr_bursts 0\nburst_usec 0\n";
    }
}
