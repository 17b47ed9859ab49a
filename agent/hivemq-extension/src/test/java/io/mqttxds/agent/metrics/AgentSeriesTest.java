package io.mqttxds.agent.metrics;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicLong;

import static io.mqttxds.agent.metrics.FakeCgroupTree.v1Stat;
import static io.mqttxds.agent.metrics.FakeCgroupTree.v2Stat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentSeriesTest {
    @TempDir
    Path root;

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<String> logged = new ArrayList<>();

    private AgentSeries series(FakeCgroupTree tree) {
        return new AgentSeries(tree.cgroupCpu(), JvmTimes::processCpuSeconds, JvmTimes::gcMillisByCollector, nanos::get, logged::add);
    }

    /** The page's samples by series, as a scraper reads them: "name" or "name{label}" → value. */
    private static Map<String, Double> samples(String page) {
        Map<String, Double> out = new HashMap<>();
        for (String line : page.split("\n")) {
            if (line.startsWith("#") || line.isEmpty()) continue;
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }

    @Test
    void thePageCarriesTheCpuLimitThrottlingAndJvmSeriesAfterHiveMQs() {
        FakeCgroupTree tree = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "15000 100000", v2Stat(1200, 300, 4_500_000));
        MetricRegistry registry = new MetricRegistry();
        registry.register("com.hivemq.networking.connections.current", (Gauge<Integer>) () -> 3);
        String page = PrometheusText.render(registry, series(tree).collect());

        Map<String, Double> s = samples(page);
        assertTrue(s.get("process_cpu_seconds_total") > 0, page);
        assertEquals(0.15, s.get("mqtt_xds_agent_cpu_limit_cores"), page);
        assertEquals(1.0, s.get("mqtt_xds_agent_cpu_limit_info{source=\"cgroup-v2\"}"), page);
        assertEquals(1200.0, s.get("mqtt_xds_agent_cpu_periods_total"), page);
        assertEquals(300.0, s.get("mqtt_xds_agent_cpu_throttled_periods_total"), page);
        assertEquals(4.5, s.get("mqtt_xds_agent_cpu_throttled_seconds_total"), page);
        assertTrue(s.get("mqtt_xds_agent_gc_pause_seconds_total") >= 0, page);
        assertTrue(page.startsWith("# HELP com_hivemq_networking_connections_current "), "HiveMQ's metrics come first: " + page);

        for (String name : List.of(AgentSeries.PROCESS_CPU, AgentSeries.CPU_PERIODS, AgentSeries.CPU_THROTTLED_PERIODS,
                AgentSeries.CPU_THROTTLED_SECONDS, AgentSeries.GC_PAUSE)) {
            assertTrue(page.contains("\n# HELP " + name + " "), name + " has HELP: " + page);
            assertTrue(page.contains("\n# TYPE " + name + " counter\n" + name + " "), name + " is a counter: " + page);
        }
        for (String name : List.of(AgentSeries.CPU_LIMIT, AgentSeries.CPU_LIMIT_INFO)) {
            assertTrue(page.contains("\n# HELP " + name + " "), name + " has HELP: " + page);
            assertTrue(page.contains("\n# TYPE " + name + " gauge\n" + name), name + " is a gauge: " + page);
        }
        assertTrue(logged.isEmpty(), logged.toString());
    }

    @Test
    void withoutAQuotaTheLimitIsTheHostsCpusAndThereAreNoThrottlingSeries() {
        FakeCgroupTree tree = FakeCgroupTree.v1(root, "/").status("0-1");
        String page = PrometheusText.render(new MetricRegistry(), series(tree).collect());
        Map<String, Double> s = samples(page);
        assertEquals(2.0, s.get("mqtt_xds_agent_cpu_limit_cores"), page);
        assertEquals(1.0, s.get("mqtt_xds_agent_cpu_limit_info{source=\"host\"}"), page);
        assertFalse(page.contains("mqtt_xds_agent_cpu_periods_total"), page);
        assertFalse(page.contains("mqtt_xds_agent_cpu_throttled"), page);
        assertNotNull(s.get("process_cpu_seconds_total"), page);
    }

    @Test
    void aV1QuotaGivesTheV1SourceAndThrottledTimeInSeconds() {
        FakeCgroupTree tree = FakeCgroupTree.v1(root, "/").v1Cgroup("sys/fs/cgroup/cpu", 15_000, 100_000, v1Stat(10, 4, 1_250_000_000L));
        Map<String, Double> s = samples(PrometheusText.render(new MetricRegistry(), series(tree).collect()));
        assertEquals(0.15, s.get("mqtt_xds_agent_cpu_limit_cores"));
        assertEquals(1.0, s.get("mqtt_xds_agent_cpu_limit_info{source=\"cgroup-v1\"}"));
        assertEquals(1.25, s.get("mqtt_xds_agent_cpu_throttled_seconds_total"));
    }

    @Test
    void hiveMQsOwnProcessCpuSecondsWins() {
        FakeCgroupTree tree = FakeCgroupTree.v2(root);
        MetricRegistry registry = new MetricRegistry();
        registry.register("process.cpu.seconds.total", (Gauge<Double>) () -> 42.0);
        String page = PrometheusText.render(registry, series(tree).collect());
        assertEquals(42.0, samples(page).get("process_cpu_seconds_total"), page);
        assertEquals(page.indexOf("# TYPE process_cpu_seconds_total "), page.lastIndexOf("# TYPE process_cpu_seconds_total "), page);
        assertTrue(page.contains("# skipped agent series process_cpu_seconds_total"), page);
    }

    @Test
    void aBrokenLimitFileLeavesOutTheLimitSeriesAndIsLogged() {
        FakeCgroupTree tree = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "garbage", v2Stat(0, 0, 0));
        String page = PrometheusText.render(new MetricRegistry(), series(tree).collect());
        assertFalse(page.contains("mqtt_xds_agent_cpu_limit"), page);
        assertFalse(page.contains("mqtt_xds_agent_cpu_periods_total"), page);
        assertTrue(page.contains("process_cpu_seconds_total "), "the other series stay: " + page);
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).contains("cpu.max is neither"), logged.toString());
    }

    @Test
    void theLimitIsLookedUpAgainAfterAFewSecondsAndCpuStatOnEveryScrape() {
        FakeCgroupTree tree = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "15000 100000", v2Stat(1, 0, 0));
        AgentSeries agent = series(tree);
        assertEquals(0.15, value(agent.collect(), AgentSeries.CPU_LIMIT));

        tree.v2Cgroup("sys/fs/cgroup", "50000 100000", v2Stat(2, 1, 0));
        nanos.addAndGet(AgentSeries.LIMIT_TTL_NANOS - 1);
        List<Series> cached = agent.collect();
        assertEquals(0.15, value(cached, AgentSeries.CPU_LIMIT), "within the TTL the lookup is kept");
        assertEquals(2.0, value(cached, AgentSeries.CPU_PERIODS), "cpu.stat is read every time");

        nanos.addAndGet(1);
        assertEquals(0.5, value(agent.collect(), AgentSeries.CPU_LIMIT));
    }

    @Test
    void aFailingSourceLeavesOutItsSeriesOnly() {
        FakeCgroupTree tree = FakeCgroupTree.v2(root);
        AgentSeries agent = new AgentSeries(tree.cgroupCpu(), () -> {
            throw new IllegalStateException("no bean");
        }, () -> {
            throw new UnsupportedOperationException("no beans either");
        }, nanos::get, logged::add);
        List<Series> out = agent.collect();
        assertNull(value(out, AgentSeries.PROCESS_CPU));
        assertNull(value(out, AgentSeries.GC_PAUSE));
        assertEquals(4.0, value(out, AgentSeries.CPU_LIMIT));
        assertTrue(logged.get(0).contains("no bean") && logged.get(0).contains("no beans either"), logged.toString());
    }

    @Test
    void gcPausesLeaveOutConcurrentCycleBeans() {
        Map<String, Long> zgc = new LinkedHashMap<>();
        zgc.put("ZGC Cycles", 5_000L);
        zgc.put("ZGC Pauses", 12L);
        assertEquals(OptionalDouble.of(0.012), JvmTimes.gcPauseSeconds(zgc));

        Map<String, Long> g1 = new LinkedHashMap<>();
        g1.put("G1 Young Generation", 1_500L);
        g1.put("G1 Old Generation", 500L);
        g1.put("G1 Concurrent GC", 9_000L);
        assertEquals(OptionalDouble.of(2.0), JvmTimes.gcPauseSeconds(g1));

        Map<String, Long> undefined = new LinkedHashMap<>();
        undefined.put("Copy", -1L);
        assertEquals(OptionalDouble.empty(), JvmTimes.gcPauseSeconds(undefined));
        assertEquals(OptionalDouble.empty(), JvmTimes.gcPauseSeconds(Map.of("ZGC", 100L)));
    }

    private static Double value(List<Series> series, String name) {
        for (Series s : series) if (s.name.equals(name)) return s.value;
        return null;
    }
}
