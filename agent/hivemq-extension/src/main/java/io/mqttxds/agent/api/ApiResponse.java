package io.mqttxds.agent.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Status, content type, body and any extra headers of one answer. */
public final class ApiResponse {
    public static final String JSON = "application/json; charset=utf-8";
    /** Prometheus text exposition format 0.0.4, as the HiveMQ Prometheus extension serves it. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    public final int status;
    public final String contentType;
    public final byte[] body;
    /** The value of an Allow header (405) or WWW-Authenticate (401), else null. */
    public final String allow;
    public final String wwwAuthenticate;

    private ApiResponse(int status, String contentType, byte[] body, String allow, String wwwAuthenticate) {
        this.status = status;
        this.contentType = contentType;
        this.body = body;
        this.allow = allow;
        this.wwwAuthenticate = wwwAuthenticate;
    }

    public static ApiResponse json(int status, Map<String, Object> body) {
        return new ApiResponse(status, JSON, bytes(Json.write(body) + "\n"), null, null);
    }

    public static ApiResponse text(int status, String contentType, String body) {
        return new ApiResponse(status, contentType, bytes(body), null, null);
    }

    /** {"error": message}: every failure the API answers looks like this. */
    public static ApiResponse error(int status, String message) {
        return json(status, Json.object("error", message));
    }

    /** {"error": message, "problems": [{field, message}, ...]}: a body rejected field by field. */
    public static ApiResponse problems(int status, String message, List<Problem> problems) {
        List<Object> list = new ArrayList<>();
        for (Problem p : problems) list.add(p.toJson());
        return json(status, Json.object("error", message, "problems", list));
    }

    ApiResponse withAllow(String allowed) {
        return new ApiResponse(status, contentType, body, allowed, wwwAuthenticate);
    }

    ApiResponse withWwwAuthenticate(String challenge) {
        return new ApiResponse(status, contentType, body, allow, challenge);
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
