package io.mqttxds.agent.hivemq;

import com.hivemq.extension.sdk.api.packets.disconnect.DisconnectReasonCode;
import com.hivemq.extension.sdk.api.services.Services;
import com.hivemq.extension.sdk.api.services.admin.LifecycleStage;
import io.mqttxds.agent.api.AgentApi;
import io.mqttxds.agent.clients.ClientList;
import io.mqttxds.agent.clients.ClientRegistry;
import io.mqttxds.agent.clients.Disconnector;
import io.mqttxds.agent.metrics.AgentSeries;
import io.mqttxds.agent.metrics.PrometheusText;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The agent API's view of the running HiveMQ: readiness, clients, disconnects and metrics. */
final class HiveMQBroker implements AgentApi.Broker {
    private static final Logger log = LoggerFactory.getLogger(HiveMQBroker.class);
    /** Registry entries younger than this are left to their own events by reconcile. */
    private static final long SETTLE_MS = 5_000;
    /** Below the control plane's default agent timeout (rebalance.agentTimeoutMs, 5000 ms). */
    private static final long LIST_TIMEOUT_SEC = 3;
    private static final io.mqttxds.agent.api.RateLimitedLog listFailures = new io.mqttxds.agent.api.RateLimitedLog(log, 60_000);
    private final ClientRegistry registry;
    private final Disconnector disconnector;
    /** CPU, the container's CPU limit and GC pauses, which HiveMQ CE does not export. */
    private final AgentSeries agentSeries = AgentSeries.forThisProcess(log);
    private volatile boolean stopping;

    HiveMQBroker(ClientRegistry registry, long disconnectTimeoutMs) {
        this.registry = registry;
        this.disconnector = new Disconnector(HiveMQBroker::disconnectWithoutWill, registry::isConnected, disconnectTimeoutMs);
    }

    /**
     * preventWillMessage: a moved client did not fail, so its subscribers must not hear its
     * last will. USE_ANOTHER_SERVER (0x9C) tells an MQTT 5 client to connect again (through
     * Envoy, to another broker); HiveMQ simply closes an MQTT 3 client's socket, as MQTT 3
     * has no server DISCONNECT.
     */
    private static java.util.concurrent.CompletableFuture<Boolean> disconnectWithoutWill(String clientId, String reason) {
        return Services.clientService().disconnectClient(clientId, true, DisconnectReasonCode.USE_ANOTHER_SERVER, reason);
    }

    void stopping() {
        stopping = true;
    }

    /** Checks the registry against HiveMQ's own list of connected clients; see ClientRegistry.reconcile. */
    void reconcile(long nowMs) {
        if (!ready()) return;
        Map<String, Long> connected = connectedClients();
        if (connected == null) return;
        int repaired = registry.reconcile(connected, nowMs, SETTLE_MS);
        if (repaired > 0) log.info("mqtt-xds agent: client list repaired from HiveMQ's own ({} entries)", repaired);
    }

    /** Client id → session expiry of every client HiveMQ reports connected, or null when it could not list them. */
    private static Map<String, Long> connectedClients() {
        Map<String, Long> connected = new ConcurrentHashMap<>();
        try {
            Services.clientService()
                    .iterateAllClients((context, session) -> {
                        if (session.isConnected()) connected.put(session.getClientIdentifier(), session.getSessionExpiryInterval());
                    })
                    .get(LIST_TIMEOUT_SEC, TimeUnit.SECONDS);
            return connected;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            listFailures.warn("mqtt-xds agent: could not list HiveMQ's clients to check the client list: " + e);
            return null;
        }
    }

    @Override
    public boolean ready() {
        return !stopping && Services.adminService().getCurrentStage() == LifecycleStage.STARTED_SUCCESSFULLY;
    }

    @Override
    public ClientList clients(int limit) {
        // Answered from HiveMQ's own list at request time: the event tracking can lag a
        // disconnect by seconds (a disconnected client stayed listed for over 10 s), and the
        // control plane acts on this answer. Only filtered, not repaired here: a client whose
        // CONNECT event is still on its way would be listed without its MQTT version (reconcile
        // repairs on its own schedule, after SETTLE_MS). Without HiveMQ's list, the registry's
        // is all there is.
        Map<String, Long> connected = connectedClients();
        if (connected == null) return registry.list(limit);
        return registry.list(limit).onlyConnected(connected.keySet());
    }

    @Override
    public Disconnector.Outcome disconnect(List<String> clientIds, String reason) throws InterruptedException {
        return disconnector.disconnect(clientIds, reason);
    }

    @Override
    public String metrics() {
        return PrometheusText.render(Services.metricRegistry(), agentSeries.collect());
    }
}
