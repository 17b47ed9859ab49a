package io.mqttxds.agent.config;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The agent's settings, read once at start from {@code mqtt-xds-agent.properties} in the
 * extension folder and from environment variables, which win (a Kubernetes pod sets
 * env vars more easily than it edits a file inside an image). Every setting is listed
 * in docs/hivemq-agent.md. This is the only place that reads configuration.
 *
 * <p>The token is never taken from the properties file: a file that sits next to the jar
 * gets copied, committed and shown around; a token file mounted from a Secret does not.
 */
public final class AgentConfig {
    public static final String FILE_NAME = "mqtt-xds-agent.properties";
    public static final int DEFAULT_PORT = 9401;
    public static final String DEFAULT_BIND_ADDRESS = "0.0.0.0";
    public static final int DEFAULT_THREADS = 8;
    /** Below the control plane's default agent timeout (rebalance.agentTimeoutMs, 5000 ms). */
    public static final long DEFAULT_DISCONNECT_TIMEOUT_MS = 4000;
    /** Shorter tokens are guessable; a Secret of 32 random bytes is the intended kind. */
    public static final int MIN_TOKEN_LENGTH = 16;

    /** Property key → environment variable. */
    static final Map<String, String> KEYS = Map.of(
            "bind-address", "MQTT_XDS_AGENT_BIND_ADDRESS",
            "port", "MQTT_XDS_AGENT_PORT",
            "token-file", "MQTT_XDS_AGENT_TOKEN_FILE",
            "broker-name", "MQTT_XDS_AGENT_BROKER_NAME",
            "threads", "MQTT_XDS_AGENT_THREADS",
            "disconnect-timeout-ms", "MQTT_XDS_AGENT_DISCONNECT_TIMEOUT_MS",
            "tls-cert-file", "MQTT_XDS_AGENT_TLS_CERT_FILE",
            "tls-key-file", "MQTT_XDS_AGENT_TLS_KEY_FILE",
            "tls-client-ca-file", "MQTT_XDS_AGENT_TLS_CLIENT_CA_FILE");
    static final String TOKEN_ENV = "MQTT_XDS_AGENT_TOKEN";

    public final String bindAddress;
    public final int port;
    /** The shared secret; never logged. */
    public final String token;
    /** Reported by GET /agent/v1/health as "broker". */
    public final String brokerName;
    public final int threads;
    public final long disconnectTimeoutMs;
    /** TLS files (PEM), or null for plain HTTP; see {@link Tls}. */
    public final Tls tls;

    /** The agent's TLS: its certificate chain and key, and the CA its callers' certificates must chain to (null: any caller). */
    public static final class Tls {
        public final Path certFile;
        public final Path keyFile;
        public final Path clientCaFile;

        public Tls(Path certFile, Path keyFile, Path clientCaFile) {
            this.certFile = certFile;
            this.keyFile = keyFile;
            this.clientCaFile = clientCaFile;
        }
    }

    public AgentConfig(String bindAddress, int port, String token, String brokerName, int threads, long disconnectTimeoutMs) {
        this(bindAddress, port, token, brokerName, threads, disconnectTimeoutMs, null);
    }

    public AgentConfig(String bindAddress, int port, String token, String brokerName, int threads, long disconnectTimeoutMs, Tls tls) {
        this.bindAddress = bindAddress;
        this.port = port;
        this.token = token;
        this.brokerName = brokerName;
        this.threads = threads;
        this.disconnectTimeoutMs = disconnectTimeoutMs;
        this.tls = tls;
    }

    /** Reads a file's text; a parameter so tests need no files. */
    public interface FileReader {
        String read(Path path) throws IOException;
    }

    /** The settings, or every problem found with them. */
    public static final class Loaded {
        public final AgentConfig config;
        public final List<String> errors;

        Loaded(AgentConfig config, List<String> errors) {
            this.config = config;
            this.errors = Collections.unmodifiableList(errors);
        }
    }

    /** A configuration that could not even be read. */
    public static Loaded failed(String error) {
        return new Loaded(null, List.of(error));
    }

    /**
     * @param file the properties file's content, or null when there is none
     * @param env the environment (System.getenv() in production)
     */
    public static Loaded load(Properties file, Map<String, String> env, FileReader reader) {
        List<String> errors = new ArrayList<>();
        Properties props = file == null ? new Properties() : file;
        checkKeys(props, errors);
        Source src = new Source(props, env);

        String bind = src.get("bind-address", DEFAULT_BIND_ADDRESS);
        if (bind.isEmpty()) errors.add(src.where("bind-address") + " is empty; give an address such as 0.0.0.0 or 127.0.0.1");
        int port = (int) src.integer("port", DEFAULT_PORT, 0, 65535, errors);
        int threads = (int) src.integer("threads", DEFAULT_THREADS, 1, 16, errors);
        long timeout = src.integer("disconnect-timeout-ms", DEFAULT_DISCONNECT_TIMEOUT_MS, 100, 60_000, errors);
        String token = token(src, env, reader, errors);
        String broker = src.get("broker-name", defaultBrokerName(env));
        Tls tls = tls(src, errors);

        if (!errors.isEmpty()) return new Loaded(null, errors);
        return new Loaded(new AgentConfig(bind, port, token, broker, threads, timeout, tls), errors);
    }

