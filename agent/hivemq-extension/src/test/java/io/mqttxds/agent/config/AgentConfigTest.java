package io.mqttxds.agent.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentConfigTest {
    private static final String TOKEN = "0123456789abcdef-token";

    private final Map<String, String> env = new HashMap<>();
    private final Properties file = new Properties();
    private final Map<String, String> files = new HashMap<>();

    private AgentConfig.Loaded load() {
        return AgentConfig.load(file, env, p -> {
            String text = files.get(p.toString());
            if (text == null) throw new NoSuchFileException(p.toString());
            return text;
        });
    }

    private String onlyError() {
        AgentConfig.Loaded l = load();
        assertNull(l.config);
        assertEquals(1, l.errors.size(), l.errors.toString());
        return l.errors.get(0);
    }

    @Test
    void defaultsWithATokenFromTheEnvironment() {
        env.put("MQTT_XDS_AGENT_TOKEN", TOKEN);
        env.put("HOSTNAME", "hivemq-0");
        AgentConfig c = load().config;
        assertEquals("0.0.0.0", c.bindAddress);
        assertEquals(9401, c.port);
        assertEquals(TOKEN, c.token);
        assertEquals("hivemq-0", c.brokerName);
        assertEquals(8, c.threads);
        assertEquals(4000, c.disconnectTimeoutMs);
    }

    @Test
    void withoutATokenTheAgentDoesNotStartAndSaysHowToConfigureOne() {
        String error = onlyError();
        assertTrue(error.contains("no agent token is configured"), error);
        assertTrue(error.contains("MQTT_XDS_AGENT_TOKEN"), error);
    }

    @Test
    void readsTheTokenFileAndStripsItsNewline() throws IOException {
        file.setProperty("token-file", "/secrets/token");
        files.put("/secrets/token", TOKEN + "\n");
        assertEquals(TOKEN, load().config.token);
    }

    @Test
    void anUnreadableTokenFileIsNamed() {
        env.put("MQTT_XDS_AGENT_TOKEN_FILE", "/nope");
        String error = onlyError();
        assertTrue(error.contains("/nope") && error.contains("MQTT_XDS_AGENT_TOKEN_FILE"), error);
    }

    @Test
    void refusesWeakOrUnsendableTokens() {
        env.put("MQTT_XDS_AGENT_TOKEN", "short");
        assertTrue(onlyError().contains("at least 16"));
        env.put("MQTT_XDS_AGENT_TOKEN", "has space 0123456789");
        assertTrue(onlyError().contains("spaces"));
    }

    @Test
    void refusesTwoTokenSources() {
        env.put("MQTT_XDS_AGENT_TOKEN", TOKEN);
        env.put("MQTT_XDS_AGENT_TOKEN_FILE", "/secrets/token");
        assertTrue(onlyError().contains("set only one"));
    }

    @Test
    void neverReadsATokenFromThePropertiesFile() {
        env.put("MQTT_XDS_AGENT_TOKEN", TOKEN);
        file.setProperty("token", TOKEN);
        String error = onlyError();
        assertTrue(error.contains("'token' is not read from this file"), error);
        assertTrue(!error.contains(TOKEN), "the token must not be echoed");
    }

    @Test
    void unknownSettingsAndBadNumbersAreErrors() {
        env.put("MQTT_XDS_AGENT_TOKEN", TOKEN);
        file.setProperty("prot", "1");
        file.setProperty("port", "70000");
        env.put("MQTT_XDS_AGENT_THREADS", "x");
        AgentConfig.Loaded l = load();
        assertEquals(3, l.errors.size(), l.errors.toString());
        assertTrue(l.errors.get(0).contains("unknown setting 'prot'"));
        assertTrue(l.errors.get(1).contains("port in mqtt-xds-agent.properties must be a whole number from 0 to 65535, found '70000'"));
        assertTrue(l.errors.get(2).contains("MQTT_XDS_AGENT_THREADS must be"));
    }

    @Test
    void theEnvironmentWinsOverTheFile() {
        env.put("MQTT_XDS_AGENT_TOKEN", TOKEN);
        file.setProperty("port", "9999");
        file.setProperty("bind-address", "10.0.0.1");
        env.put("MQTT_XDS_AGENT_PORT", "9402");
        AgentConfig c = load().config;
        assertEquals(9402, c.port);
        assertEquals("10.0.0.1", c.bindAddress);
    }

    @Test
    void plainHttpUnlessACertificateAndItsKeyAreSet() {
        env.put("MQTT_XDS_AGENT_TOKEN", TOKEN);
        assertNull(load().config.tls);
        env.put("MQTT_XDS_AGENT_TLS_CERT_FILE", "/tls/tls.crt");
        env.put("MQTT_XDS_AGENT_TLS_KEY_FILE", "/tls/tls.key");
        AgentConfig.Tls tls = load().config.tls;
        assertEquals("/tls/tls.crt", tls.certFile.toString());
        assertEquals("/tls/tls.key", tls.keyFile.toString());
        assertNull(tls.clientCaFile);
        file.setProperty("tls-client-ca-file", "/tls/ca.crt");
        assertEquals("/tls/ca.crt", load().config.tls.clientCaFile.toString());
    }

    @Test
    void aHalfTlsConfigurationIsAnError() {
        env.put("MQTT_XDS_AGENT_TOKEN", TOKEN);
        env.put("MQTT_XDS_AGENT_TLS_CERT_FILE", "/tls/tls.crt");
        assertTrue(onlyError().startsWith("MQTT_XDS_AGENT_TLS_CERT_FILE is set but no key is"), onlyError());
        env.remove("MQTT_XDS_AGENT_TLS_CERT_FILE");
        file.setProperty("tls-key-file", "/tls/tls.key");
        assertTrue(onlyError().startsWith("tls-key-file in mqtt-xds-agent.properties is set but no certificate is"), onlyError());
        file.remove("tls-key-file");
        env.put("MQTT_XDS_AGENT_TLS_CLIENT_CA_FILE", "/tls/ca.crt");
        assertTrue(onlyError().contains("without a server certificate"), onlyError());
    }
}
