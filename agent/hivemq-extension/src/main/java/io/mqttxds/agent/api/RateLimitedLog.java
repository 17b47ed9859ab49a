package io.mqttxds.agent.api;

import org.slf4j.Logger;

/**
 * Logs a warning at most once per interval and counts the ones left out, so a scanner
 * hammering the agent without a token cannot flood HiveMQ's log.
 */
public final class RateLimitedLog {
    private final Logger log;
    private final long intervalMs;
    private long nextAtMs;
    private long suppressed;

    public RateLimitedLog(Logger log, long intervalMs) {
        this.log = log;
        this.intervalMs = intervalMs;
    }

    public void warn(String message) {
        long suppressedNow;
        synchronized (this) {
            long now = System.currentTimeMillis();
            if (now < nextAtMs) {
                suppressed++;
                return;
            }
            nextAtMs = now + intervalMs;
            suppressedNow = suppressed;
            suppressed = 0;
        }
        if (suppressedNow > 0) log.warn("{} ({} similar messages suppressed)", message, suppressedNow);
        else log.warn(message);
    }
}
