package io.mqttxds.agent.metrics;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/** This JVM's CPU time and GC pause time, from its management beans. Never throws. */
final class JvmTimes {
    /**
     * Collectors whose beans time concurrent cycles, which run beside the application,
     * rather than pauses: ZGC and Shenandoah (JDK 17+) have a "... Pauses" bean beside their
     * "... Cycles" one, G1 (JDK 21+) a "G1 Concurrent GC" bean beside its pause beans, and
     * ZGC before JDK 17 only a cycle bean named "ZGC".
     */
    private static final Set<String> CONCURRENT = Set.of("G1 Concurrent GC", "ZGC");

    private JvmTimes() {}

    /** CPU seconds the process used (all threads, user + system), empty where the JVM cannot say. */
    static OptionalDouble processCpuSeconds() {
        try {
            OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
            if (!(os instanceof com.sun.management.OperatingSystemMXBean)) return OptionalDouble.empty();
            long nanos = ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
            return nanos < 0 ? OptionalDouble.empty() : OptionalDouble.of(nanos / 1e9);
        } catch (RuntimeException | LinkageError e) {
            return OptionalDouble.empty(); // a JVM without com.sun.management
        }
    }

    /** Collector name → accumulated collection time in ms (-1 where undefined), in the JVM's order. */
    static Map<String, Long> gcMillisByCollector() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) out.put(gc.getName(), gc.getCollectionTime());
        return out;
    }

    /** Seconds of GC pauses: the pause collectors' times summed; empty when none reports one. */
    static OptionalDouble gcPauseSeconds(Map<String, Long> millisByCollector) {
        long sum = 0;
        boolean any = false;
        for (Map.Entry<String, Long> e : millisByCollector.entrySet()) {
            if (!isPauseCollector(e.getKey()) || e.getValue() == null || e.getValue() < 0) continue;
            sum += e.getValue();
            any = true;
        }
        return any ? OptionalDouble.of(sum / 1000.0) : OptionalDouble.empty();
    }

    static boolean isPauseCollector(String name) {
        return !CONCURRENT.contains(name) && !name.endsWith(" Cycles");
    }
}
