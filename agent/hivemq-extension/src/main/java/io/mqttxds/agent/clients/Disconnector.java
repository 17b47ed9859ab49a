package io.mqttxds.agent.clients;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * Disconnects a batch of clients and sorts the ids into disconnected, not found and
 * failed. All disconnects are started at once and awaited together under one deadline,
 * so a batch of 1,000 takes about as long as its slowest client, and the HTTP answer
 * comes before the control plane's request timeout.
 */
public final class Disconnector {
    /** Asks the broker to disconnect one client; completes with false when it was not connected. */
    public interface Backend {
        CompletableFuture<Boolean> disconnect(String clientId, String reason);
    }

    public static final class Outcome {
        public final List<String> disconnected;
        public final List<String> notFound;
        /** Client id → why HiveMQ did not confirm the disconnect; empty when all went well. */
        public final Map<String, String> failed;

        public Outcome(List<String> disconnected, List<String> notFound, Map<String, String> failed) {
            this.disconnected = Collections.unmodifiableList(disconnected);
            this.notFound = Collections.unmodifiableList(notFound);
            this.failed = Collections.unmodifiableMap(failed);
        }
    }

    private final Backend backend;
    private final Predicate<String> connectedHere;
    private final long timeoutMs;

    /**
     * @param connectedHere whether a client id is connected to this broker; others are
     *     reported as not found without asking HiveMQ, so an agent never disconnects a client
     *     of another cluster node (HiveMQ's ClientService acts cluster-wide).
     */
    public Disconnector(Backend backend, Predicate<String> connectedHere, long timeoutMs) {
        this.backend = backend;
        this.connectedHere = connectedHere;
        this.timeoutMs = timeoutMs;
    }

    public Outcome disconnect(List<String> clientIds, String reason) throws InterruptedException {
        Map<String, CompletableFuture<Boolean>> started = new LinkedHashMap<>();
        for (String id : clientIds) {
            if (!connectedHere.test(id)) {
                started.put(id, CompletableFuture.completedFuture(false));
                continue;
            }
            try {
                started.put(id, backend.disconnect(id, reason));
            } catch (RuntimeException e) {
                started.put(id, CompletableFuture.failedFuture(e));
            }
        }
        awaitAll(started.values());
        return sort(started);
    }

    private void awaitAll(Iterable<CompletableFuture<Boolean>> futures) throws InterruptedException {
        List<CompletableFuture<Boolean>> list = new ArrayList<>();
        futures.forEach(list::add);
        try {
            CompletableFuture.allOf(list.toArray(new CompletableFuture<?>[0])).get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // Sorted one by one below: a failure or timeout of one client says nothing about the rest.
        }
    }

    private Outcome sort(Map<String, CompletableFuture<Boolean>> started) {
        List<String> disconnected = new ArrayList<>();
        List<String> notFound = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        for (Map.Entry<String, CompletableFuture<Boolean>> e : started.entrySet()) {
            CompletableFuture<Boolean> f = e.getValue();
            if (!f.isDone()) {
                failed.put(e.getKey(), "HiveMQ did not confirm the disconnect within " + timeoutMs + " ms");
            } else if (f.isCompletedExceptionally()) {
                failed.put(e.getKey(), describe(f));
            } else if (Boolean.TRUE.equals(f.join())) {
                disconnected.add(e.getKey());
            } else {
                notFound.add(e.getKey());
            }
        }
        return new Outcome(disconnected, notFound, failed);
    }

    private static String describe(CompletableFuture<Boolean> failedFuture) {
        try {
            failedFuture.join();
            return "unknown failure";
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String message = cause.getMessage();
            return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        }
    }
}
