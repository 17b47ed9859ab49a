package io.mqttxds.agent.metrics;

import com.codahale.metrics.MetricRegistry;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Run by {@link RealCgroupTest} as a child JVM: waits for "go" on stdin (by then the test
 * has moved it into a cgroup), burns CPU for a while so the quota throttles it, then prints
 * the agent's series as /metrics renders them, with each problem on a "problem:" line and
 * the JVM's own processor count for comparison.
 */
public final class CpuLimitProbe {
    private CpuLimitProbe() {}

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (!"go".equals(in.readLine())) throw new IllegalStateException("expected \"go\" on stdin");
        long burnNanos = Long.parseLong(args.length > 0 ? args[0] : "500") * 1_000_000L;
        long until = System.nanoTime() + burnNanos;
        long spins = 0;
        while (System.nanoTime() < until) spins++;
        AgentSeries series = new AgentSeries(CgroupCpu.forThisProcess(), JvmTimes::processCpuSeconds, JvmTimes::gcMillisByCollector,
                System::nanoTime, problem -> System.out.println("problem: " + problem));
        System.out.print(PrometheusText.render(new MetricRegistry(), series.collect()));
        System.out.println("# availableProcessors " + Runtime.getRuntime().availableProcessors() + " (spins " + spins + ")");
    }
}
