package io.mqttxds.agent.api;

import java.util.Map;

/** One thing wrong with a request, named by the field it concerns (e.g. {@code clientIds[3]}). */
public final class Problem {
    public final String field;
    public final String message;

    public Problem(String field, String message) {
        this.field = field;
        this.message = message;
    }

    Map<String, Object> toJson() {
        return Json.object("field", field, "message", message);
    }

    @Override
    public String toString() {
        return field + ": " + message;
    }
}
