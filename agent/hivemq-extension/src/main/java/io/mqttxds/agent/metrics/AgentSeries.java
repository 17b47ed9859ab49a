package io.mqttxds.agent.metrics;

import io.mqttxds.agent.api.RateLimitedLog;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The agent's own series on /metrics, appended after HiveMQ's: what HiveMQ CE lacks for
 * balancing by CPU. The control plane divides the rate of process_cpu_seconds_total by
 * mqtt_xds_agent_cpu_limit_cores to get the broker's CPU use relative to its own limit.
 *
 * <p>Measured on every scrape. The limit lookup (a few tiny files, more for mountinfo) is
 * kept for {@link #LIMIT_TTL_NANOS}, so a scrape a second stays cheap and a changed limit
 * shows within seconds; cpu.stat and the JVM's beans are read every time. Never throws:
 * a series that cannot be measured is left out and the reason goes to the problem log.
 */
public final class AgentSeries {
    public static final String PROCESS_CPU = "process_cpu_seconds_total";
    public static final String CPU_LIMIT = "mqtt_xds_agent_cpu_limit_cores";
    public static final String CPU_LIMIT_INFO = "mqtt_xds_agent_cpu_limit_info";
    public static final String CPU_PERIODS = "mqtt_xds_agent_cpu_periods_total";
    public static final String CPU_THROTTLED_PERIODS = "mqtt_xds_agent_cpu_throttled_periods_total";
    public static final String CPU_THROTTLED_SECONDS = "mqtt_xds_agent_cpu_throttled_seconds_total";
    public static final String GC_PAUSE = "mqtt_xds_agent_gc_pause_seconds_total";

    static final long LIMIT_TTL_NANOS = 5_000_000_000L;
    /** A file that stays broken is logged again after this long, not per scrape. */
    static final long PROBLEM_LOG_INTERVAL_MS = 600_000;

    private final CgroupCpu cgroups;
    private final Supplier<OptionalDouble> processCpuSeconds;
    private final Supplier<Map<String, Long>> gcMillis;
    private final LongSupplier nanoTime;
    private final Consumer<String> problemLog;
    private volatile Cached cached;

    private static final class Cached {
        final CgroupCpu.Lookup lookup;
        final long atNanos;

        Cached(CgroupCpu.Lookup lookup, long atNanos) {
            this.lookup = lookup;
            this.atNanos = atNanos;
        }
    }

    AgentSeries(CgroupCpu cgroups, Supplier<OptionalDouble> processCpuSeconds, Supplier<Map<String, Long>> gcMillis,
            LongSupplier nanoTime, Consumer<String> problemLog) {
        this.cgroups = cgroups;
        this.processCpuSeconds = processCpuSeconds;
        this.gcMillis = gcMillis;
        this.nanoTime = nanoTime;
        this.problemLog = problemLog;
    }

    /** This JVM and the real /proc and /sys/fs/cgroup; problems are logged at most once per 10 minutes. */
    public static AgentSeries forThisProcess(Logger log) {
        RateLimitedLog problems = new RateLimitedLog(log, PROBLEM_LOG_INTERVAL_MS);
        return new AgentSeries(CgroupCpu.forThisProcess(), JvmTimes::processCpuSeconds, JvmTimes::gcMillisByCollector,
                System::nanoTime, problems::warn);
    }

    public List<Series> collect() {
        List<Series> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        try {
            processCpu(out);
        } catch (RuntimeException e) {
            problems.add("process CPU time: " + e);
        }
        try {
            cpuLimit(out, problems);
        } catch (RuntimeException e) {
            problems.add("CPU limit: " + e);
        }
        try {
            gcPause(out);
        } catch (RuntimeException e) {
            problems.add("GC time: " + e);
        }
        if (!problems.isEmpty()) {
            problemLog.accept("mqtt-xds agent: /metrics leaves out some CPU series: " + String.join("; ", problems));
        }
        return out;
    }

    private void processCpu(List<Series> out) {
        OptionalDouble seconds = processCpuSeconds.get();
        if (seconds.isPresent()) {
            out.add(Series.counter(PROCESS_CPU, "CPU seconds this JVM used, all threads, user and system (getProcessCpuTime).",
                    seconds.getAsDouble()));
        }
    }

    private void cpuLimit(List<Series> out, List<String> problems) {
        CgroupCpu.Lookup lookup = lookup();
        problems.addAll(lookup.problems);
        CgroupCpu.Limit limit = lookup.limit;
        if (limit == null) return;
        out.add(Series.gauge(CPU_LIMIT, "CPU this broker may use, in cores: the smallest CFS quota of its cgroup and the"
                + " cgroup's ancestors (0.15 for 15 ms per 100 ms), at most the CPUs it may run on; without a quota, those CPUs.", limit.cores));
        out.add(Series.info(CPU_LIMIT_INFO, "Where " + CPU_LIMIT + " came from: cgroup-v2 (cpu.max), cgroup-v1 (cpu.cfs_quota_us)"
                + " or host (the CPUs the process may run on).", "source", limit.source));
        if (limit.statFile == null) return;
        CgroupCpu.Throttling t = cgroups.throttling(limit);
        problems.addAll(t.problems);
        if (t.periods.isPresent()) {
            out.add(Series.counter(CPU_PERIODS, "CFS periods in which the limiting cgroup had work (cpu.stat nr_periods).",
                    t.periods.getAsDouble()));
        }
        if (t.throttledPeriods.isPresent()) {
            out.add(Series.counter(CPU_THROTTLED_PERIODS, "CFS periods in which the limiting cgroup used its whole quota and was"
                    + " throttled (cpu.stat nr_throttled).", t.throttledPeriods.getAsDouble()));
        }
        if (t.throttledSeconds.isPresent()) {
            out.add(Series.counter(CPU_THROTTLED_SECONDS, "Seconds the limiting cgroup's tasks were held back by its quota"
                    + " (cpu.stat throttled_usec, or throttled_time on cgroup v1).", t.throttledSeconds.getAsDouble()));
        }
    }

    private CgroupCpu.Lookup lookup() {
        long now = nanoTime.getAsLong();
        Cached c = cached;
        if (c != null && now - c.atNanos < LIMIT_TTL_NANOS) return c.lookup;
        // Two scrapes at once may both look up; either answer is right.
        CgroupCpu.Lookup fresh = cgroups.lookup();
        cached = new Cached(fresh, now);
        return fresh;
    }

    private void gcPause(List<Series> out) {
        OptionalDouble seconds = JvmTimes.gcPauseSeconds(gcMillis.get());
        if (seconds.isPresent()) {
            out.add(Series.counter(GC_PAUSE, "Seconds this JVM spent in garbage-collection pauses, all collectors"
                    + " (GarbageCollectorMXBean collection time; concurrent-cycle beans left out).", seconds.getAsDouble()));
        }
    }
}
