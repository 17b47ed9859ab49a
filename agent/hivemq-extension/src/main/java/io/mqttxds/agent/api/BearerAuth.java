package io.mqttxds.agent.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;

/**
 * Checks {@code Authorization: Bearer <token>} against the shared secret. Both sides are
 * hashed first and the digests compared with {@link MessageDigest#isEqual}, which takes
 * the same time whatever the bytes: neither the token's content nor its length leaks
 * through response timing. The token itself is never logged or echoed.
 */
public final class BearerAuth {
    public enum Outcome {
        OK("ok"),
        MISSING("no Authorization header"),
        MALFORMED("Authorization header is not a single 'Bearer <token>'"),
        WRONG("wrong token");

        /** Why the request was refused, safe for the log and the response (it holds no secret). */
        public final String reason;

        Outcome(String reason) {
            this.reason = reason;
        }
    }

    private static final String SCHEME = "bearer ";

    private final byte[] expectedDigest;

    public BearerAuth(String token) {
        if (token == null || token.isEmpty()) throw new IllegalArgumentException("the agent token must not be empty");
        this.expectedDigest = sha256(token);
    }

    public Outcome check(List<String> authorizationHeaders) {
        if (authorizationHeaders == null || authorizationHeaders.isEmpty()) return Outcome.MISSING;
        if (authorizationHeaders.size() != 1) return Outcome.MALFORMED;
        String header = authorizationHeaders.get(0).trim();
        // RFC 7235: the scheme name is case-insensitive.
        if (header.length() <= SCHEME.length() || !header.substring(0, SCHEME.length()).toLowerCase(Locale.ROOT).equals(SCHEME)) {
            return Outcome.MALFORMED;
        }
        String presented = header.substring(SCHEME.length()).trim();
        if (presented.isEmpty()) return Outcome.MALFORMED;
        return MessageDigest.isEqual(sha256(presented), expectedDigest) ? Outcome.OK : Outcome.WRONG;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            // Every Java SE runtime must provide SHA-256.
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
