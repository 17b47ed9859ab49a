package io.mqttxds.agent.api;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    @Test
    void parsesObjectsArraysAndScalars() throws Exception {
        Object v = Json.parse(" {\"a\": [1, -2.5e1, \"x\\u00e9\\n\", true, false, null], \"b\": {}} ");
        Map<?, ?> m = (Map<?, ?>) v;
        List<?> a = (List<?>) m.get("a");
        assertEquals(1L, a.get(0));
        assertEquals(-25.0, a.get(1));
        assertEquals("x\u00e9\n", a.get(2));
        assertEquals(Boolean.TRUE, a.get(3));
        assertEquals(Boolean.FALSE, a.get(4));
        assertSame(Json.NULL, a.get(5));
        assertTrue(((Map<?, ?>) m.get("b")).isEmpty());
    }

    @Test
    void refusesWhatRfc8259Refuses() {
        for (String bad : new String[] {
            "", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", ".5", "+1", "tru", "\"a\nb\"",
            "\"\\x\"", "\"\\u12\"", "{} {}", "[1] x", "NaN", "{\"a\" 1}",
        }) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void refusesDuplicateFieldsNamingThem() {
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse("{\"a\":1,\"a\":2}"));
        assertTrue(e.getMessage().contains("duplicate field \"a\""), e.getMessage());
    }

    @Test
    void boundsNesting() throws Exception {
        String deep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        Json.ParseException e = assertThrows(Json.ParseException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting"), e.getMessage());
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertTrue(Json.parse(ok) instanceof List);
    }

    @Test
    void writesEscapedStringsThatParseBack() throws Exception {
        String tricky = "q\"b\\s\n\t\u0001\u2028é";
        String written = Json.write(Json.object("k", tricky, "n", 5L, "l", List.of(true, "x"), "z", Json.NULL));
        assertEquals("{\"k\":\"q\\\"b\\\\s\\n\\t\\u0001\\u2028é\",\"n\":5,\"l\":[true,\"x\"],\"z\":null}", written);
        assertEquals(tricky, ((Map<?, ?>) Json.parse(written)).get("k"));
    }
}
