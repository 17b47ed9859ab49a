package io.mqttxds.agent.launcher;

import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.embedded.EmbeddedHiveMQBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Runs real HiveMQ CE, embedded, with the agent extension loaded, for the integration
 * tests (test/support/hivemq.ts). Everything HiveMQ writes goes to a temporary folder
 * that is removed on exit; its log goes to stderr, so stdout carries exactly one line:
 *
 * <pre>{"type":"ready","mqttPort":1883,"agentPort":9401,"startupMs":1234}</pre>
 *
 * or {@code {"type":"error","message":"..."}} before exiting with status 1.
 *
 * <p>Usage: {@code HiveMQLauncher --mqtt-port N [--agent-port N] [--broker-name NAME] [--exit-on-stdin-close]
 * [--packaged-extension ZIP]}. By default the agent is loaded as an embedded extension
 * configured here; with --packaged-extension, HiveMQ loads the release zip from its
 * extensions folder instead, exactly as on a real broker. The token comes from the environment (MQTT_XDS_AGENT_TOKEN or MQTT_XDS_AGENT_TOKEN_FILE),
 * never from the command line, where any local user could read it. Agent port 0 picks a
 * free port. Stops on SIGTERM/SIGINT and, with --exit-on-stdin-close, when stdin closes
 * (so a test runner that dies cannot leave a broker behind).
 */
public final class HiveMQLauncher {
    private static final long START_TIMEOUT_SEC = 60;
    private static final long STOP_TIMEOUT_SEC = 10;
    /** The agent's settings file in its extension folder (AgentConfig.FILE_NAME). */
    private static final String PROPERTIES_FILE = "mqtt-xds-agent.properties";
    private static final String USAGE = "--mqtt-port N [--agent-port N] [--broker-name NAME] [--exit-on-stdin-close] "
            + "[--packaged-extension ZIP]";

    private HiveMQLauncher() {}

    public static void main(String[] args) {
        long t0 = System.nanoTime();
        // HiveMQ and its libraries must never write to the stdout protocol line.
        PrintStream protocol = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        try {
            Options options = Options.parse(args);
            run(options, protocol, t0);
        } catch (Exception e) {
            protocol.println("{\"type\":\"error\",\"message\":" + jsonString(describe(e)) + "}");
            e.printStackTrace(System.err);
            System.exit(1);
        }
    }

    private static void run(Options options, PrintStream protocol, long t0) throws Exception {
        Path root = Files.createTempDirectory("mqtt-xds-hivemq-");
        EmbeddedHiveMQ hivemq;
        EmbeddedAgent embedded = null;
        try {
            EmbeddedHiveMQBuilder builder = prepareFolders(root, options.mqttPort);
            if (options.packagedExtension != null) {
                installPackaged(options.packagedExtension, root.resolve("extensions"), options.agentPort);
            } else {
                embedded = EmbeddedAgent.create(options.agentPort, options.brokerName);
                builder.withEmbeddedExtension(embedded.extension);
            }
            hivemq = builder.build();
        } catch (Exception e) {
            deleteTree(root); // no shutdown hook yet to remove it
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(hivemq, root), "mqtt-xds-launcher-stop"));

