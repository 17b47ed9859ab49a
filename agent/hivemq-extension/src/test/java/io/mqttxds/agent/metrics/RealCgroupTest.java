package io.mqttxds.agent.metrics;

import com.codahale.metrics.MetricRegistry;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real kernel's cgroups, as a Kubernetes CPU limit sets them: a child JVM is moved into
 * a fresh cgroup with a 15 ms per 100 ms quota and must report 0.15 cores (the JVM itself
 * says 1 processor there). Needs root and a writable cpu controller, as CI has; without
 * them the test fails and says why, since a skipped test would hide the broker's real case.
 */
class RealCgroupTest {
    private static final Path V1_CPU = Path.of("/sys/fs/cgroup/cpu");
    private static final Path V2_ROOT = Path.of("/sys/fs/cgroup");
    private static final long PERIOD_US = 100_000;
    private static final long NO_QUOTA = -1;

    @Test
    void aChildJvmUnderA15msQuotaReports015CoresAndItsThrottling() throws Exception {
        try (TestCgroup cgroup = TestCgroup.create("mqttxds-agent-test-" + ProcessHandle.current().pid(), 15_000)) {
            Map<String, Double> s = runProbeIn(cgroup.dir, cgroup);
            assertEquals(0.15, s.get("mqtt_xds_agent_cpu_limit_cores"), s.toString());
            assertEquals(1.0, s.get("mqtt_xds_agent_cpu_limit_info{source=\"" + cgroup.source() + "\"}"), s.toString());
            assertTrue(s.get("mqtt_xds_agent_cpu_periods_total") >= 1, s.toString());
            assertTrue(s.get("mqtt_xds_agent_cpu_throttled_periods_total") >= 1, "half a second of spinning under 0.15 cores is throttled: " + s);
            assertTrue(s.get("mqtt_xds_agent_cpu_throttled_seconds_total") > 0, s.toString());
            assertTrue(s.get("process_cpu_seconds_total") > 0, s.toString());
            assertNotNull(s.get("mqtt_xds_agent_gc_pause_seconds_total"), s.toString());
        }
    }

    @Test
    void aChildJvmInANestedCgroupReportsTheSmallerLimitOfItsParent() throws Exception {
        // cgroup v1 refuses a child quota above its parent's, so the container has none of its own.
        try (TestCgroup pod = TestCgroup.create("mqttxds-agent-test-" + ProcessHandle.current().pid() + "-pod", 15_000);
                TestCgroup container = pod.child("container", NO_QUOTA)) {
            Map<String, Double> s = runProbeIn(container.dir, container);
            assertEquals(0.15, s.get("mqtt_xds_agent_cpu_limit_cores"), s.toString());
            assertTrue(s.get("mqtt_xds_agent_cpu_throttled_periods_total") >= 1, "the pod's counters are read: " + s);
        }
    }

