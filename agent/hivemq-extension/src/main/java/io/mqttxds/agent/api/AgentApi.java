package io.mqttxds.agent.api;

import io.mqttxds.agent.clients.ClientList;
import io.mqttxds.agent.clients.ClientView;
import io.mqttxds.agent.clients.Disconnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The agent API of docs/agent-api.md: routing, authentication, readiness, validation and
 * the JSON answers. It sees requests as plain values and the broker through {@link Broker},
 * so everything here is tested without HiveMQ or sockets.
 *
 * <p>Checks run in this order: unknown path (404), wrong method (405), token (401, except
 * health and metrics), broker not ready (503), body too large (413), invalid request (400).
 */
public final class AgentApi {
    public static final int MAX_BODY_BYTES = 1024 * 1024;
    public static final String HEALTH = "/agent/v1/health";
    public static final String CLIENTS = "/agent/v1/clients";
    public static final String DISCONNECT = "/agent/v1/disconnect";
    public static final String METRICS = "/metrics";

    private static final Logger log = LoggerFactory.getLogger(AgentApi.class);

    /** What the API needs from the broker. */
    public interface Broker {
        /** False while HiveMQ is starting or stopping. */
        boolean ready();

        ClientList clients(int limit);

        Disconnector.Outcome disconnect(List<String> clientIds, String reason) throws InterruptedException;

        /** The Prometheus text page. */
        String metrics();
    }

    private final BearerAuth auth;
    private final Broker broker;
    private final String brokerName;
    private final String agentId;
    private final RateLimitedLog refusals = new RateLimitedLog(log, 10_000);

    /** @param agentId "implementation/version", reported by health */
    public AgentApi(BearerAuth auth, Broker broker, String brokerName, String agentId) {
        this.auth = auth;
        this.broker = broker;
        this.brokerName = brokerName;
        this.agentId = agentId;
    }

    public ApiResponse handle(ApiRequest req) {
        switch (req.path) {
            case HEALTH:
                return only("GET", req, false, () -> health());
            case CLIENTS:
                return only("GET", req, true, () -> clients(req));
            case DISCONNECT:
                return only("POST", req, true, () -> disconnect(req));
            case METRICS:
                // No token and no readiness gate: Prometheus scrapes it as it scrapes the HiveMQ extension.
                if (!req.method.equals("GET")) return methodNotAllowed(req, "GET");
                return ApiResponse.text(200, ApiResponse.PROMETHEUS_TEXT, broker.metrics());
            default:
                return ApiResponse.error(404, "no such path: " + Requests.quote(req.path) + "; the agent serves "
                        + HEALTH + ", " + CLIENTS + ", " + DISCONNECT + " and " + METRICS);
        }
    }

    private interface Handler {
        ApiResponse run() throws InterruptedException;
    }

    private ApiResponse only(String method, ApiRequest req, boolean needsToken, Handler handler) {
        if (!req.method.equals(method)) return methodNotAllowed(req, method);
        if (needsToken) {
            BearerAuth.Outcome outcome = auth.check(req.authorization);
            if (outcome != BearerAuth.Outcome.OK) {
                refusals.warn("refused " + req.method + " " + Requests.quote(req.path) + " from " + req.remote + ": " + outcome.reason);
                return ApiResponse.error(401, "unauthorized: " + outcome.reason + "; send Authorization: Bearer <agent token>")
                        .withWwwAuthenticate("Bearer realm=\"mqtt-xds-agent\"");
            }
        }
        if (!broker.ready()) {
            return ApiResponse.error(503, "the broker is not ready (starting or stopping); try again shortly");
        }
        try {
            return handler.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ApiResponse.error(503, "the agent is stopping; try again on another broker or later");
        }
    }

    private static ApiResponse methodNotAllowed(ApiRequest req, String allowed) {
        return ApiResponse.error(405, req.method + " is not allowed on " + req.path + "; use " + allowed).withAllow(allowed);
    }

    private ApiResponse health() {
        return ApiResponse.json(200, Json.object("status", "ok", "broker", brokerName, "agent", agentId));
    }

    private ApiResponse clients(ApiRequest req) {
        Validated<Integer> limit = Requests.limit(req.rawQuery);
        if (!limit.isOk()) return limit.rejection();
        ClientList list = broker.clients(limit.value());
        List<Object> clients = new ArrayList<>(list.clients.size());
        for (ClientView c : list.clients) clients.add(clientJson(c));
        return ApiResponse.json(200, Json.object("total", list.total, "clients", clients));
    }

    private static Map<String, Object> clientJson(ClientView c) {
        return Json.object(
                "clientId", c.clientId,
                "mqttVersion", c.mqttVersion,
                "cleanStart", c.cleanStart,
                "sessionExpirySec", c.sessionExpirySec,
                "sharedSubscriber", c.sharedSubscriber,
                "connectedSinceMs", c.connectedSinceMs);
    }

    private ApiResponse disconnect(ApiRequest req) throws InterruptedException {
        byte[] body;
        try {
            body = req.body();
        } catch (java.io.UncheckedIOException e) {
            return ApiResponse.error(400, "could not read the request body: " + e.getCause().getClass().getSimpleName()
                    + "; send the whole body within the agent's request timeout");
        }
        if (body.length > MAX_BODY_BYTES) {
            return ApiResponse.error(413, "body is over " + MAX_BODY_BYTES + " bytes (1 MiB); send fewer client ids per request");
        }
        Validated<Requests.Disconnect> parsed = Requests.disconnect(body);
        if (!parsed.isOk()) return parsed.rejection();
        Requests.Disconnect d = parsed.value();
        Disconnector.Outcome out = broker.disconnect(d.clientIds, d.reason);
        log.info("disconnect (reason {}) from {}: {} requested, {} disconnected, {} not found, {} failed",
                d.reason, req.remote, d.clientIds.size(), out.disconnected.size(), out.notFound.size(), out.failed.size());
        if (log.isDebugEnabled()) log.debug("disconnected {}; not found {}", out.disconnected, out.notFound);
        if (out.failed.isEmpty()) {
            return ApiResponse.json(200, Json.object("disconnected", out.disconnected, "notFound", out.notFound));
        }
        return failedDisconnects(d, out);
    }

    /** Some disconnects failed inside HiveMQ: 500, still telling which clients did move. */
    private static ApiResponse failedDisconnects(Requests.Disconnect d, Disconnector.Outcome out) {
        List<Object> failed = new ArrayList<>();
        for (Map.Entry<String, String> f : out.failed.entrySet()) failed.add(Json.object("clientId", f.getKey(), "error", f.getValue()));
        Map.Entry<String, String> first = out.failed.entrySet().iterator().next();
        log.warn("disconnect (reason {}): HiveMQ failed to disconnect {} of {} clients, first {}: {}",
                d.reason, out.failed.size(), d.clientIds.size(), first.getKey(), first.getValue());
        String error = "HiveMQ failed to disconnect " + out.failed.size() + " of " + d.clientIds.size()
                + " clients (first: " + first.getValue() + "); " + out.disconnected.size() + " were disconnected";
        return ApiResponse.json(500, Json.object(
                "error", error, "disconnected", out.disconnected, "notFound", out.notFound, "failed", failed));
    }
}
