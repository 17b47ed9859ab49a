package io.mqttxds.agent.api;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestsTest {
    @Test
    void limitDefaultsAndBounds() {
        assertEquals(Requests.DEFAULT_LIMIT, Requests.limit(null).value());
        assertEquals(Requests.DEFAULT_LIMIT, Requests.limit("").value());
        assertEquals(0, Requests.limit("limit=0").value());
        assertEquals(1, Requests.limit("limit=1").value());
        assertEquals(100_000, Requests.limit("limit=100000").value());
        for (String bad : new String[] {"limit=100001", "limit=-1", "limit=abc", "limit=", "limit", "limit=1.5",
            "limit=99999999999", "limit=1&limit=2", "limt=5", "limit=5&x=1", "limit=%zz"}) {
            Validated<Integer> v = Requests.limit(bad);
            assertFalse(v.isOk(), bad);
            assertEquals(400, v.rejection().status, bad);
            assertTrue(v.rejection().bodyText().contains("\"problems\""), bad);
        }
    }

    @Test
    void acceptsAValidDisconnect() {
        Validated<Requests.Disconnect> v = disconnect("{\"clientIds\":[\"a\",\"b\"],\"reason\":\"drain\"}");
        assertTrue(v.isOk());
        assertEquals(List.of("a", "b"), v.value().clientIds);
        assertEquals("drain", v.value().reason);
    }

    @Test
    void listsEveryFieldProblemAtOnce() {
        Validated<Requests.Disconnect> v = disconnect("{\"clientIds\":[\"a\",\"\",7,\"a\"],\"reason\":\"move\",\"extra\":true}");
        assertEquals(400, v.rejection().status);
        String body = v.rejection().bodyText();
        for (String field : new String[] {"extra", "clientIds[1]", "clientIds[2]", "clientIds[3]", "reason"}) {
            assertTrue(body.contains("\"field\":\"" + field + "\""), field + " in " + body);
        }
        assertTrue(body.contains("repeats clientIds[0]"), body);
    }

    @Test
    void rejectsMissingAndMistypedFields() {
        assertProblem("{}", "clientIds", "is missing");
        assertProblem("{}", "reason", "is missing");
        assertProblem("{\"clientIds\":\"a\",\"reason\":\"drain\"}", "clientIds", "must be an array of strings, found a string");
        assertProblem("{\"clientIds\":[],\"reason\":\"drain\"}", "clientIds", "is empty");
        assertProblem("{\"clientIds\":[\"a\"],\"reason\":5}", "reason", "found a number");
        assertProblem("{\"clientIds\":[\"a\"],\"reason\":null}", "reason", "found null");
    }

    @Test
    void rejectsBodiesThatAreNotAJsonObject() {
        assertError(disconnect(""), 400, "body is empty");
        assertError(disconnect("{\"clientIds\":"), 400, "body is not JSON");
        assertError(disconnect("[\"a\"]"), 400, "must be a JSON object");
        assertError(Requests.disconnect(new byte[] {'{', (byte) 0xC3, '}'}), 400, "not valid UTF-8");
    }

    @Test
    void moreThanAThousandIdsIsTooLarge() {
        String ids = IntStream.range(0, Requests.MAX_CLIENT_IDS + 1).mapToObj(i -> "\"c" + i + "\"").collect(Collectors.joining(","));
        assertError(disconnect("{\"clientIds\":[" + ids + "],\"reason\":\"rebalance\"}"), 413, "at most 1000");
        String thousand = IntStream.range(0, Requests.MAX_CLIENT_IDS).mapToObj(i -> "\"c" + i + "\"").collect(Collectors.joining(","));
        assertTrue(disconnect("{\"clientIds\":[" + thousand + "],\"reason\":\"rebalance\"}").isOk());
    }

    @Test
    void capsTheProblemList() {
        String ids = IntStream.range(0, 100).mapToObj(i -> "\"\"").collect(Collectors.joining(","));
        String body = disconnect("{\"clientIds\":[" + ids + "],\"reason\":\"rebalance\"}").rejection().bodyText();
        assertEquals(Requests.MAX_PROBLEMS_LISTED + 1, body.split("\"field\"").length - 1);
        assertTrue(body.contains("80 more problems not listed"), body);
    }

    private static Validated<Requests.Disconnect> disconnect(String body) {
        return Requests.disconnect(body.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertProblem(String body, String field, String messagePart) {
        Validated<Requests.Disconnect> v = disconnect(body);
        assertFalse(v.isOk(), body);
        String text = v.rejection().bodyText();
        assertTrue(text.contains("{\"field\":\"" + field + "\",\"message\":\"") && text.contains(messagePart), body + " → " + text);
    }

    private static void assertError(Validated<?> v, int status, String part) {
        assertFalse(v.isOk());
        assertEquals(status, v.rejection().status);
        assertTrue(v.rejection().bodyText().contains(part), v.rejection().bodyText());
    }
}