    /** The TLS files: a certificate and its key together, a client CA only with them. Their content is checked when the server starts. */
    private static Tls tls(Source src, List<String> errors) {
        String cert = src.get("tls-cert-file", null);
        String key = src.get("tls-key-file", null);
        String ca = src.get("tls-client-ca-file", null);
        if (cert == null && key == null) {
            if (ca != null) {
                errors.add(src.where("tls-client-ca-file") + " is set without a server certificate; set "
                        + src.where("tls-cert-file") + " and " + src.where("tls-key-file") + " too (mTLS is TLS first)");
            }
            return null;
        }
        if (cert == null || key == null) {
            errors.add(cert == null
                    ? src.where("tls-key-file") + " is set but no certificate is; set " + KEYS.get("tls-cert-file") + " or tls-cert-file too"
                    : src.where("tls-cert-file") + " is set but no key is; set " + KEYS.get("tls-key-file") + " or tls-key-file too");
            return null;
        }
        return new Tls(Path.of(cert), Path.of(key), ca == null ? null : Path.of(ca));
    }

    private static void checkKeys(Properties props, List<String> errors) {
        Set<String> unknown = new TreeSet<>(props.stringPropertyNames());
        unknown.removeAll(KEYS.keySet());
        for (String key : unknown) {
            if (key.equals("token")) {
                errors.add(FILE_NAME + ": 'token' is not read from this file; put the token in a file named by "
                        + "token-file (e.g. a mounted Kubernetes Secret) or set " + TOKEN_ENV);
            } else {
                errors.add(FILE_NAME + ": unknown setting '" + key + "'; the settings are " + new TreeSet<>(KEYS.keySet()));
            }
        }
    }

    private static String token(Source src, Map<String, String> env, FileReader reader, List<String> errors) {
        String inline = env.get(TOKEN_ENV);
        String file = src.get("token-file", null);
        if (inline != null && !inline.isEmpty() && file != null) {
            errors.add("both " + TOKEN_ENV + " and " + src.where("token-file") + " are set; set only one");
            return null;
        }
        String token;
        String origin;
        if (inline != null && !inline.isEmpty()) {
            token = inline.strip();
            origin = TOKEN_ENV;
        } else if (file != null) {
            origin = "token file " + file + " (" + src.where("token-file") + ")";
            try {
                // A Secret mounted as a file or written with echo often ends with a newline.
                token = reader.read(Path.of(file)).strip();
            } catch (IOException | RuntimeException e) {
                errors.add("cannot read the " + origin + ": " + e.getMessage());
                return null;
            }
        } else {
            errors.add("no agent token is configured, so the agent API stays off: set " + TOKEN_ENV
                    + " or name a token file with MQTT_XDS_AGENT_TOKEN_FILE or token-file in " + FILE_NAME);
            return null;
        }
        if (token.length() < MIN_TOKEN_LENGTH) {
            errors.add("the token from " + origin + " has " + token.length() + " characters; use at least "
                    + MIN_TOKEN_LENGTH + " (e.g. openssl rand -hex 32)");
            return null;
        }
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            errors.add("the token from " + origin + " contains spaces, control or non-ASCII characters; "
                    + "it must fit an HTTP header (e.g. openssl rand -hex 32)");
            return null;
        }
        return token;
    }

    private static String defaultBrokerName(Map<String, String> env) {
        // In Kubernetes HOSTNAME is the pod name, which is what an operator looks for.
        String host = env.get("HOSTNAME");
        if (host != null && !host.isEmpty()) return host;
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }

    /** Looks a setting up in the environment first, then in the file. */
    private static final class Source {
        private final Properties props;
        private final Map<String, String> env;

        Source(Properties props, Map<String, String> env) {
            this.props = props;
            this.env = env;
        }

        String get(String key, String fallback) {
            String fromEnv = env.get(KEYS.get(key));
            if (fromEnv != null && !fromEnv.isEmpty()) return fromEnv.strip();
            String fromFile = props.getProperty(key);
            return fromFile != null ? fromFile.strip() : fallback;
        }

        /** Names where a setting came from, for error messages. */
        String where(String key) {
            String fromEnv = env.get(KEYS.get(key));
            return fromEnv != null && !fromEnv.isEmpty() ? KEYS.get(key) : key + " in " + FILE_NAME;
        }

        long integer(String key, long fallback, long min, long max, List<String> errors) {
            String raw = get(key, null);
            if (raw == null) return fallback;
            try {
                long v = Long.parseLong(raw);
                if (v >= min && v <= max) return v;
            } catch (NumberFormatException e) {
                // reported below
            }
            errors.add(where(key) + " must be a whole number from " + min + " to " + max + ", found '" + raw + "'");
            return fallback;
        }
    }
}
