package io.mqttxds.agent.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON (RFC 8259) reader and a writer for the few shapes the agent API uses.
 * Written here because an extension's class loader sees only the HiveMQ SDK, and one
 * small body format does not justify shipping a JSON library inside the extension.
 *
 * <p>Values map to Java as: object → {@code Map<String,Object>} (insertion order),
 * array → {@code List<Object>}, string → String, number → Double (or Long when it is an
 * integer that fits), true/false → Boolean, null → {@link #NULL}.
 */
public final class Json {
    /** JSON null; a real object so that "field present but null" differs from "absent". */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** Nesting deeper than this is refused: no request needs it, and recursion must stay bounded. */
    static final int MAX_DEPTH = 32;

    private Json() {}

    /** Thrown for text that is not JSON; the message names the position and what was expected. */
    public static final class ParseException extends Exception {
        private static final long serialVersionUID = 1L;

        ParseException(String message) {
            super(message);
        }
    }

    public static Object parse(String text) throws ParseException {
        Reader reader = new Reader(text);
        reader.skipBlanks();
        Object value = reader.value(0);
        reader.skipBlanks();
        if (!reader.atEnd()) throw reader.error("unexpected text after the JSON value");
        return value;
    }

    /** Describes a parsed value's JSON type for error messages ("a string", "an array"...). */
    public static String typeName(Object value) {
        if (value == NULL) return "null";
        if (value instanceof String) return "a string";
        if (value instanceof Boolean) return "a boolean";
        if (value instanceof Number) return "a number";
        if (value instanceof List) return "an array";
        if (value instanceof Map) return "an object";
        return value.getClass().getSimpleName();
    }

    private static final class Reader {
        private final String s;
        private int pos;

        Reader(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return pos >= s.length();
        }

        ParseException error(String what) {
            return new ParseException(what + " at character " + (pos + 1));
        }

        void skipBlanks() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                pos++;
            }
        }

        Object value(int depth) throws ParseException {
            if (atEnd()) throw error("unexpected end of the body, expected a value");
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return object(depth + 1);
                case '[':
                    return array(depth + 1);
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", NULL);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return number();
                    throw error("unexpected character '" + c + "', expected a value");
            }
        }

        private Object literal(String word, Object value) throws ParseException {
            if (!s.startsWith(word, pos)) throw error("invalid literal, expected '" + word + "'");
            pos += word.length();
            return value;
        }

        private void checkDepth(int depth) throws ParseException {
            if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }

        private Map<String, Object> object(int depth) throws ParseException {
            checkDepth(depth);
            pos++; // '{'
            Map<String, Object> fields = new LinkedHashMap<>();
            skipBlanks();
            if (!atEnd() && s.charAt(pos) == '}') {
                pos++;
                return fields;
            }
            for (;;) {
                skipBlanks();
                if (atEnd() || s.charAt(pos) != '"') throw error("expected a field name in double quotes");
                int keyAt = pos;
                String key = string();
                // Two values for one name would make "which one counts" an accident of the parser.
                if (fields.containsKey(key)) {
                    pos = keyAt;
                    throw error("duplicate field \"" + key + "\"");
                }
                skipBlanks();
                expect(':');
                skipBlanks();
                fields.put(key, value(depth));
                skipBlanks();
                if (atEnd()) throw error("unexpected end of the body inside an object");
                char c = s.charAt(pos++);
                if (c == '}') return fields;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}' in an object");
                }
            }
        }

        private List<Object> array(int depth) throws ParseException {
            checkDepth(depth);
            pos++; // '['
            List<Object> items = new ArrayList<>();
            skipBlanks();
            if (!atEnd() && s.charAt(pos) == ']') {
                pos++;
                return items;
            }
            for (;;) {
                skipBlanks();
                items.add(value(depth));
                skipBlanks();
                if (atEnd()) throw error("unexpected end of the body inside an array");
                char c = s.charAt(pos++);
                if (c == ']') return items;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']' in an array");
                }
            }
        }

        private void expect(char c) throws ParseException {
            if (atEnd() || s.charAt(pos) != c) throw error("expected '" + c + "'");
            pos++;
        }

        private String string() throws ParseException {
            pos++; // opening quote
            StringBuilder out = new StringBuilder();
            for (;;) {
                if (atEnd()) throw error("string is not closed");
                char c = s.charAt(pos++);
                if (c == '"') return out.toString();
                if (c < 0x20) {
                    pos--;
                    throw error("control character in a string (must be escaped)");
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (atEnd()) throw error("string is not closed");
                char e = s.charAt(pos++);
                switch (e) {
                    case '"': out.append('"'); break;
                    case '\\': out.append('\\'); break;
                    case '/': out.append('/'); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'n': out.append('\n'); break;
                    case 'r': out.append('\r'); break;
                    case 't': out.append('\t'); break;
                    case 'u': out.append(hex4()); break;
                    default:
                        pos--;
                        throw error("invalid escape '\\" + e + "' in a string");
                }
            }
        }

        private char hex4() throws ParseException {
            if (pos + 4 > s.length()) throw error("incomplete \\u escape");
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(s.charAt(pos + i), 16);
                if (d < 0) throw error("invalid \\u escape");
                v = v * 16 + d;
            }
            pos += 4;
            return (char) v;
        }

        private Object number() throws ParseException {
            int start = pos;
            if (s.charAt(pos) == '-') pos++;
            if (atEnd()) throw error("incomplete number");
            if (s.charAt(pos) == '0') {
                pos++;
            } else if (isDigit()) {
                while (isDigit()) pos++;
            } else {
                throw error("invalid number");
            }
            boolean integral = true;
            if (!atEnd() && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                if (!isDigit()) throw error("invalid number: digits must follow '.'");
                while (isDigit()) pos++;
            }
            if (!atEnd() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (!atEnd() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) pos++;
                if (!isDigit()) throw error("invalid number: digits must follow the exponent");
                while (isDigit()) pos++;
            }
            String text = s.substring(start, pos);
            if (integral && text.length() <= 18) return Long.parseLong(text);
            return Double.parseDouble(text);
        }

        private boolean isDigit() {
            return !atEnd() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9';
        }
    }

    // ---- writing ----

    /** Appends {@code value} as a JSON string literal. */
    public static void writeString(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    /**
     * Writes maps, lists, strings, numbers, booleans and {@link #NULL}. Only what the
     * agent builds itself is passed here, so any other type is a bug.
     */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value);
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    public static void write(StringBuilder out, Object value) {
        if (value == null || value == NULL) {
            out.append("null");
        } else if (value instanceof String) {
            writeString(out, (String) value);
        } else if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
            out.append(value);
        } else if (value instanceof Double) {
            double d = (Double) value;
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("JSON has no " + d);
            out.append(d);
        } else if (value instanceof Map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : ((Map<String, Object>) value).entrySet()) {
                if (!first) out.append(',');
                first = false;
                writeString(out, e.getKey());
                out.append(':');
                write(out, e.getValue());
            }
            out.append('}');
        } else if (value instanceof Iterable) {
            out.append('[');
            boolean first = true;
            for (Object item : (Iterable<Object>) value) {
                if (!first) out.append(',');
                first = false;
                write(out, item);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
        }
    }

    /** A small ordered-map builder so response bodies read top to bottom as they are sent. */
    public static Map<String, Object> object(Object... keysAndValues) {
        if (keysAndValues.length % 2 != 0) throw new IllegalArgumentException("keys and values must pair up");
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        return Collections.unmodifiableMap(map);
    }
}