    /** Starts the probe, moves it into the cgroup, lets it run, and returns its page's samples. */
    private static Map<String, Double> runProbeIn(Path dir, TestCgroup cgroup) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = String.join(File.pathSeparator, classpathOf(CpuLimitProbe.class, CgroupCpu.class, MetricRegistry.class, Logger.class));
        Process child = new ProcessBuilder(javaBin, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath,
                CpuLimitProbe.class.getName(), "500").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(child.getInputStream()));
            cgroup.add(child.pid());
            try (OutputStream stdin = child.getOutputStream()) {
                stdin.write("go\n".getBytes(StandardCharsets.UTF_8));
            }
            if (!child.waitFor(60, TimeUnit.SECONDS)) fail("the probe JVM did not finish within 60 s");
            String page = out.get(5, TimeUnit.SECONDS);
            assertEquals(0, child.exitValue(), "the probe failed; its output:\n" + page);
            assertFalse(page.contains("problem:"), page);
            return samples(page);
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "cannot read the probe's output: " + e;
        }
    }

    private static Map<String, Double> samples(String page) {
        Map<String, Double> out = new HashMap<>();
        for (String line : page.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) continue;
            int space = line.lastIndexOf(' ');
            out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return out;
    }

    private static List<String> classpathOf(Class<?>... classes) throws URISyntaxException {
        Set<String> out = new LinkedHashSet<>();
        for (Class<?> c : classes) out.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        return List.copyOf(out);
    }

    /** A cgroup with a CFS quota, on v1's cpu controller or on v2; removed on close. */
    private static final class TestCgroup implements AutoCloseable {
        final Path dir;
        final int version;
        private final Path root;

        private TestCgroup(Path dir, int version, Path root) {
            this.dir = dir;
            this.version = version;
            this.root = root;
        }

        static TestCgroup create(String name, long quotaUs) {
            boolean v1 = Files.exists(V1_CPU.resolve("cpu.cfs_quota_us"));
            Path root = v1 ? V1_CPU : V2_ROOT;
            if (!v1 && !controllers(V2_ROOT.resolve("cgroup.controllers")).contains(" cpu ")) {
                fail("no cgroup cpu controller to test against: neither " + V1_CPU + "/cpu.cfs_quota_us (cgroup v1) nor \"cpu\" in "
                        + V2_ROOT + "/cgroup.controllers (cgroup v2)");
            }
            TestCgroup c = new TestCgroup(root.resolve(name), v1 ? 1 : 2, root);
            c.make(quotaUs);
            return c;
        }

        TestCgroup child(String name, long quotaUs) {
            TestCgroup c = new TestCgroup(dir.resolve(name), version, root);
            c.make(quotaUs);
            return c;
        }

        String source() {
            return version == 1 ? "cgroup-v1" : "cgroup-v2";
        }

        /** quotaUs NO_QUOTA: the cgroup sets no limit of its own. */
        private void make(long quotaUs) {
            try {
                if (version == 2) {
                    Path parentControl = dir.getParent().resolve("cgroup.subtree_control");
                    if (!controllers(parentControl).contains(" cpu ")) Files.writeString(parentControl, "+cpu");
                }
                Files.createDirectory(dir);
            } catch (IOException | RuntimeException e) {
                fail("cannot create the CPU cgroup " + dir + " (this test needs root and a writable cgroup cpu controller): " + e, e);
            }
            try {
                if (quotaUs == NO_QUOTA) return;
                if (version == 1) {
                    Files.writeString(dir.resolve("cpu.cfs_period_us"), String.valueOf(PERIOD_US));
                    Files.writeString(dir.resolve("cpu.cfs_quota_us"), String.valueOf(quotaUs));
                } else {
                    Files.writeString(dir.resolve("cpu.max"), quotaUs + " " + PERIOD_US);
                }
            } catch (IOException | RuntimeException e) {
                try {
                    Files.delete(dir);
                } catch (IOException gone) {
                    e.addSuppressed(gone);
                }
                fail("cannot give the CPU cgroup " + dir + " a quota of " + quotaUs + " us per " + PERIOD_US + " us: " + e, e);
            }
        }

        void add(long pid) throws IOException {
            Files.writeString(dir.resolve("cgroup.procs"), String.valueOf(pid));
        }

        private static String controllers(Path file) {
            try {
                return " " + Files.readString(file).trim() + " ";
            } catch (IOException e) {
                return "";
            }
        }

        /** Moves what is left in it back to the root and removes it, retrying while the kernel still counts an exiting task. */
        @Override
        public void close() throws Exception {
            if (!Files.isDirectory(dir)) return;
            for (String pid : Files.readString(dir.resolve("cgroup.procs")).split("\\s+")) {
                if (pid.isEmpty()) continue;
                try {
                    Files.writeString(root.resolve("cgroup.procs"), pid);
                } catch (IOException e) {
                    // It exited meanwhile.
                }
            }
            for (int attempt = 0; ; attempt++) {
                try {
                    Files.delete(dir);
                    return;
                } catch (FileSystemException e) {
                    if (attempt >= 50) throw new IOException("cannot remove the test cgroup " + dir + ": " + e, e);
                    Thread.sleep(100);
                }
            }
        }
    }
}
