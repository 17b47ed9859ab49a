package io.mqttxds.agent.clients;

/** One connected client as GET /agent/v1/clients reports it (docs/agent-api.md). */
public final class ClientView {
    public final String clientId;
    /** Protocol level: 3 (MQTT 3.1), 4 (3.1.1) or 5. */
    public final int mqttVersion;
    public final boolean cleanStart;
    public final long sessionExpirySec;
    public final boolean sharedSubscriber;
    public final long connectedSinceMs;

    public ClientView(String clientId, int mqttVersion, boolean cleanStart, long sessionExpirySec,
                      boolean sharedSubscriber, long connectedSinceMs) {
        this.clientId = clientId;
        this.mqttVersion = mqttVersion;
        this.cleanStart = cleanStart;
        this.sessionExpirySec = sessionExpirySec;
        this.sharedSubscriber = sharedSubscriber;
        this.connectedSinceMs = connectedSinceMs;
    }
}
