package io.mqttxds.agent.api;

import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validation of what a caller sends: the {@code limit} query of GET clients and the body of
 * POST disconnect. Every problem found is reported at once, each with its field, so a
 * caller fixes its request in one round. Unknown fields are errors: a typo ("clientId")
 * must not silently become "nothing to do".
 */
public final class Requests {
    public static final int DEFAULT_LIMIT = 10_000;
    public static final int MAX_LIMIT = 100_000;
    public static final int MAX_CLIENT_IDS = 1_000;
    public static final Set<String> REASONS = Set.of("rebalance", "drain");
    /** A body with thousands of bad ids would otherwise yield a response bigger than the request. */
    static final int MAX_PROBLEMS_LISTED = 20;
    /** User text quoted back in messages is cut to this many characters. */
    private static final int MAX_QUOTED = 60;

    private Requests() {}

    /** A validated disconnect request. */
    public static final class Disconnect {
        public final List<String> clientIds;
        public final String reason;

        Disconnect(List<String> clientIds, String reason) {
            this.clientIds = List.copyOf(clientIds);
            this.reason = reason;
        }
    }

    // ---- GET /agent/v1/clients?limit=N ----

    public static Validated<Integer> limit(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) return Validated.ok(DEFAULT_LIMIT);
        List<Problem> problems = new ArrayList<>();
        Integer limit = null;
        boolean seen = false;
        for (String part : rawQuery.split("&", -1)) {
            int eq = part.indexOf('=');
            String name = decode(eq < 0 ? part : part.substring(0, eq));
            String value = eq < 0 ? null : decode(part.substring(eq + 1));
            if (name == null) {
                problems.add(new Problem("query", "is not valid percent-encoding"));
            } else if (!name.equals("limit")) {
                problems.add(new Problem(name.isEmpty() ? "query" : name, "unknown query parameter; the only one is 'limit'"));
            } else if (seen) {
                problems.add(new Problem("limit", "is given more than once"));
            } else {
                seen = true;
                limit = parseLimitValue(value, problems);
            }
        }
        if (!problems.isEmpty()) return Validated.rejected(ApiResponse.problems(400, "invalid query: " + problems.get(0), problems));
        return Validated.ok(limit);
    }

    private static Integer parseLimitValue(String value, List<Problem> problems) {
        // 0 asks for the count alone: the control plane polls a draining broker's total that way.
        String rule = "must be a whole number from 0 to " + MAX_LIMIT;
        if (value == null || value.isEmpty() || value.length() > 7 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            problems.add(new Problem("limit", rule + ", found " + quote(value)));
            return null;
        }
        int n = Integer.parseInt(value);
        if (n > MAX_LIMIT) {
            problems.add(new Problem("limit", rule + ", found " + n));
            return null;
        }
        return n;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    // ---- POST /agent/v1/disconnect ----

    /** Parses and checks a disconnect body; the body is at most {@link AgentApi#MAX_BODY_BYTES}. */
    public static Validated<Disconnect> disconnect(byte[] body) {
        String text;
        try {
            text = utf8(body);
        } catch (CharacterCodingException e) {
            return Validated.rejected(ApiResponse.error(400, "body is not valid UTF-8"));
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (Json.ParseException e) {
            String what = text.trim().isEmpty() ? "body is empty; expected a JSON object with clientIds and reason"
                    : "body is not JSON: " + e.getMessage();
            return Validated.rejected(ApiResponse.error(400, what));
        }
        if (!(parsed instanceof Map)) {
            return Validated.rejected(ApiResponse.error(400,
                    "body must be a JSON object with clientIds and reason, found " + Json.typeName(parsed)));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) parsed;
        return disconnectFields(fields);
    }

    private static Validated<Disconnect> disconnectFields(Map<String, Object> fields) {
        List<Problem> problems = new ArrayList<>();
        for (String name : fields.keySet()) {
            if (!name.equals("clientIds") && !name.equals("reason")) {
                problems.add(new Problem(name, "unknown field; the fields are clientIds and reason"));
            }
        }
        Object ids = fields.get("clientIds");
        // Over the limit is "too large" (413), not "malformed": the caller must split it.
        if (ids instanceof List && ((List<?>) ids).size() > MAX_CLIENT_IDS) {
            return Validated.rejected(ApiResponse.error(413, "clientIds lists " + ((List<?>) ids).size()
                    + " client ids; at most " + MAX_CLIENT_IDS + " are allowed in one request, split it"));
        }
        List<String> clientIds = clientIds(ids, problems);
        String reason = reason(fields.get("reason"), problems);
        if (!problems.isEmpty()) {
            return Validated.rejected(ApiResponse.problems(400, "invalid disconnect request: " + problems.get(0), capped(problems)));
        }
        return Validated.ok(new Disconnect(clientIds, reason));
    }

    private static List<String> clientIds(Object value, List<Problem> problems) {
        if (value == null) {
            problems.add(new Problem("clientIds", "is missing; list 1 to " + MAX_CLIENT_IDS + " client ids"));
            return List.of();
        }
        if (!(value instanceof List)) {
            problems.add(new Problem("clientIds", "must be an array of strings, found " + Json.typeName(value)));
            return List.of();
        }
        List<?> items = (List<?>) value;
        if (items.isEmpty()) {
            problems.add(new Problem("clientIds", "is empty; list 1 to " + MAX_CLIENT_IDS + " client ids"));
            return List.of();
        }
        List<String> out = new ArrayList<>(items.size());
        Map<String, Integer> firstIndex = new HashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Object item = items.get(i);
            String field = "clientIds[" + i + "]";
            if (!(item instanceof String)) {
                problems.add(new Problem(field, "must be a string, found " + Json.typeName(item)));
            } else if (((String) item).isEmpty()) {
                problems.add(new Problem(field, "is empty; a client id has at least one character"));
            } else {
                Integer earlier = firstIndex.putIfAbsent((String) item, i);
                if (earlier != null) problems.add(new Problem(field, "repeats clientIds[" + earlier + "]; ids must be distinct"));
                else out.add((String) item);
            }
        }
        return out;
    }

    private static String reason(Object value, List<Problem> problems) {
        String rule = "must be \"rebalance\" or \"drain\"";
        if (value == null) {
            problems.add(new Problem("reason", "is missing; it " + rule));
            return null;
        }
        if (!(value instanceof String)) {
            problems.add(new Problem("reason", rule + ", found " + Json.typeName(value)));
            return null;
        }
        if (!REASONS.contains(value)) {
            problems.add(new Problem("reason", rule + ", found " + quote((String) value)));
            return null;
        }
        return (String) value;
    }

    private static List<Problem> capped(List<Problem> problems) {
        if (problems.size() <= MAX_PROBLEMS_LISTED) return problems;
        List<Problem> out = new ArrayList<>(problems.subList(0, MAX_PROBLEMS_LISTED));
        out.add(new Problem("body", (problems.size() - MAX_PROBLEMS_LISTED) + " more problems not listed"));
        return out;
    }

    private static String utf8(byte[] body) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(body))
                .toString();
    }

    static String quote(String s) {
        if (s == null) return "nothing";
        String cut = s.length() > MAX_QUOTED ? s.substring(0, MAX_QUOTED) + "..." : s;
        return Json.write(cut);
    }
}
