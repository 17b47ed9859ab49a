package io.mqttxds.agent.launcher;

import com.hivemq.embedded.EmbeddedExtension;
import io.mqttxds.agent.config.AgentConfig;
import io.mqttxds.agent.hivemq.AgentExtensionMain;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

/**
 * The agent as an embedded extension, configured by the launcher. Kept out of
 * {@link HiveMQLauncher} so that the launcher runs without the agent's classes on the
 * classpath when HiveMQ loads the packaged extension instead (two copies would make HiveMQ
 * see two ExtensionMain implementations and disable the extension).
 */
final class EmbeddedAgent {
    private final AgentExtensionMain main;
    final EmbeddedExtension extension;

    private EmbeddedAgent(AgentExtensionMain main) {
        this.main = main;
        this.extension = EmbeddedExtension.builder()
                .withId("mqtt-xds-agent")
                .withName("mqtt-xds broker agent")
                .withVersion("test")
                .withPriority(0)
                .withStartPriority(1000)
                .withExtensionMain(main)
                .build();
    }

    /** Configured like a real agent (environment, token rules), but always on loopback. */
    static EmbeddedAgent create(int agentPort, String brokerName) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("MQTT_XDS_AGENT_BIND_ADDRESS", "127.0.0.1");
        env.put("MQTT_XDS_AGENT_PORT", String.valueOf(agentPort));
        if (brokerName != null) env.put("MQTT_XDS_AGENT_BROKER_NAME", brokerName);
        AgentConfig.Loaded loaded = AgentConfig.load(null, env, p -> Files.readString(p, StandardCharsets.UTF_8));
        if (!loaded.errors.isEmpty()) throw new IllegalArgumentException("agent configuration: " + String.join("; ", loaded.errors));
        return new EmbeddedAgent(new AgentExtensionMain(loaded.config));
    }

    /** The bound port, or -1 if the extension did not start. */
    int port() {
        return main.agentPort();
    }
}
