package io.mqttxds.agent.api;

import io.mqttxds.agent.config.AgentConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP server over real sockets: what stalled or unauthenticated callers can hold. */
class AgentHttpServerTest {
    private static final String TOKEN = "server-test-token-0123456789";
    /** A bound on each test read so a hang fails the test instead of blocking the build. */
    private static final int READ_BOUND_MS = 5_000;

    private static final AgentApi.Broker BROKER = ApiTestSupport.EMPTY_BROKER;

    private final List<Socket> sockets = new ArrayList<>();
    private AgentHttpServer server;

    private AgentHttpServer start(int threads) throws IOException {
        server = AgentHttpServer.start("127.0.0.1", 0, threads,
                new AgentApi(new BearerAuth(TOKEN), BROKER, "hivemq-0", "agent-test"));
        return server;
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) s.close();
        if (server != null) server.stop(0);
    }

    private Socket open(String rawRequestStart) throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), READ_BOUND_MS);
        s.setSoTimeout(READ_BOUND_MS);
        OutputStream out = s.getOutputStream();
        out.write(rawRequestStart.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** The status line of the answer, read within READ_BOUND_MS. */
    private static String statusLine(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder line = new StringBuilder();
        for (int b = in.read(); b >= 0 && b != '\r'; b = in.read()) line.append((char) b);
        return line.toString();
    }

    /** One whole answer: its status line and headers (lower-cased), its body consumed by Content-Length. */
    private static String headOfAnswer(Socket s) throws IOException {
        try {
            return ApiTestSupport.answerHead(s.getInputStream()).toLowerCase(java.util.Locale.ROOT);
        } catch (IOException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private static final String AUTHENTICATED_GET = "GET " + AgentApi.CLIENTS + " HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer "
            + TOKEN + "\r\n\r\n";

    private String authenticatedClients() throws IOException {
        return statusLine(open("GET " + AgentApi.CLIENTS + " HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer " + TOKEN
                + "\r\nConnection: close\r\n\r\n"));
    }

    @Test
    void anAuthenticatedRequestIsAnsweredWhileSocketsStallMidHeaders() throws IOException {
        start(AgentConfig.DEFAULT_THREADS);
        for (int i = 0; i < 4; i++) open("POST " + AgentApi.DISCONNECT + " HTTP/1.1\r\nHost: ag");
        assertEquals("HTTP/1.1 200 OK", authenticatedClients());
    }

    @Test
    void aRequestWithoutTheTokenIsRefusedBeforeItsBodyIsRead() throws IOException {
        start(1);
        // Announces a body it never sends: the 401 must come without waiting for it.
        Socket s = open("POST " + AgentApi.DISCONNECT + " HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer wrong\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"clientIds\":[");
        assertEquals("HTTP/1.1 401 Unauthorized", statusLine(s));
        for (int i = 0; i < 3; i++) {
            assertEquals("HTTP/1.1 401 Unauthorized", statusLine(open("POST " + AgentApi.DISCONNECT + " HTTP/1.1\r\n"
                    + "Host: agent\r\nContent-Length: 100000\r\n\r\n")));
        }
        assertEquals("HTTP/1.1 200 OK", authenticatedClients());
    }

    @Test
    void aSocketThatNeverFinishesItsHeadersIsClosedAfterTheRequestTimeout() throws IOException {
        start(1);
        Socket stalled = open("GET " + AgentApi.CLIENTS + " HTTP/1.1\r\nHost: ag");
        stalled.setSoTimeout((AgentHttpServer.REQUEST_TIMEOUT_SEC + 5) * 1000);
        int read;
        try {
            read = stalled.getInputStream().read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept a stalled socket open past its request timeout", e);
        } catch (IOException reset) {
            read = -1;
        }
        assertEquals(-1, read);
        // The only worker is free again.
        assertTrue(authenticatedClients().startsWith("HTTP/1.1 200"));
    }

    @Test
    void aKeepAliveConnectionServesRequestAfterRequest() throws IOException {
        start(AgentConfig.DEFAULT_THREADS);
        Socket s = open(AUTHENTICATED_GET);
        for (int i = 0; i < 3; i++) {
            String head = headOfAnswer(s);
            assertTrue(head.startsWith("http/1.1 200"), head);
            assertFalse(head.contains("connection: close"), head);
            if (i < 2) {
                s.getOutputStream().write(AUTHENTICATED_GET.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            }
        }
        // And the metrics page, on the same connection.
        s.getOutputStream().write(("GET " + AgentApi.METRICS + " HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        assertTrue(headOfAnswer(s).startsWith("http/1.1 200"));
    }

    @Test
    void aConnectionTheServerWillCloseSaysSo() throws IOException {
        start(1);
        // Refused with its announced body unread: the server drops the connection, and says it will.
        Socket s = open("POST " + AgentApi.DISCONNECT + " HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer wrong\r\n"
                + "Content-Length: 10\r\n\r\n");
        String head = headOfAnswer(s);
        assertTrue(head.startsWith("http/1.1 401"), head);
        assertTrue(head.contains("connection: close"), head);
        assertEquals(-1, s.getInputStream().read());
    }
}
