package io.mqttxds.agent.hivemq;

import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;
import io.mqttxds.agent.api.AgentApi;
import io.mqttxds.agent.api.AgentHttpServer;
import io.mqttxds.agent.api.AgentTls;
import io.mqttxds.agent.api.BearerAuth;
import io.mqttxds.agent.clients.ClientRegistry;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import io.mqttxds.agent.config.AgentConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The extension's entry point: reads the configuration, starts the agent's HTTP endpoint
 * and hooks client tracking into HiveMQ. A configuration error (no token, say) stops the
 * extension, never the broker: HiveMQ logs the reason and keeps serving MQTT.
 */
public final class AgentExtensionMain implements ExtensionMain {
    /** How often the client list is checked against HiveMQ's own. */
    static final long RECONCILE_MS = 5_000;
    private volatile ScheduledFuture<?> reconciler;
    /** How often the TLS files are checked for a change (AgentTls.reloadIfChanged). */
    static final long TLS_RELOAD_MS = 10_000;
    private volatile ScheduledFuture<?> tlsReloader;
    public static final String IMPLEMENTATION = "mqtt-xds-hivemq-agent";

    private static final Logger log = LoggerFactory.getLogger(AgentExtensionMain.class);

    private final AgentConfig given;
    private volatile AgentHttpServer server;
    private volatile HiveMQBroker broker;

    /** Used by HiveMQ: configuration from the extension folder and the environment. */
    public AgentExtensionMain() {
        this(null);
    }

    /** Used by embedders (the test launcher) that pass the configuration directly. */
    public AgentExtensionMain(AgentConfig config) {
        this.given = config;
    }

    @Override
    public void extensionStart(ExtensionStartInput input, ExtensionStartOutput output) {
        AgentConfig config = given;
        if (config == null) {
            AgentConfig.Loaded loaded = loadConfig(input.getExtensionInformation().getExtensionHomeFolder());
            if (!loaded.errors.isEmpty()) {
                for (String error : loaded.errors) log.error("mqtt-xds agent: {}", error);
                output.preventExtensionStartup("mqtt-xds agent not started: " + String.join("; ", loaded.errors));
                return;
            }
            config = loaded.config;
        }
        try {
            start(config);
        } catch (IOException | RuntimeException e) {
            log.error("mqtt-xds agent: could not start: {}", e.getMessage());
            output.preventExtensionStartup("mqtt-xds agent not started: " + e.getMessage());
        }
    }

    private void start(AgentConfig config) throws IOException {
        ClientRegistry registry = new ClientRegistry();
        HiveMQBroker hivemq = new HiveMQBroker(registry, config.disconnectTimeoutMs);
        AgentApi api = new AgentApi(new BearerAuth(config.token), hivemq, config.brokerName, IMPLEMENTATION + "/" + version());
        // The endpoint first: if its port is taken, nothing has been hooked into HiveMQ yet.
        AgentTls tls = null;
        if (config.tls != null) {
            try {
                tls = AgentTls.load(config.tls.certFile, config.tls.keyFile, config.tls.clientCaFile);
            } catch (AgentTls.TlsException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
        AgentHttpServer http = AgentHttpServer.start(config.bindAddress, config.port, config.threads, api, tls);

        ClientEvents events = new ClientEvents(registry, Services.subscriptionStore(), System::currentTimeMillis);
        Services.eventRegistry().setClientLifecycleEventListener(providerInput -> events);
        Services.initializerRegistry().setClientInitializer((initializerInput, context) -> {
            context.addSubscribeInboundInterceptor(events);
            context.addSubackOutboundInterceptor(events);
            context.addUnsubscribeInboundInterceptor(events);
        });
        // Repairs what out-of-order lifecycle callbacks may leave wrong (ClientRegistry.reconcile).
        reconciler = Services.extensionExecutorService().scheduleWithFixedDelay(
                () -> hivemq.reconcile(System.currentTimeMillis()), RECONCILE_MS, RECONCILE_MS, TimeUnit.MILLISECONDS);
        if (tls != null) {
            AgentTls watched = tls;
            // cert-manager and kubelet replace mounted Secret files in place; new handshakes get the new pair.
            tlsReloader = Services.extensionExecutorService().scheduleWithFixedDelay(() -> {
                try {
                    String now = watched.reloadIfChanged();
                    if (now != null) log.info("mqtt-xds agent: TLS files changed; now serving {}", now);
                } catch (AgentTls.TlsException e) {
                    log.error("mqtt-xds agent: TLS files changed but were refused, still serving {}: {}", watched.describe(), e.getMessage());
                }
            }, TLS_RELOAD_MS, TLS_RELOAD_MS, TimeUnit.MILLISECONDS);
            log.info("mqtt-xds agent: TLS with {}", tls.describe());
        }
        this.broker = hivemq;
        this.server = http;
        log.info("mqtt-xds agent {} serving {}://{}:{} for broker {}", version(), tls == null ? "http" : "https", config.bindAddress, http.port(),
                config.brokerName);
    }

    @Override
    public void extensionStop(ExtensionStopInput input, ExtensionStopOutput output) {
        ScheduledFuture<?> r = reconciler;
        if (r != null) r.cancel(false);
        ScheduledFuture<?> t = tlsReloader;
        if (t != null) t.cancel(false);
        HiveMQBroker b = broker;
        if (b != null) b.stopping();
        AgentHttpServer s = server;
        if (s != null) s.stop(0);
        server = null;
    }

    /** The port the agent listens on, or -1 before it started; the launcher reports it. */
    public int agentPort() {
        AgentHttpServer s = server;
        return s == null ? -1 : s.port();
    }

    static AgentConfig.Loaded loadConfig(File extensionHome) {
        Properties file = null;
        Path path = extensionHome.toPath().resolve(AgentConfig.FILE_NAME);
        if (Files.isRegularFile(path)) {
            file = new Properties();
            try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                file.load(reader);
            } catch (IOException | IllegalArgumentException e) {
                return AgentConfig.failed("cannot read " + path + ": " + e.getMessage());
            }
        }
        return AgentConfig.load(file, System.getenv(), p -> Files.readString(p, StandardCharsets.UTF_8));
    }

    /** The Maven project version, stamped into agent.properties at build time. */
    static String version() {
        try (InputStream in = AgentExtensionMain.class.getResourceAsStream("/io/mqttxds/agent/agent.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
