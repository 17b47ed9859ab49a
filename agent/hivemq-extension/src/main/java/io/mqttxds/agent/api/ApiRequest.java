package io.mqttxds.agent.api;

import java.util.List;

/**
 * An HTTP request as the API sees it, free of the HTTP server's types so routing,
 * authentication and validation are tested without sockets.
 */
public final class ApiRequest {
    public final String method;
    /** The decoded path, without the query. */
    public final String path;
    /** The raw query string (after '?'), or null when there is none. */
    public final String rawQuery;
    /** Every Authorization header value sent (normally zero or one). */
    public final List<String> authorization;
    /** The body, already limited by the server to {@link AgentApi#MAX_BODY_BYTES} + 1 bytes. */
    public final byte[] body;
    /** Who asked, for the log (never the token). */
    public final String remote;

    public ApiRequest(String method, String path, String rawQuery, List<String> authorization, byte[] body, String remote) {
        this.method = method;
        this.path = path;
        this.rawQuery = rawQuery;
        this.authorization = authorization;
        this.body = body;
        this.remote = remote;
    }

    /** For tests: a request without body or token. */
    public static ApiRequest of(String method, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? null : pathAndQuery.substring(q + 1);
        return new ApiRequest(method, path, query, List.of(), new byte[0], "test");
    }

    public ApiRequest withToken(String token) {
        return new ApiRequest(method, path, rawQuery, List.of("Bearer " + token), body, remote);
    }

    public ApiRequest withAuthorization(List<String> values) {
        return new ApiRequest(method, path, rawQuery, values, body, remote);
    }

    public ApiRequest withBody(String text) {
        return new ApiRequest(method, path, rawQuery, authorization, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), remote);
    }

    public ApiRequest withBody(byte[] bytes) {
        return new ApiRequest(method, path, rawQuery, authorization, bytes, remote);
    }
}
