package io.mqttxds.agent.api;

import io.mqttxds.agent.clients.ClientList;
import io.mqttxds.agent.clients.ClientView;
import io.mqttxds.agent.clients.Disconnector;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentApiTest {
    private static final String TOKEN = "test-token-0123456789";

    /** A broker double that records what the API asked of it. */
    private static final class FakeBroker implements AgentApi.Broker {
        boolean ready = true;
        int lastLimit = -1;
        List<String> lastDisconnect;
        String lastReason;
        Disconnector.Outcome outcome;

        @Override
        public boolean ready() {
            return ready;
        }

        @Override
        public ClientList clients(int limit) {
            lastLimit = limit;
            return new ClientList(2, List.of(new ClientView("c\"1", 5, true, 0, true, 1_795_000_000_000L)));
        }

        @Override
        public Disconnector.Outcome disconnect(List<String> clientIds, String reason) {
            lastDisconnect = clientIds;
            lastReason = reason;
            return outcome;
        }

        @Override
        public String metrics() {
            return "m 1.0\n";
        }
    }

    private final FakeBroker broker = new FakeBroker();
    private final AgentApi api = new AgentApi(new BearerAuth(TOKEN), broker, "hivemq-0", "mqtt-xds-hivemq-agent/0.1.0");

    @Test
    void healthNeedsNoToken() {
        ApiResponse r = api.handle(ApiRequest.of("GET", "/agent/v1/health"));
        assertEquals(200, r.status);
        assertEquals("{\"status\":\"ok\",\"broker\":\"hivemq-0\",\"agent\":\"mqtt-xds-hivemq-agent/0.1.0\"}\n", r.bodyText());
        assertEquals(ApiResponse.JSON, r.contentType);
    }

    @Test
    void metricsNeedNoTokenAndAreServedWhileNotReady() {
        broker.ready = false;
        ApiResponse r = api.handle(ApiRequest.of("GET", "/metrics"));
        assertEquals(200, r.status);
        assertEquals(ApiResponse.PROMETHEUS_TEXT, r.contentType);
        assertEquals("m 1.0\n", r.bodyText());
    }

    @Test
    void unknownPathsAre404AndWrongMethods405WithAllow() {
        assertEquals(404, api.handle(ApiRequest.of("GET", "/agent/v1/client")).status);
        assertEquals(404, api.handle(ApiRequest.of("GET", "/agent/v1/clients/")).status);
        ApiResponse r = api.handle(ApiRequest.of("GET", "/agent/v1/disconnect").withToken(TOKEN));
        assertEquals(405, r.status);
        assertEquals("POST", r.allow);
        assertEquals("GET", api.handle(ApiRequest.of("DELETE", "/agent/v1/clients")).allow);
        assertEquals(405, api.handle(ApiRequest.of("POST", "/metrics")).status);
    }

    @Test
    void clientsAndDisconnectNeedTheToken() {
        for (ApiRequest req : List.of(ApiRequest.of("GET", "/agent/v1/clients"),
                ApiRequest.of("GET", "/agent/v1/clients").withToken("wrong-token-0123456789"),
                ApiRequest.of("POST", "/agent/v1/disconnect").withBody("{}"))) {
            ApiResponse r = api.handle(req);
            assertEquals(401, r.status);
            assertTrue(r.bodyText().startsWith("{\"error\":\"unauthorized: "), r.bodyText());
            assertEquals("Bearer realm=\"mqtt-xds-agent\"", r.wwwAuthenticate);
            assertFalse(r.bodyText().contains(TOKEN));
        }
        assertEquals(null, broker.lastDisconnect);
    }

    @Test
    void notReadyIs503ForTheTokenedCalls() {
        broker.ready = false;
        assertEquals(503, api.handle(ApiRequest.of("GET", "/agent/v1/clients").withToken(TOKEN)).status);
        assertEquals(503, api.handle(ApiRequest.of("GET", "/agent/v1/health")).status);
        // The token is still checked first: an unauthenticated caller learns nothing about readiness.
        assertEquals(401, api.handle(ApiRequest.of("GET", "/agent/v1/clients")).status);
    }

    @Test
    void listsClientsAsTheDocShowsThem() {
        ApiResponse r = api.handle(ApiRequest.of("GET", "/agent/v1/clients?limit=7").withToken(TOKEN));
        assertEquals(200, r.status);
        assertEquals(7, broker.lastLimit);
        assertEquals("{\"total\":2,\"clients\":[{\"clientId\":\"c\\\"1\",\"mqttVersion\":5,\"cleanStart\":true,"
                + "\"sessionExpirySec\":0,\"sharedSubscriber\":true,\"connectedSinceMs\":1795000000000}]}\n", r.bodyText());
        assertEquals(400, api.handle(ApiRequest.of("GET", "/agent/v1/clients?limit=100001").withToken(TOKEN)).status);
    }

    @Test
    void disconnectAnswersDisconnectedAndNotFound() {
        broker.outcome = outcome(List.of("a"), List.of("b"), Map.of());
        ApiResponse r = api.handle(ApiRequest.of("POST", "/agent/v1/disconnect").withToken(TOKEN)
                .withBody("{\"clientIds\":[\"a\",\"b\"],\"reason\":\"rebalance\"}"));
        assertEquals(200, r.status);
        assertEquals("{\"disconnected\":[\"a\"],\"notFound\":[\"b\"]}\n", r.bodyText());
        assertEquals(List.of("a", "b"), broker.lastDisconnect);
        assertEquals("rebalance", broker.lastReason);
    }

    @Test
    void disconnectFailuresInsideHiveMQAre500AndStillSayWhoMoved() {
        broker.outcome = outcome(List.of("a"), List.of(), Map.of("b", "RateLimitExceededException"));
        ApiResponse r = api.handle(ApiRequest.of("POST", "/agent/v1/disconnect").withToken(TOKEN)
                .withBody("{\"clientIds\":[\"a\",\"b\"],\"reason\":\"drain\"}"));
        assertEquals(500, r.status);
        assertTrue(r.bodyText().contains("\"disconnected\":[\"a\"]"), r.bodyText());
        assertTrue(r.bodyText().contains("\"failed\":[{\"clientId\":\"b\",\"error\":\"RateLimitExceededException\"}]"), r.bodyText());
    }

    @Test
    void bodiesOverOneMebibyteAre413() {
        byte[] big = new byte[AgentApi.MAX_BODY_BYTES + 1];
        java.util.Arrays.fill(big, (byte) ' ');
        ApiResponse r = api.handle(ApiRequest.of("POST", "/agent/v1/disconnect").withToken(TOKEN).withBody(big));
        assertEquals(413, r.status);
        assertEquals(null, broker.lastDisconnect);
    }

    @Test
    void badBodiesAre400WithProblems() {
        ApiResponse r = api.handle(ApiRequest.of("POST", "/agent/v1/disconnect").withToken(TOKEN).withBody("{\"clientIds\":[1]}"));
        assertEquals(400, r.status);
        assertTrue(r.bodyText().contains("\"problems\":[{\"field\":\"clientIds[0]\""), r.bodyText());
    }

    private static Disconnector.Outcome outcome(List<String> done, List<String> notFound, Map<String, String> failed) {
        return new Disconnector.Outcome(done, notFound, failed);
    }
}