        hivemq.start().get(START_TIMEOUT_SEC, TimeUnit.SECONDS);
        // A packaged extension that refused to start leaves HiveMQ running without it, as in
        // production; the caller sees that at the agent's port (and in the log).
        int agentPort = embedded != null ? embedded.port() : options.agentPort;
        if (agentPort < 0) throw new IllegalStateException("HiveMQ started but the agent extension did not; see the log above");
        long startupMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        protocol.println("{\"type\":\"ready\",\"mqttPort\":" + options.mqttPort + ",\"agentPort\":" + agentPort
                + ",\"startupMs\":" + startupMs + "}");
        if (options.exitOnStdinClose) exitWhenStdinCloses();
    }

    /** HiveMQ's conf, data, extensions and log folders under {@code root}. */
    private static EmbeddedHiveMQBuilder prepareFolders(Path root, int mqttPort) throws IOException {
        Path conf = Files.createDirectories(root.resolve("conf"));
        Files.writeString(conf.resolve("config.xml"), hivemqConfig(mqttPort));
        Files.writeString(conf.resolve("logback.xml"), LOGBACK);
        System.setProperty("hivemq.log.folder", Files.createDirectories(root.resolve("log")).toString());
        return EmbeddedHiveMQ.builder()
                .withConfigurationFolder(conf)
                .withDataFolder(Files.createDirectories(root.resolve("data")))
                .withExtensionsFolder(Files.createDirectories(root.resolve("extensions")));
    }

    /**
     * Unpacks the extension zip as an operator would into HiveMQ's extensions folder and sets
     * its properties file to loopback and the given port. The token is left to the
     * environment (MQTT_XDS_AGENT_TOKEN_FILE), as in a real deployment.
     */
    private static void installPackaged(Path zip, Path extensions, int agentPort) throws IOException {
        if (agentPort <= 0) throw new IllegalArgumentException("--packaged-extension needs a fixed --agent-port (1-65535)");
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                Path target = extensions.resolve(entry.getName()).normalize();
                if (!target.startsWith(extensions)) throw new IOException("zip entry escapes the folder: " + entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(in, target);
                }
            }
        }
        Path props = extensions.resolve("mqtt-xds-agent").resolve(PROPERTIES_FILE);
        if (!Files.isRegularFile(props)) throw new IOException(zip + " has no mqtt-xds-agent/" + PROPERTIES_FILE);
        Files.writeString(props, "bind-address=127.0.0.1\nport=" + agentPort + "\n", StandardOpenOption.APPEND);
    }

    /**
     * One TCP listener on loopback; in-memory persistence because a test broker keeps nothing
     * and it starts faster; no usage statistics (this machine has no Internet anyway).
     */
    static String hivemqConfig(int mqttPort) {
        return "<?xml version=\"1.0\"?>\n"
                + "<hivemq>\n"
                + "  <listeners>\n"
                + "    <tcp-listener><port>" + mqttPort + "</port><bind-address>127.0.0.1</bind-address></tcp-listener>\n"
                + "  </listeners>\n"
                + "  <persistence><mode>in-memory</mode></persistence>\n"
                + "  <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>\n"
                + "</hivemq>\n";
    }

    /** HiveMQ's startup lines on stderr (they show in a failing test's output); nothing on stdout. */
    private static final String LOGBACK = "<configuration scan=\"false\">\n"
            + "  <appender name=\"STDERR\" class=\"ch.qos.logback.core.ConsoleAppender\">\n"
            + "    <target>System.err</target>\n"
            + "    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n%ex</pattern></encoder>\n"
            + "  </appender>\n"
            + "  <root level=\"INFO\"><appender-ref ref=\"STDERR\"/></root>\n"
            + "  <logger name=\"jetbrains.exodus\" level=\"WARN\"/>\n"
            + "  <logger name=\"oshi\" level=\"ERROR\"/>\n"
            + "</configuration>\n";

    /** The causes' messages, outermost first; HiveMQ's own reasons are in its log on stderr. */
    static String describe(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.util.concurrent.ExecutionException && t.getCause() != null) continue;
            if (out.length() > 0) out.append(": ");
            out.append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
            if (t.getCause() == t) break;
        }
        if (e instanceof java.util.concurrent.ExecutionException || e instanceof java.util.concurrent.TimeoutException) {
            out.insert(0, "HiveMQ did not start: ").append(" (see HiveMQ's log on stderr)");
        }
        return out.toString();
    }

    /** A JSON string literal (the agent's Json class is not on the classpath in packaged mode). */
    static String jsonString(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }

    private static void exitWhenStdinCloses() {
        Thread watcher = new Thread(() -> {
            try {
                InputStream in = System.in;
                byte[] buf = new byte[256];
                while (in.read(buf) >= 0) {
                    // Input is ignored; only its end matters.
                }
            } catch (IOException e) {
                // A broken stdin means the parent is gone, the same as EOF.
            }
            System.exit(0);
        }, "mqtt-xds-launcher-stdin");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void stop(EmbeddedHiveMQ hivemq, Path root) {
        try {
            hivemq.stop().get(STOP_TIMEOUT_SEC, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("mqtt-xds launcher: HiveMQ did not stop cleanly: " + e);
        }
        deleteTree(root);
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("mqtt-xds launcher: could not remove " + root + ": " + e.getMessage());
        }
    }

    static final class Options {
        int mqttPort = -1;
        int agentPort = 0;
        String brokerName;
        boolean exitOnStdinClose;
        Path packagedExtension;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--mqtt-port":
                        o.mqttPort = port(args, ++i, "--mqtt-port", 1);
                        break;
                    case "--agent-port":
                        o.agentPort = port(args, ++i, "--agent-port", 0);
                        break;
                    case "--broker-name":
                        o.brokerName = value(args, ++i, "--broker-name");
                        break;
                    case "--exit-on-stdin-close":
                        o.exitOnStdinClose = true;
                        break;
                    case "--packaged-extension":
                        o.packagedExtension = Path.of(value(args, ++i, "--packaged-extension"));
                        break;
                    default:
                        throw new IllegalArgumentException("unknown argument '" + args[i]
                                + "'; usage: " + USAGE);
                }
            }
            if (o.mqttPort < 0) throw new IllegalArgumentException("--mqtt-port is required");
            return o;
        }

        private static String value(String[] args, int i, String flag) {
            if (i >= args.length) throw new IllegalArgumentException(flag + " needs a value");
            return args[i];
        }

        private static int port(String[] args, int i, String flag, int min) {
            String raw = value(args, i, flag);
            try {
                int p = Integer.parseInt(raw);
                if (p >= min && p <= 65535) return p;
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(flag + " must be a port from " + min + " to 65535, found '" + raw + "'");
        }
    }
}
