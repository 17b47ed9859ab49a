package io.mqttxds.agent.api;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BearerAuthTest {
    private static final String TOKEN = "s3cret-token-0123456789";
    private final BearerAuth auth = new BearerAuth(TOKEN);

    @Test
    void acceptsTheRightTokenWithAnyCaseOfTheScheme() {
        assertEquals(BearerAuth.Outcome.OK, auth.check(List.of("Bearer " + TOKEN)));
        assertEquals(BearerAuth.Outcome.OK, auth.check(List.of("bearer " + TOKEN)));
        assertEquals(BearerAuth.Outcome.OK, auth.check(List.of("  BEARER   " + TOKEN + " ")));
    }

    @Test
    void tellsMissingFromMalformedFromWrong() {
        assertEquals(BearerAuth.Outcome.MISSING, auth.check(List.of()));
        assertEquals(BearerAuth.Outcome.MISSING, auth.check(null));
        assertEquals(BearerAuth.Outcome.MALFORMED, auth.check(List.of(TOKEN)));
        assertEquals(BearerAuth.Outcome.MALFORMED, auth.check(List.of("Basic " + TOKEN)));
        assertEquals(BearerAuth.Outcome.MALFORMED, auth.check(List.of("Bearer ")));
        assertEquals(BearerAuth.Outcome.MALFORMED, auth.check(List.of("Bearer " + TOKEN, "Bearer " + TOKEN)));
        assertEquals(BearerAuth.Outcome.WRONG, auth.check(List.of("Bearer " + TOKEN + "x")));
        assertEquals(BearerAuth.Outcome.WRONG, auth.check(List.of("Bearer " + TOKEN.substring(1))));
    }

    @Test
    void reasonsNeverContainTheToken() {
        for (BearerAuth.Outcome o : BearerAuth.Outcome.values()) assertFalse(o.reason.contains(TOKEN));
    }

    @Test
    void refusesAnEmptyToken() {
        assertThrows(IllegalArgumentException.class, () -> new BearerAuth(""));
    }
}
