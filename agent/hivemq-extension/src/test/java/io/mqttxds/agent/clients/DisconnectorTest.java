package io.mqttxds.agent.clients;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DisconnectorTest {
    private final List<String> asked = new ArrayList<>();

    private Disconnector.Backend backend() {
        return (id, reason) -> {
            asked.add(id + "/" + reason);
            switch (id) {
                case "gone-meanwhile":
                    return CompletableFuture.completedFuture(false);
                case "fails":
                    return CompletableFuture.failedFuture(new IllegalStateException("rate limit"));
                case "throws":
                    throw new IllegalArgumentException("bad id");
                case "hangs":
                    return new CompletableFuture<>();
                default:
                    return CompletableFuture.completedFuture(true);
            }
        };
    }

    @Test
    void sortsIdsAndNeverAsksHiveMQAboutClientsNotConnectedHere() throws Exception {
        Set<String> here = Set.of("a", "gone-meanwhile", "fails", "throws");
        Disconnector d = new Disconnector(backend(), here::contains, 1000);
        Disconnector.Outcome out = d.disconnect(List.of("a", "elsewhere", "gone-meanwhile", "fails", "throws"), "drain");
        assertEquals(List.of("a"), out.disconnected);
        assertEquals(List.of("elsewhere", "gone-meanwhile"), out.notFound);
        assertEquals(List.of("fails", "throws"), new ArrayList<>(out.failed.keySet()));
        assertTrue(out.failed.get("fails").contains("rate limit"), out.failed.get("fails"));
        assertEquals(List.of("a/drain", "gone-meanwhile/drain", "fails/drain", "throws/drain"), asked);
    }

    @Test
    void aDisconnectWithoutAnswerFailsAfterTheTimeoutWithoutHoldingUpTheOthers() throws Exception {
        Disconnector d = new Disconnector(backend(), id -> true, 100);
        long t0 = System.nanoTime();
        Disconnector.Outcome out = d.disconnect(List.of("hangs", "b"), "rebalance");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 90 && ms < 2000, "took " + ms + " ms");
        assertEquals(List.of("b"), out.disconnected);
        assertTrue(out.failed.get("hangs").contains("within 100 ms"), out.failed.get("hangs"));
    }
}
