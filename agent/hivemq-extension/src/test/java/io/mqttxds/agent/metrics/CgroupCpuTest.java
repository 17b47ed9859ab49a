package io.mqttxds.agent.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.OptionalDouble;

import static io.mqttxds.agent.metrics.FakeCgroupTree.mountinfoLine;
import static io.mqttxds.agent.metrics.FakeCgroupTree.v1Stat;
import static io.mqttxds.agent.metrics.FakeCgroupTree.v2Stat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CgroupCpuTest {
    @TempDir
    Path root;

    private static final String POD = "/kubepods/burstable/pod1234";
    private static final String CONTAINER = POD + "/cri-abc";

    @Test
    void readsAV1QuotaFromASeparateCpuMount() {
        FakeCgroupTree t = FakeCgroupTree.v1(root, CONTAINER)
                .v1Cgroup("sys/fs/cgroup/cpu" + CONTAINER, 15_000, 100_000, v1Stat(120, 30, 2_500_000_000L));
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertTrue(lookup.problems.isEmpty(), lookup.problems.toString());
        assertEquals(0.15, lookup.limit.cores);
        assertEquals("cgroup-v1", lookup.limit.source);
        assertEquals(root.resolve("sys/fs/cgroup/cpu" + CONTAINER + "/cpu.stat"), lookup.limit.statFile);

        CgroupCpu.Throttling th = t.cgroupCpu().throttling(lookup.limit);
        assertEquals(OptionalDouble.of(120), th.periods);
        assertEquals(OptionalDouble.of(30), th.throttledPeriods);
        assertEquals(OptionalDouble.of(2.5), th.throttledSeconds);
        assertTrue(th.problems.isEmpty(), th.problems.toString());
    }

    @Test
    void readsAV1QuotaFromACombinedCpuCpuacctMountRootedAtTheContainer() {
        // Kubernetes on cgroup v1 without a cgroup namespace: the mount shows only the container's cgroup.
        FakeCgroupTree t = new FakeCgroupTree(root)
                .write("proc/self/cgroup", "11:memory:" + CONTAINER + "\n4:cpu,cpuacct:" + CONTAINER + "\n3:cpuset:" + CONTAINER + "\n")
                .write("proc/self/mountinfo", mountinfoLine(30, "/", "/", "overlay", "overlay", "rw")
                        + mountinfoLine(40, CONTAINER, "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "cgroup", "ro,cpu,cpuacct")
                        + mountinfoLine(41, CONTAINER, "/sys/fs/cgroup/cpuset", "cgroup", "cgroup", "ro,cpuset"))
                .v1Cgroup("sys/fs/cgroup/cpu,cpuacct", 250_000, 100_000, v1Stat(10, 0, 0))
                .status("0-7");
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertEquals(2.5, lookup.limit.cores, lookup.problems.toString());
        assertEquals("cgroup-v1", lookup.limit.source);
        assertEquals(root.resolve("sys/fs/cgroup/cpu,cpuacct/cpu.stat"), lookup.limit.statFile);
    }

    @Test
    void aV1QuotaOfMinusOneIsNoLimitAndTheAllowedCpusCount() {
        FakeCgroupTree t = FakeCgroupTree.v1(root, "/user.slice").v1Cgroup("sys/fs/cgroup/cpu/user.slice", -1, 100_000, v1Stat(0, 0, 0))
                .status("0-2,5");
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertEquals(4.0, lookup.limit.cores, lookup.problems.toString());
        assertEquals("host", lookup.limit.source);
        assertNull(lookup.limit.statFile, "no quota'd cgroup, so no throttling counters");
    }

    @Test
    void readsAV2CpuMaxInACgroupNamespace() {
        FakeCgroupTree t = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "15000 100000", v2Stat(50, 7, 350_000));
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertEquals(0.15, lookup.limit.cores, lookup.problems.toString());
        assertEquals("cgroup-v2", lookup.limit.source);
        CgroupCpu.Throttling th = t.cgroupCpu().throttling(lookup.limit);
        assertEquals(OptionalDouble.of(50), th.periods);
        assertEquals(OptionalDouble.of(7), th.throttledPeriods);
        assertEquals(0.35, th.throttledSeconds.getAsDouble(), 1e-12);
    }

    @Test
    void aV2CpuMaxOfMaxIsNoLimit() {
        FakeCgroupTree t = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "max 100000", v2Stat(0, 0, 0));
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertEquals(4.0, lookup.limit.cores);
        assertEquals("host", lookup.limit.source);
        assertNull(lookup.limit.statFile);
        assertTrue(lookup.problems.isEmpty(), lookup.problems.toString());
    }

    @Test
    void theSmallerLimitOfAnAncestorWinsAndItsCountersAreRead() {
        // A pod-level limit below the container's own, on cgroup v2 without a namespace.
        FakeCgroupTree t = FakeCgroupTree.v2(root)
                .write("proc/self/cgroup", "0::" + CONTAINER + "\n")
                .v2Cgroup("sys/fs/cgroup/kubepods", "max 100000", v2Stat(0, 0, 0))
                .v2Cgroup("sys/fs/cgroup" + POD, "15000 100000", v2Stat(900, 400, 5_000_000))
                .v2Cgroup("sys/fs/cgroup" + CONTAINER, "50000 100000", v2Stat(800, 0, 0));
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertEquals(0.15, lookup.limit.cores, lookup.problems.toString());
        assertEquals(root.resolve("sys/fs/cgroup" + POD + "/cpu.stat"), lookup.limit.statFile);
        assertEquals(OptionalDouble.of(400), t.cgroupCpu().throttling(lookup.limit).throttledPeriods);
    }

    @Test
    void theOwnLimitWinsOverALargerAncestorAndATieGoesToTheOwn() {
        FakeCgroupTree t = FakeCgroupTree.v1(root, CONTAINER)
                .v1Cgroup("sys/fs/cgroup/cpu" + POD, 30_000, 100_000, v1Stat(0, 0, 0))
                .v1Cgroup("sys/fs/cgroup/cpu" + CONTAINER, 30_000, 100_000, v1Stat(0, 0, 0));
        assertEquals(root.resolve("sys/fs/cgroup/cpu" + CONTAINER + "/cpu.stat"), t.cgroupCpu().lookup().limit.statFile);
        t.v1Cgroup("sys/fs/cgroup/cpu" + POD, 200_000, 100_000, v1Stat(0, 0, 0));
        assertEquals(0.3, t.cgroupCpu().lookup().limit.cores);
    }

    @Test
    void aQuotaAboveTheCpusTheProcessMayUseIsCappedAtThem() {
        FakeCgroupTree t = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "800000 100000", v2Stat(1, 0, 0)).status("0-1");
        CgroupCpu.Limit limit = t.cgroupCpu().lookup().limit;
        assertEquals(2.0, limit.cores);
        assertEquals("host", limit.source);
        assertNotNull(limit.statFile, "the quota still throttles, so its counters stay");
    }

    @Test
    void onAHybridHostTheCpuControllerIsOnV1() {
        // This machine's layout: a v2 mount with no cpu controller beside the v1 controllers.
        FakeCgroupTree t = FakeCgroupTree.v1(root, "/").v1Cgroup("sys/fs/cgroup/cpu", 20_000, 100_000, v1Stat(3, 1, 1000));
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertEquals(0.2, lookup.limit.cores, lookup.problems.toString());
        assertEquals("cgroup-v1", lookup.limit.source);
    }

    @Test
    void readsMountPointsWithEscapedSpaces() {
        FakeCgroupTree t = new FakeCgroupTree(root)
                .write("proc/self/cgroup", "0::/\n")
                .write("proc/self/mountinfo", mountinfoLine(25, "/", "/sys/fs/cgroup\\040x", "cgroup2", "cgroup2", "rw"))
                .v2Cgroup("sys/fs/cgroup x", "10000 100000", v2Stat(0, 0, 0))
                .status("0");
        assertEquals(0.1, t.cgroupCpu().lookup().limit.cores);
    }

    @Test
    void garbageInALimitFileLeavesTheLimitUnknownNotTheHostsCpus() {
        FakeCgroupTree t = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "fifteen percent", v2Stat(0, 0, 0));
        CgroupCpu.Lookup lookup = t.cgroupCpu().lookup();
        assertNull(lookup.limit);
        assertEquals(1, lookup.problems.size());
        assertTrue(lookup.problems.get(0).contains("cpu.max is neither \"max\" nor \"<quota> <period>\": fifteen percent"), lookup.problems.toString());

        t.v2Cgroup("sys/fs/cgroup", "-5 100000", v2Stat(0, 0, 0));
        assertNull(t.cgroupCpu().lookup().limit);
        t.v2Cgroup("sys/fs/cgroup", "15000 0", v2Stat(0, 0, 0));
        assertNull(t.cgroupCpu().lookup().limit);

        FakeCgroupTree v1 = FakeCgroupTree.v1(root.resolve("v1"), "/").write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "0x3a98\n");
        assertNull(v1.cgroupCpu().lookup().limit);
        v1.write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "15000\n").write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "\n");
        CgroupCpu.Lookup noPeriod = v1.cgroupCpu().lookup();
        assertNull(noPeriod.limit);
        assertTrue(noPeriod.problems.get(0).contains("cpu.cfs_period_us is not a positive number"), noPeriod.problems.toString());
    }

    @Test
    void garbageInCpuStatLeavesOutOnlyTheCountersItGarbles() {
        FakeCgroupTree t = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "15000 100000", "nr_periods 12\nnr_throttled lots\n\u0000\u0001");
        CgroupCpu.Limit limit = t.cgroupCpu().lookup().limit;
        CgroupCpu.Throttling th = t.cgroupCpu().throttling(limit);
        assertEquals(OptionalDouble.of(12), th.periods);
        assertFalse(th.throttledPeriods.isPresent());
        assertFalse(th.throttledSeconds.isPresent());
        assertEquals(2, th.problems.size(), th.problems.toString());
        assertTrue(th.problems.get(0).contains("nr_throttled is not a count: lots"), th.problems.toString());
        assertTrue(th.problems.get(1).contains("has no throttled_usec"), th.problems.toString());
    }

    @Test
    void anOversizedFileIsAProblemNotARead() {
        FakeCgroupTree t = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "15000 100000", "nr_periods 1\n".repeat(10_000));
        CgroupCpu.Throttling th = t.cgroupCpu().throttling(t.cgroupCpu().lookup().limit);
        assertFalse(th.periods.isPresent());
        assertTrue(th.problems.get(0).contains("is larger than 65536 bytes"), th.problems.toString());
    }

    @Test
    void withoutProcSelfCgroupThereAreNoCgroupsAndTheHostCounts() {
        CgroupCpu.Lookup lookup = new FakeCgroupTree(root).status("0-5").cgroupCpu().lookup();
        assertEquals(6.0, lookup.limit.cores);
        assertEquals("host", lookup.limit.source);
        assertTrue(lookup.problems.isEmpty(), lookup.problems.toString());
        // Without /proc/self/status either, the JVM's count (7 in these tests).
        assertEquals(7.0, new CgroupCpu(root.resolve("nothing"), () -> 7).lookup().limit.cores);
    }

    @Test
    void aCpuControllerThatIsNotVisibleLeavesTheLimitUnknown() {
        FakeCgroupTree unmounted = FakeCgroupTree.v1(root, CONTAINER)
                .write("proc/self/mountinfo", mountinfoLine(30, "/", "/", "overlay", "overlay", "rw"));
        CgroupCpu.Lookup lookup = unmounted.cgroupCpu().lookup();
        assertNull(lookup.limit);
        assertTrue(lookup.problems.get(0).contains("cpu controller is not mounted"), lookup.problems.toString());

        FakeCgroupTree noDir = FakeCgroupTree.v1(root.resolve("b"), CONTAINER);
        lookup = noDir.cgroupCpu().lookup();
        assertNull(lookup.limit);
        assertTrue(lookup.problems.get(0).contains("cgroup directory") && lookup.problems.get(0).contains("does not exist"),
                lookup.problems.toString());

        FakeCgroupTree elsewhere = FakeCgroupTree.v2(root.resolve("c"))
                .write("proc/self/cgroup", "0::/system.slice/other\n")
                .write("proc/self/mountinfo", mountinfoLine(25, "/kubepods/pod1", "/sys/fs/cgroup", "cgroup2", "cgroup2", "rw"));
        lookup = elsewhere.cgroupCpu().lookup();
        assertNull(lookup.limit);
        assertTrue(lookup.problems.get(0).contains("is not visible under /sys/fs/cgroup"), lookup.problems.toString());

        FakeCgroupTree noMountinfo = FakeCgroupTree.v2(root.resolve("d")).delete("proc/self/mountinfo");
        assertNull(noMountinfo.cgroupCpu().lookup().limit);
    }

    @Test
    void aMissingCpuStatIsAProblem() {
        FakeCgroupTree t = FakeCgroupTree.v2(root).v2Cgroup("sys/fs/cgroup", "15000 100000", "").delete("sys/fs/cgroup/cpu.stat");
        CgroupCpu.Throttling th = t.cgroupCpu().throttling(t.cgroupCpu().lookup().limit);
        assertFalse(th.periods.isPresent());
        assertTrue(th.problems.get(0).endsWith("cpu.stat does not exist"), th.problems.toString());
    }

    @Test
    void countsCpuLists() {
        assertEquals(1, CgroupCpu.countCpuList("0"));
        assertEquals(7, CgroupCpu.countCpuList("0-3,8,10-11"));
        assertEquals(-1, CgroupCpu.countCpuList(""));
        assertEquals(-1, CgroupCpu.countCpuList("3-1"));
        assertEquals(-1, CgroupCpu.countCpuList("a-b"));
        assertEquals(-1, CgroupCpu.countCpuList("1-2-3"));
    }
}
