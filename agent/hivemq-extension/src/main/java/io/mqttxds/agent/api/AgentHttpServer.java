package io.mqttxds.agent.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves {@link AgentApi} over HTTP with the JDK's built-in server, so the extension ships
 * no web framework. Requests run on a small bounded pool: when all workers are busy and
 * the queue is full, a new connection is closed at once instead of piling up work inside
 * the broker's JVM (the control plane counts it as a failed call and retries later).
 */
public final class AgentHttpServer {
    private static final Logger log = LoggerFactory.getLogger(AgentHttpServer.class);
    /** Requests waiting for a worker; beyond this they are refused. */
    static final int QUEUE_CAPACITY = 64;
    /**
     * The JDK server reads a request's line and headers on a worker, so a socket that sends
     * half a request holds one. sun.net.httpserver.maxReqTime (seconds, read once when the JDK
     * server's config class loads) makes its timer close such a connection, which frees the
     * worker. Applied only if no one set it, and only before this JVM's first HttpServer.
     */
    static final String MAX_REQ_TIME_PROPERTY = "sun.net.httpserver.maxReqTime";
    public static final int REQUEST_TIMEOUT_SEC = 10;
    /**
     * When a request is answered, the JDK server reads whatever body is left (64 KiB by
     * default) before it lets the worker go: a refused caller that announces a body and never
     * sends it would hold the worker after all. 0: drop the connection instead. The JDK server
     * then drops every connection whose request stream was not read to its end, even an empty
     * one, without telling the client; so {@link #serve} reads an announced-empty body to its
     * end (which costs no socket read), and says Connection: close whenever the connection
     * will not be kept. Otherwise a keep-alive client (Node's fetch) reuses a socket the
     * server is closing, and its next request fails with "other side closed".
     */
    static final String DRAIN_AMOUNT_PROPERTY = "sun.net.httpserver.drainAmount";

    private final HttpServer server;
    private final ThreadPoolExecutor executor;

    private AgentHttpServer(HttpServer server, ThreadPoolExecutor executor) {
        this.server = server;
        this.executor = executor;
    }

    public static AgentHttpServer start(String bindAddress, int port, int threads, AgentApi api) throws IOException {
        return start(bindAddress, port, threads, api, null);
    }

    /** @param tls null for plain HTTP; else HTTPS with its certificate, and mTLS when it has a client CA */
    public static AgentHttpServer start(String bindAddress, int port, int threads, AgentApi api, AgentTls tls) throws IOException {
        if (System.getProperty(MAX_REQ_TIME_PROPERTY) == null) {
            System.setProperty(MAX_REQ_TIME_PROPERTY, String.valueOf(REQUEST_TIMEOUT_SEC));
        }
        if (System.getProperty(DRAIN_AMOUNT_PROPERTY) == null) System.setProperty(DRAIN_AMOUNT_PROPERTY, "0");
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE_CAPACITY), daemonThreads(), new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        HttpServer server;
        try {
            InetSocketAddress address = new InetSocketAddress(bindAddress, port);
            if (tls == null) {
                server = HttpServer.create(address, 64);
            } else {
                HttpsServer https = HttpsServer.create(address, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(tls.context()) {
                    @Override
                    public void configure(HttpsParameters params) {
                        SSLParameters p = tls.context().getDefaultSSLParameters();
                        p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
                        p.setNeedClientAuth(tls.requiresClientCertificate());
                        params.setSSLParameters(p);
                    }
                });
                server = https;
            }
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IOException("cannot listen on " + bindAddress + ":" + port + ": " + e.getMessage(), e);
        }
        server.createContext("/", exchange -> serve(exchange, api));
        server.setExecutor(executor);
        server.start();
        return new AgentHttpServer(server, executor);
    }

    /** The port actually bound (differs from the configured one when that was 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops accepting, gives running requests up to {@code graceSeconds}, then stops the workers. */
    public void stop(int graceSeconds) {
        server.stop(graceSeconds);
        executor.shutdownNow();
    }

    private static void serve(HttpExchange exchange, AgentApi api) throws IOException {
        try {
            RequestBody body = new RequestBody(exchange);
            ApiResponse response;
            try {
                response = api.handle(toRequest(exchange, body));
            } catch (RuntimeException e) {
                log.error("agent request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(), e);
                response = ApiResponse.error(500, "internal error in the agent: " + e.getClass().getSimpleName()
                        + "; see the HiveMQ log");
            }
            // A refused request may have left body bytes unread: close rather than reuse the connection.
            send(exchange, response, response.status < 400 && body.readToEnd());
        } finally {
            exchange.close();
        }
    }

    /** The request's body stream, and whether it was read to its end (the JDK server keeps only such connections). */
    private static final class RequestBody {
        private final HttpExchange exchange;
        private boolean atEnd;

        RequestBody(HttpExchange exchange) {
            this.exchange = exchange;
        }

        byte[] read(int max) throws IOException {
            ReadResult r = readBounded(exchange.getRequestBody(), max);
            atEnd = r.atEnd;
            return r.bytes;
        }

        /**
         * True once the body was read to its end. A request that announced no body gets its
         * (empty) stream read here, which returns at once; one that announced a body the
         * handler did not read stays unfinished, and its connection is closed.
         */
        boolean readToEnd() throws IOException {
            if (atEnd) return true;
            if (!announcesNoBody(exchange.getRequestHeaders())) return false;
            atEnd = exchange.getRequestBody().read() < 0;
            return atEnd;
        }
    }

    static boolean announcesNoBody(Headers headers) {
        if (headers.containsKey("Transfer-Encoding")) return false;
        String length = headers.getFirst("Content-Length");
        return length == null || length.trim().equals("0");
    }

    private static ApiRequest toRequest(HttpExchange exchange, RequestBody body) {
        List<String> authorization = exchange.getRequestHeaders().get("Authorization");
        return new ApiRequest(
                exchange.getRequestMethod(),
                exchange.getRequestURI().getPath(),
                exchange.getRequestURI().getRawQuery(),
                authorization == null ? List.of() : authorization,
                () -> body.read(AgentApi.MAX_BODY_BYTES + 1),
                String.valueOf(exchange.getRemoteAddress()));
    }

    /** What {@link #readBounded} read, and whether the stream ended within the bound. */
    static final class ReadResult {
        final byte[] bytes;
        final boolean atEnd;

        ReadResult(byte[] bytes, boolean atEnd) {
            this.bytes = bytes;
            this.atEnd = atEnd;
        }
    }

    /** Reads at most {@code max} bytes: enough for the API to tell "over the limit" from "at it". */
    static ReadResult readBounded(InputStream in, int max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int total = 0;
        while (total < max) {
            int n = in.read(buf, 0, Math.min(buf.length, max - total));
            if (n < 0) return new ReadResult(out.toByteArray(), true);
            out.write(buf, 0, n);
            total += n;
        }
        return new ReadResult(out.toByteArray(), false);
    }

    private static void send(HttpExchange exchange, ApiResponse response, boolean keepConnection) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", response.contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        if (response.allow != null) exchange.getResponseHeaders().set("Allow", response.allow);
        if (response.wwwAuthenticate != null) exchange.getResponseHeaders().set("WWW-Authenticate", response.wwwAuthenticate);
        if (!keepConnection) exchange.getResponseHeaders().set("Connection", "close");
        exchange.sendResponseHeaders(response.status, response.body.length == 0 ? -1 : response.body.length);
        if (response.body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(response.body);
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "mqtt-xds-agent-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
