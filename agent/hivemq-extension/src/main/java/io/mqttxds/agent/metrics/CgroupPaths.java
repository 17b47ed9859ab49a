package io.mqttxds.agent.metrics;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where this process's CPU cgroup is: from /proc/self/cgroup (which cgroup, per hierarchy)
 * and /proc/self/mountinfo (where each hierarchy is mounted, and from which of its
 * directories on). Both are read under a base directory, "/" in production, so tests
 * run against fake trees.
 *
 * <p>cgroup v1 mounts the cpu controller alone ({@code /sys/fs/cgroup/cpu}) or together
 * with others ({@code /sys/fs/cgroup/cpu,cpuacct}); v2 has one unified hierarchy. A
 * container with a cgroup namespace sees its own cgroup as "/" and the mount's root as "/";
 * one without sees the full path and a mount rooted at its own cgroup. Either way, the
 * process's directory is the mount point plus its path below the mount's root, and no
 * ancestor above the mount point is visible.
 */
final class CgroupPaths {
    /** One hierarchy: the process's cgroup directory and the mount point above it. */
    static final class Hierarchy {
        final int version;
        final Path own;
        final Path mountPoint;

        Hierarchy(int version, Path own, Path mountPoint) {
            this.version = version;
            this.own = own;
            this.mountPoint = mountPoint;
        }

        /** The process's directory, then each parent up to and including the mount point. */
        List<Path> levels() {
            List<Path> out = new ArrayList<>();
            for (Path p = own; p != null && p.startsWith(mountPoint); p = p.getParent()) out.add(p);
            return out;
        }
    }

    /** The unified (v2) hierarchy, or null when the process is in none that is mounted. */
    final Hierarchy v2;
    /** The v1 hierarchy holding the cpu controller, or null. */
    final Hierarchy v1Cpu;
    /**
     * Why the CPU limit cannot be known (a hierarchy that may hold the cpu controller is
     * not visible), or null. Not knowing is not the same as having no limit.
     */
    final String hidden;

    private CgroupPaths(Hierarchy v2, Hierarchy v1Cpu, String hidden) {
        this.v2 = v2;
        this.v1Cpu = v1Cpu;
        this.hidden = hidden;
    }

    static final CgroupPaths NONE = new CgroupPaths(null, null, null);

    static CgroupPaths locate(Path base) {
        SmallFile cgroup = SmallFile.read(base.resolve("proc/self/cgroup"));
        if (cgroup.missing()) return NONE; // not Linux, or no cgroups: the host's CPUs are the limit
        if (cgroup.problem != null) return new CgroupPaths(null, null, cgroup.problem);
        SmallFile mountinfo = SmallFile.read(base.resolve("proc/self/mountinfo"), SmallFile.MOUNTINFO_CAP_BYTES);
        if (mountinfo.text == null) {
            String why = mountinfo.problem != null ? mountinfo.problem : base.resolve("proc/self/mountinfo") + " does not exist";
            return new CgroupPaths(null, null, why);
        }
        return parse(cgroup.text, mountinfo.text, base);
    }

