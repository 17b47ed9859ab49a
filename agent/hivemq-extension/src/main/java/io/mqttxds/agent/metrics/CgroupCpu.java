package io.mqttxds.agent.metrics;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.IntSupplier;

/**
 * The CPU this process may use, in cores, and how often the kernel throttled it: from the
 * CFS quota of its cgroup (v2 {@code cpu.max}, v1 {@code cpu.cfs_quota_us} over
 * {@code cpu.cfs_period_us}) and of every ancestor up to the mount, the smallest winning
 * (a Kubernetes pod-level limit sits on the parent). Without a quota, the CPUs the process
 * may run on. The JVM's availableProcessors is no substitute under a quota: it rounds
 * 0.15 cores up to 1, so a starved broker would look idle.
 *
 * <p>Reads everything under a base directory ("/" in production). Never throws: what
 * cannot be read is a problem sentence in the answer, and a limit that cannot be known is
 * absent rather than guessed (a guess of "all host CPUs" is exactly the error this fixes).
 */
public final class CgroupCpu {
    public static final String SOURCE_V2 = "cgroup-v2";
    public static final String SOURCE_V1 = "cgroup-v1";
    public static final String SOURCE_HOST = "host";

    /** The limit and where it came from. */
    public static final class Limit {
        public final double cores;
        /** {@link #SOURCE_V2}, {@link #SOURCE_V1} or {@link #SOURCE_HOST}: where {@link #cores} came from. */
        public final String source;
        /** cpu.stat of the cgroup whose quota binds, or null when no cgroup has a quota. */
        public final Path statFile;
        /** 1 or 2 with a quota (the cpu.stat dialect), else 0. */
        public final int statVersion;

        Limit(double cores, String source, Path statFile, int statVersion) {
            this.cores = cores;
            this.source = source;
            this.statFile = statFile;
            this.statVersion = statVersion;
        }
    }

    /** One lookup: the limit (null when it cannot be known) and what went wrong. */
    public static final class Lookup {
        public final Limit limit;
        public final List<String> problems;

        Lookup(Limit limit, List<String> problems) {
            this.limit = limit;
            this.problems = Collections.unmodifiableList(problems);
        }
    }

    /** The cgroup's throttling counters; each is empty when cpu.stat lacks it or garbles it. */
    public static final class Throttling {
        public final OptionalDouble periods;
        public final OptionalDouble throttledPeriods;
        public final OptionalDouble throttledSeconds;
        public final List<String> problems;

        Throttling(OptionalDouble periods, OptionalDouble throttledPeriods, OptionalDouble throttledSeconds, List<String> problems) {
            this.periods = periods;
            this.throttledPeriods = throttledPeriods;
            this.throttledSeconds = throttledSeconds;
            this.problems = Collections.unmodifiableList(problems);
        }
    }

    private final Path base;
    private final IntSupplier availableProcessors;

    /** base: the directory that holds proc/self and sys/fs/cgroup ("/" for the real ones). */
    public CgroupCpu(Path base, IntSupplier availableProcessors) {
        this.base = base;
        this.availableProcessors = availableProcessors;
    }

    public static CgroupCpu forThisProcess() {
        return new CgroupCpu(Path.of("/"), () -> Runtime.getRuntime().availableProcessors());
    }

    public Lookup lookup() {
        List<String> problems = new ArrayList<>();
        CgroupPaths paths = CgroupPaths.locate(base);
        if (paths.hidden != null) {
            problems.add(paths.hidden);
            return new Lookup(null, problems);
        }
        Quota quota = Quota.NONE;
        if (paths.v2 != null) quota = smallest(paths.v2, problems);
        if (quota == Quota.NONE && paths.v1Cpu != null) quota = smallest(paths.v1Cpu, problems);
        if (quota == Quota.UNKNOWN) return new Lookup(null, problems);
        double hostCpus = hostCpus(problems);
        if (quota == Quota.NONE) return new Lookup(new Limit(hostCpus, SOURCE_HOST, null, 0), problems);
        Path stat = quota.dir.resolve("cpu.stat");
        // A quota above the CPUs the process may run on (4 cores on a 2-CPU node) cannot be reached.
        if (quota.cores > hostCpus) return new Lookup(new Limit(hostCpus, SOURCE_HOST, stat, quota.version), problems);
        return new Lookup(new Limit(quota.cores, quota.version == 2 ? SOURCE_V2 : SOURCE_V1, stat, quota.version), problems);
    }

    /** Re-read on every call: the counters move every period. */
    public Throttling throttling(Limit limit) {
        List<String> problems = new ArrayList<>();
        OptionalDouble none = OptionalDouble.empty();
        if (limit.statFile == null) return new Throttling(none, none, none, problems);
        SmallFile file = SmallFile.read(limit.statFile);
        if (file.text == null) {
            problems.add(file.problem != null ? file.problem : limit.statFile + " does not exist");
            return new Throttling(none, none, none, problems);
        }
        Map<String, String> fields = new HashMap<>();
        for (String line : file.text.split("\n")) {
            String[] kv = line.trim().split("\\s+");
            if (kv.length == 2) fields.putIfAbsent(kv[0], kv[1]);
        }
        OptionalDouble periods = counter(fields, "nr_periods", 1, limit.statFile, problems);
        OptionalDouble throttled = counter(fields, "nr_throttled", 1, limit.statFile, problems);
        OptionalDouble seconds = limit.statVersion == 2
                ? counter(fields, "throttled_usec", 1e-6, limit.statFile, problems)
                : counter(fields, "throttled_time", 1e-9, limit.statFile, problems);
        return new Throttling(periods, throttled, seconds, problems);
    }

