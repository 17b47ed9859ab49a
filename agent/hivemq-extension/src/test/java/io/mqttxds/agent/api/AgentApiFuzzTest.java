package io.mqttxds.agent.api;

import io.mqttxds.agent.clients.ClientList;
import io.mqttxds.agent.clients.ClientView;
import io.mqttxds.agent.clients.Disconnector;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property-based fuzzing of the agent API, as a hostile caller would send it: random
 * methods, paths, queries, Authorization headers and bodies mutated from valid ones
 * (byte flips, cuts, deep nesting, huge numbers, odd Unicode). The properties: nothing
 * throws; every answer is a status the API documents, with a JSON error body (the
 * Prometheus page for /metrics); the broker is asked to disconnect only by an
 * authenticated POST with a body the API accepts, and only for the ids that body names. Seeded and
 * bounded: {@code -Dfuzz.runs=N} (default 10,000) and {@code -Dfuzz.seed=S} rerun a case.
 */
class AgentApiFuzzTest {
    private static final String TOKEN = "fuzz-token-0123456789abcdef";
    private static final Set<Integer> DOCUMENTED = Set.of(200, 400, 401, 404, 405, 413, 500, 503);
    private static final String[] PATHS = {AgentApi.HEALTH, AgentApi.CLIENTS, AgentApi.DISCONNECT, AgentApi.METRICS,
        "/", "/agent/v1", "/agent/v1/clients/", "/agent/v2/clients", "/AGENT/v1/health", "/metrics/x", "/agent/v1/disconnect%00"};
    private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "get", "", "POST "};
    private static final String[] VALID_BODIES = {
        "{\"clientIds\":[\"a\",\"b\"],\"reason\":\"rebalance\"}",
        "{\"clientIds\":[\"c-1\"],\"reason\":\"drain\"}",
        "{\"reason\":\"drain\",\"clientIds\":[]}",
    };

    /** Records every disconnect the API asks for. */
    private static final class RecordingBroker implements AgentApi.Broker {
        final List<List<String>> asked = new ArrayList<>();
        boolean ready = true;

        @Override
        public boolean ready() {
            return ready;
        }

        @Override
        public ClientList clients(int limit) {
            return new ClientList(1, List.of(new ClientView("c-1", 5, true, 0, false, 1L)));
        }

        @Override
        public Disconnector.Outcome disconnect(List<String> clientIds, String reason) {
            asked.add(List.copyOf(clientIds));
            return new Disconnector.Outcome(List.of(), clientIds, Map.of());
        }

        @Override
        public String metrics() {
            return "com_hivemq_networking_connections_current 1.0\n";
        }
    }

    @Test
    void noRequestCrashesMisleadsOrDisconnectsWithoutTheToken() {
        int runs = Integer.getInteger("fuzz.runs", 10_000);
        long seed = Long.getLong("fuzz.seed", 20261206L);
        Random random = new Random(seed);
        for (int i = 0; i < runs; i++) {
            long caseSeed = random.nextLong();
            check(caseSeed);
        }
    }

    private void check(long caseSeed) {
        Random r = new Random(caseSeed);
        RecordingBroker broker = new RecordingBroker();
        broker.ready = r.nextInt(10) != 0;
        AgentApi api = new AgentApi(new BearerAuth(TOKEN), broker, "hivemq-0", "fuzz");
        String method = r.nextInt(3) == 0 ? pick(r, METHODS) : (r.nextBoolean() ? "POST" : "GET");
        String path = r.nextInt(4) == 0 ? mutate(r, pick(r, PATHS)) : pick(r, PATHS);
        String query = r.nextInt(3) == 0 ? null : "limit=" + pick(r, new String[] {"0", "1", "100000", "100001", "-1", "1e3", "", "9999999999999", "10&limit=2", "%zz"});
        List<String> auth = authorization(r);
        boolean authenticated = holdsTheToken(auth);
        String validBody = pick(r, VALID_BODIES);
        byte[] body = r.nextInt(4) == 0 ? validBody.getBytes(StandardCharsets.UTF_8) : mutatedBody(r, validBody);
        ApiRequest req = new ApiRequest(method, path, query, auth, body, "fuzz");

        ApiResponse res;
        try {
            res = api.handle(req);
        } catch (RuntimeException e) {
            fail("case " + caseSeed + ": " + method + " " + path + " threw " + e, e);
            return;
        }
        String where = "case " + caseSeed + " (" + method + " " + path + "): ";
        assertTrue(DOCUMENTED.contains(res.status), where + "undocumented status " + res.status);
        String text = new String(res.body, StandardCharsets.UTF_8);
        if (res.contentType.equals(ApiResponse.PROMETHEUS_TEXT)) {
            assertEquals(AgentApi.METRICS, path, where + "a metrics page on another path");
        } else {
            Object parsed;
            try {
                parsed = Json.parse(text);
            } catch (Json.ParseException e) {
                fail(where + "answer is not JSON: " + text);
                return;
            }
            if (res.status >= 400) {
                assertTrue(parsed instanceof Map && ((Map<?, ?>) parsed).get("error") instanceof String, where + "error without a sentence: " + text);
                assertTrue(!text.contains(TOKEN), where + "the token echoed");
            }
        }
        if (!broker.asked.isEmpty()) {
            assertTrue(authenticated, where + "disconnected without the token");
            assertEquals("POST", method, where + "disconnected on " + method);
            assertEquals(AgentApi.DISCONNECT, path, where + "disconnected on " + path);
            assertEquals(1, broker.asked.size(), where + "more than one disconnect call");
            Validated<Requests.Disconnect> parsed = Requests.disconnect(body);
            assertTrue(parsed.isOk(), where + "disconnected on a body the API refuses");
            assertEquals(parsed.value().clientIds, broker.asked.get(0), where + "disconnected ids the body does not name");
        }
        if (res.status == 401) assertTrue(broker.asked.isEmpty(), where + "401 after a disconnect");
    }

    /** The documented rule (docs/agent-api.md): one header, scheme "Bearer" in any case, surrounding spaces ignored. */
    private static boolean holdsTheToken(List<String> auth) {
        if (auth.size() != 1) return false;
        String h = auth.get(0).trim();
        return h.length() > 7 && h.substring(0, 7).equalsIgnoreCase("bearer ") && h.substring(7).trim().equals(TOKEN);
    }

    private static List<String> authorization(Random r) {
        switch (r.nextInt(8)) {
            case 0:
                return List.of();
            case 1:
                return List.of("Bearer " + TOKEN, "Bearer " + TOKEN);
            case 2:
                return List.of("Bearer " + TOKEN.substring(0, TOKEN.length() - 1));
            case 3:
                return List.of("bearer " + TOKEN);
            case 4:
                return List.of("Bearer " + TOKEN + " ");
            case 5:
                return List.of("Basic " + TOKEN);
            case 6:
                return List.of(mutate(r, "Bearer " + TOKEN));
            default:
                return List.of("Bearer " + TOKEN);
        }
    }

    private static byte[] mutatedBody(Random r, String valid) {
        switch (r.nextInt(9)) {
            case 0: {
                int depth = 1 + r.nextInt(200);
                return ("{\"clientIds\":" + "[".repeat(depth) + "\"a\"" + "]".repeat(depth) + ",\"reason\":\"drain\"}").getBytes(StandardCharsets.UTF_8);
            }
            case 1:
                return ("{\"clientIds\":[" + "1e999999,".repeat(1 + r.nextInt(5)) + "\"a\"],\"reason\":\"drain\"}").getBytes(StandardCharsets.UTF_8);
            case 2:
                return valid.substring(0, r.nextInt(valid.length())).getBytes(StandardCharsets.UTF_8);
            case 3: {
                byte[] b = new byte[r.nextInt(64)];
                r.nextBytes(b);
                return b;
            }
            case 4:
                return ("{\"clientIds\":[\"" + "\uD800\u0000\u202E\\u0000\\ud800".repeat(1 + r.nextInt(3)) + "\"],\"reason\":\"rebalance\"}").getBytes(StandardCharsets.UTF_8);
            case 5:
                return new byte[AgentApi.MAX_BODY_BYTES + 1 + r.nextInt(10)];
            case 6:
                return ("{\"clientIds\":[\"a\"],\"reason\":\"drain\",\"reason\":\"rebalance\",\"extra\":" + r.nextInt() + "}").getBytes(StandardCharsets.UTF_8);
            default:
                return mutate(r, valid).getBytes(StandardCharsets.UTF_8);
        }
    }

    private static final String INSERTS = "{}[]\",:\\0\u00ff";

    /** A few random character flips, inserts and deletions. */
    private static String mutate(Random r, String s) {
        StringBuilder b = new StringBuilder(s);
        int edits = 1 + r.nextInt(4);
        for (int i = 0; i < edits; i++) {
            int at = b.length() == 0 ? 0 : r.nextInt(b.length());
            switch (r.nextInt(3)) {
                case 0:
                    if (b.length() > 0) b.setCharAt(at, (char) (r.nextInt(3) == 0 ? r.nextInt(0x10000) : 32 + r.nextInt(95)));
                    break;
                case 1:
                    b.insert(at, INSERTS.charAt(r.nextInt(INSERTS.length())));
                    break;
                default:
                    if (b.length() > 0) b.deleteCharAt(at);
            }
        }
        return b.toString();
    }

    private static <T> T pick(Random r, T[] values) {
        return values[r.nextInt(values.length)];
    }
}