    /** The pure part of {@link #locate}: the two files' contents in, the directories out. */
    static CgroupPaths parse(String procSelfCgroup, String mountinfo, Path base) {
        String v2Path = null;
        String v1CpuPath = null;
        for (String line : procSelfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) continue;
            if (f[0].equals("0") && f[1].isEmpty()) v2Path = f[2];
            else if (Arrays.asList(f[1].split(",")).contains("cpu")) v1CpuPath = f[2];
        }
        List<Mount> mounts = Mount.parseAll(mountinfo);
        Hierarchy v1 = null;
        Hierarchy v2 = null;
        String hidden = null;
        if (v1CpuPath != null) {
            Mount m = Mount.best(mounts, true, v1CpuPath);
            if (m == null) {
                hidden = "the cgroup v1 cpu controller is not mounted (no cgroup mount with the cpu option in /proc/self/mountinfo)";
            } else {
                v1 = m.hierarchy(1, v1CpuPath, base);
                if (v1 == null) hidden = m.outside(v1CpuPath);
            }
        }
        // With the cpu controller on v1 (hybrid hosts), v2 holds no CPU limit, so not seeing it hides nothing.
        if (v2Path != null) {
            Mount m = Mount.best(mounts, false, v2Path);
            if (m != null) {
                v2 = m.hierarchy(2, v2Path, base);
                if (v2 == null && v1CpuPath == null) hidden = m.outside(v2Path);
            } else if (v1CpuPath == null) {
                hidden = "the cgroup v2 hierarchy is not mounted (no cgroup2 mount in /proc/self/mountinfo)";
            }
        }
        return new CgroupPaths(v2, v1, hidden);
    }

    /** One cgroup line of mountinfo: "id parent major:minor root mountpoint options [optional...] - fstype source superoptions". */
    private static final class Mount {
        final String root;
        final String mountPoint;
        final boolean v1Cpu;

        private Mount(String root, String mountPoint, boolean v1Cpu) {
            this.root = root;
            this.mountPoint = mountPoint;
            this.v1Cpu = v1Cpu;
        }

        static List<Mount> parseAll(String mountinfo) {
            List<Mount> out = new ArrayList<>();
            for (String line : mountinfo.split("\n")) {
                String[] f = line.trim().split(" ");
                int dash = Arrays.asList(f).indexOf("-");
                if (dash < 6 || f.length < dash + 4) continue;
                String fsType = f[dash + 1];
                if (fsType.equals("cgroup2")) out.add(new Mount(unescape(f[3]), unescape(f[4]), false));
                else if (fsType.equals("cgroup") && Arrays.asList(f[dash + 3].split(",")).contains("cpu")) {
                    out.add(new Mount(unescape(f[3]), unescape(f[4]), true));
                }
            }
            return out;
        }

        /** The mount of the wanted kind whose root holds the path most closely, else the first of that kind. */
        static Mount best(List<Mount> mounts, boolean v1Cpu, String cgroupPath) {
            Mount first = null;
            Mount best = null;
            for (Mount m : mounts) {
                if (m.v1Cpu != v1Cpu) continue;
                if (first == null) first = m;
                if (m.below(cgroupPath) != null && (best == null || m.root.length() > best.root.length())) best = m;
            }
            return best != null ? best : first;
        }

        /** The path below this mount's root ("" for the root itself), or null when it is not below it. */
        String below(String cgroupPath) {
            String rel;
            if (root.equals("/")) rel = cgroupPath.startsWith("/") ? cgroupPath.substring(1) : null;
            else if (cgroupPath.equals(root)) rel = "";
            else if (cgroupPath.startsWith(root + "/")) rel = cgroupPath.substring(root.length() + 1);
            else rel = null;
            if (rel == null) return null;
            for (String segment : rel.split("/")) if (segment.equals("..") || segment.equals(".")) return null;
            return rel;
        }

        Hierarchy hierarchy(int version, String cgroupPath, Path base) {
            String rel = below(cgroupPath);
            if (rel == null) return null;
            Path mount = base.resolve(mountPoint.replaceFirst("^/+", ""));
            return new Hierarchy(version, rel.isEmpty() ? mount : mount.resolve(rel), mount);
        }

        String outside(String cgroupPath) {
            return "this process's cgroup " + cgroupPath + " is not visible under " + mountPoint + " (that mount shows " + root + ")";
        }

        /** mountinfo writes space, tab, newline and backslash as octal escapes (\040). */
        private static String unescape(String s) {
            if (s.indexOf('\\') < 0) return s;
            StringBuilder out = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\\' && isOctal(s, i + 1)) {
                    out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }

        private static boolean isOctal(String s, int from) {
            if (from + 3 > s.length()) return false;
            for (int i = from; i < from + 3; i++) if (s.charAt(i) < '0' || s.charAt(i) > '7') return false;
            return true;
        }
    }
}