    private static OptionalDouble counter(Map<String, String> fields, String key, double scale, Path file, List<String> problems) {
        String v = fields.get(key);
        long n = parseNonNegative(v);
        if (n < 0) {
            problems.add(file + (v == null ? " has no " + key : ": " + key + " is not a count: " + clip(v)));
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(n * scale);
    }

    /** A quota in cores and the cgroup directory that sets it; NONE and UNKNOWN are markers. */
    private static final class Quota {
        static final Quota NONE = new Quota(0, null, 0);
        static final Quota UNKNOWN = new Quota(0, null, 0);
        final double cores;
        final Path dir;
        final int version;

        Quota(double cores, Path dir, int version) {
            this.cores = cores;
            this.dir = dir;
            this.version = version;
        }
    }

    /** The smallest quota from the process's cgroup up to the mount; on a tie the deepest. */
    private static Quota smallest(CgroupPaths.Hierarchy h, List<String> problems) {
        if (!Files.isDirectory(h.own)) {
            problems.add("this process's cgroup directory " + h.own + " does not exist");
            return Quota.UNKNOWN;
        }
        Quota best = Quota.NONE;
        for (Path dir : h.levels()) {
            Quota q = h.version == 2 ? v2Quota(dir, problems) : v1Quota(dir, problems);
            if (q == Quota.UNKNOWN) return q;
            if (q != Quota.NONE && (best == Quota.NONE || q.cores < best.cores)) best = q;
        }
        return best;
    }

    /** cpu.max: "max 100000" (no limit) or "15000 100000" (0.15 cores). Missing where cpu is not enabled, and at the root. */
    private static Quota v2Quota(Path dir, List<String> problems) {
        Path path = dir.resolve("cpu.max");
        SmallFile file = SmallFile.read(path);
        if (file.missing()) return Quota.NONE;
        if (file.problem != null) return unknown(problems, file.problem);
        String[] f = file.text.trim().split("\\s+");
        if (f.length >= 1 && f.length <= 2 && f[0].equals("max")) return Quota.NONE;
        long quota = f.length == 2 ? parsePositive(f[0]) : -1;
        long period = f.length == 2 ? parsePositive(f[1]) : -1;
        if (quota < 0 || period < 0) return unknown(problems, path + " is neither \"max\" nor \"<quota> <period>\": " + clip(file.text));
        return new Quota((double) quota / period, dir, 2);
    }

    /** cpu.cfs_quota_us over cpu.cfs_period_us; a quota of -1 is no limit. */
    private static Quota v1Quota(Path dir, List<String> problems) {
        Path quotaPath = dir.resolve("cpu.cfs_quota_us");
        SmallFile quotaFile = SmallFile.read(quotaPath);
        if (quotaFile.missing()) return Quota.NONE; // a kernel without CFS bandwidth control
        if (quotaFile.problem != null) return unknown(problems, quotaFile.problem);
        String q = quotaFile.text.trim();
        if (q.equals("-1")) return Quota.NONE;
        long quota = parsePositive(q);
        if (quota < 0) return unknown(problems, quotaPath + " is neither -1 nor a positive number: " + clip(q));
        Path periodPath = dir.resolve("cpu.cfs_period_us");
        SmallFile periodFile = SmallFile.read(periodPath);
        if (periodFile.text == null) {
            return unknown(problems, periodFile.problem != null ? periodFile.problem : periodPath + " does not exist beside a quota");
        }
        long period = parsePositive(periodFile.text.trim());
        if (period < 0) return unknown(problems, periodPath + " is not a positive number: " + clip(periodFile.text));
        return new Quota((double) quota / period, dir, 1);
    }

    private static Quota unknown(List<String> problems, String problem) {
        problems.add(problem);
        return Quota.UNKNOWN;
    }

    /**
     * The CPUs this process may run on: the Cpus_allowed_list of /proc/self/status (its
     * cpuset and affinity), else the JVM's count, which without a quota means the same.
     */
    private double hostCpus(List<String> problems) {
        SmallFile status = SmallFile.read(base.resolve("proc/self/status"));
        if (status.text != null) {
            for (String line : status.text.split("\n")) {
                if (!line.startsWith("Cpus_allowed_list:")) continue;
                int n = countCpuList(line.substring("Cpus_allowed_list:".length()).trim());
                if (n > 0) return n;
                problems.add(base.resolve("proc/self/status") + ": Cpus_allowed_list is not a CPU list: " + clip(line));
            }
        } else if (status.problem != null) {
            problems.add(status.problem);
        }
        return Math.max(1, availableProcessors.getAsInt());
    }

    /** "0-3,8,10-11" → 7; -1 when it is not such a list. */
    static int countCpuList(String list) {
        if (list.isEmpty()) return -1;
        int n = 0;
        for (String part : list.split(",")) {
            String[] range = part.split("-", -1);
            long from = parseNonNegative(range[0]);
            long to = range.length == 2 ? parseNonNegative(range[1]) : from;
            if (range.length > 2 || from < 0 || to < from || to - from > 1 << 20) return -1;
            n += (int) (to - from + 1);
        }
        return n;
    }

    /** A decimal count of at most 18 digits, or -1. */
    private static long parseNonNegative(String s) {
        if (s == null || s.isEmpty() || s.length() > 18) return -1;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return -1;
        return Long.parseLong(s);
    }

    private static long parsePositive(String s) {
        long n = parseNonNegative(s);
        return n > 0 ? n : -1;
    }

    private static String clip(String s) {
        String one = s.trim().replace('\n', ' ');
        return one.length() > 80 ? one.substring(0, 80) + "..." : one;
    }
}
