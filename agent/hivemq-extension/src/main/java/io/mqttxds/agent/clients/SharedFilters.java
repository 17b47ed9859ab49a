package io.mqttxds.agent.clients;

/** MQTT 5 shared subscriptions: {@code $share/<group>/<filter>} (HiveMQ accepts them from MQTT 3 clients too). */
public final class SharedFilters {
    private static final String PREFIX = "$share/";

    private SharedFilters() {}

    public static boolean isShared(String topicFilter) {
        return topicFilter != null && topicFilter.startsWith(PREFIX);
    }
}
