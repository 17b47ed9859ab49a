package io.mqttxds.agent.api;

import java.io.IOException;
import java.io.UncheckedIOException;

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
    /**
     * Reads the body, limited by the server to {@link AgentApi#MAX_BODY_BYTES} + 1 bytes. Read
     * only on first use, after the token was checked: an unauthenticated caller can never make
     * a worker wait for body bytes.
     */
    public interface Body {
        byte[] read() throws IOException;
    }

    private final Body bodySource;
    private byte[] body;
    /** Who asked, for the log (never the token). */
    public final String remote;

    public ApiRequest(String method, String path, String rawQuery, List<String> authorization, byte[] body, String remote) {
        this(method, path, rawQuery, authorization, () -> body, remote);
    }

    public ApiRequest(String method, String path, String rawQuery, List<String> authorization, Body body, String remote) {
        this.method = method;
        this.path = path;
        this.rawQuery = rawQuery;
        this.authorization = authorization;
        this.bodySource = body;
        this.remote = remote;
    }

    /** The body, read on first call; an IOException (e.g. the read timed out) comes out unchecked. */
    public synchronized byte[] body() {
        if (body == null) {
            try {
                body = bodySource.read();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return body;
    }

    /** For tests: a request without body or token. */
    public static ApiRequest of(String method, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? null : pathAndQuery.substring(q + 1);
        return new ApiRequest(method, path, query, List.of(), new byte[0], "test");
    }

    public ApiRequest withToken(String token) {
        return new ApiRequest(method, path, rawQuery, List.of("Bearer " + token), bodySource, remote);
    }

    public ApiRequest withAuthorization(List<String> values) {
        return new ApiRequest(method, path, rawQuery, values, bodySource, remote);
    }

    public ApiRequest withBody(String text) {
        return new ApiRequest(method, path, rawQuery, authorization, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), remote);
    }

    public ApiRequest withBody(byte[] bytes) {
        return new ApiRequest(method, path, rawQuery, authorization, bytes, remote);
    }
}
