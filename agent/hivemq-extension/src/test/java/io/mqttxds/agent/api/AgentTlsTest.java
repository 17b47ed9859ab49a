package io.mqttxds.agent.api;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent over real TLS sockets, with certificates openssl makes for each test. */
class AgentTlsTest {
    private static final String TOKEN = "tls-test-token-0123456789";
    private static final int READ_BOUND_MS = 5_000;
    private static final String GET = "GET " + AgentApi.CLIENTS + " HTTP/1.1\r\nHost: agent\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n";

    private static final AgentApi.Broker BROKER = ApiTestSupport.EMPTY_BROKER;

    @TempDir
    Path dir;
    private final List<Socket> sockets = new ArrayList<>();
    private AgentHttpServer server;

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) s.close();
        if (server != null) server.stop(0);
    }

    private AgentHttpServer start(AgentTls tls, int threads) throws IOException {
        server = AgentHttpServer.start("127.0.0.1", 0, threads, new AgentApi(new BearerAuth(TOKEN), BROKER, "hivemq-0", "agent-test"), tls);
        return server;
    }

    /** A TLS client trusting {@code ca}, presenting {@code clientPair} (cert, key) when given. */
    private SSLSocket connect(Path ca, Path[] clientPair) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", AgentTls.certificates(ca, "CA").get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (clientPair != null) {
            List<X509Certificate> chain = AgentTls.certificates(clientPair[0], "client certificate");
            PrivateKey key = AgentTls.privateKey(clientPair[1], chain.get(0));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("client", key, new char[0], chain.toArray(new X509Certificate[0]));
            kmf = KeyManagerFactory.getInstance("NewSunX509");
            kmf.init(ks, new char[0]);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
        sockets.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", server.port()), READ_BOUND_MS);
        s.setSoTimeout(READ_BOUND_MS);
        return s;
    }

    /** Sends one request and reads its answer's status line and headers, consuming the body. */
    private static String ask(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        String head = ApiTestSupport.answerHead(s.getInputStream());
        return head.substring(0, head.indexOf('\r'));
    }

    private static String servedSerial(SSLSocket s) throws IOException {
        return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber().toString(16);
    }

    private static String serialOf(Path cert) throws Exception {
        return AgentTls.certificates(cert, "certificate").get(0).getSerialNumber().toString(16);
    }

    @Test
    void servesTheApiOverTlsWithItsCertificate() throws Exception {
        TestCa ca = new TestCa(dir, "server");
        Path[] pair = ca.issueServer("agent");
        start(AgentTls.load(pair[0], pair[1], null), 2);
        SSLSocket s = connect(ca.certFile, null);
        assertEquals("HTTP/1.1 200 OK", ask(s, GET));
        assertEquals(serialOf(pair[0]), servedSerial(s));
        // Keep-alive holds over TLS too.
        assertEquals("HTTP/1.1 200 OK", ask(s, GET));
    }

    @Test
    void withAClientCaOnlyCallersWithItsCertificatesGetIn() throws Exception {
        TestCa serverCa = new TestCa(dir, "server");
        TestCa clientCa = new TestCa(dir, "clients");
        TestCa otherCa = new TestCa(dir, "other");
        Path[] pair = serverCa.issueServer("agent");
        AgentTls tls = AgentTls.load(pair[0], pair[1], clientCa.certFile);
        assertTrue(tls.requiresClientCertificate());
        start(tls, 2);

        assertEquals("HTTP/1.1 200 OK", ask(connect(serverCa.certFile, clientCa.issue("control-plane", true, -0.001, 7)), GET));
        for (Path[] refused : new Path[][] {null, otherCa.issue("stranger", true, -0.001, 7)}) {
            SSLSocket s = connect(serverCa.certFile, refused);
            // TLS 1.3: the client's handshake ends before the server has judged its certificate, so the
            // refusal shows on the request: an alert, a closed connection or a broken pipe, never an answer.
            assertThrows(IOException.class, () -> ask(s, GET));
        }
    }

    @Test
    void rotatedFilesReachNewHandshakesWhileOpenConnectionsStay() throws Exception {
        TestCa ca = new TestCa(dir, "server");
        Path[] pair = ca.issueServer("agent");
        AgentTls tls = AgentTls.load(pair[0], pair[1], null);
        start(tls, 2);
        SSLSocket before = connect(ca.certFile, null);
        assertEquals("HTTP/1.1 200 OK", ask(before, GET));
        String first = servedSerial(before);
        assertNull(tls.reloadIfChanged(), "nothing changed yet");

        // A new pair written over the same files, as a Secret update does.
        Path[] next = ca.issueServer("agent-next");
        Files.copy(next[0], pair[0], java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(next[1], pair[1], java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        touch(pair);
        assertTrue(tls.reloadIfChanged().contains("serial " + serialOf(next[0])), tls.describe());

        SSLSocket after = connect(ca.certFile, null);
        assertEquals("HTTP/1.1 200 OK", ask(after, GET));
        assertEquals(serialOf(next[0]), servedSerial(after));
        assertNotEquals(first, servedSerial(after));
        assertEquals("HTTP/1.1 200 OK", ask(before, GET), "the connection opened before the rotation still works");
    }

    @Test
    void aBadRotationIsRefusedAndTheLastGoodPairStaysServed() throws Exception {
        TestCa ca = new TestCa(dir, "server");
        Path[] pair = ca.issueServer("agent");
        Path[] other = ca.issueServer("other");
        AgentTls tls = AgentTls.load(pair[0], pair[1], null);
        start(tls, 2);
        Files.copy(other[1], pair[1], java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        touch(pair);
        AgentTls.TlsException e = assertThrows(AgentTls.TlsException.class, tls::reloadIfChanged);
        assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());
        assertNull(tls.reloadIfChanged(), "the same bad files are reported once");
        SSLSocket s = connect(ca.certFile, null);
        assertEquals("HTTP/1.1 200 OK", ask(s, GET));
        assertEquals(serialOf(pair[0]), servedSerial(s));
    }

    @Test
    void badMaterialIsRefusedAtStartWithASentenceNamingIt() throws Exception {
        TestCa ca = new TestCa(dir, "server");
        Path[] pair = ca.issueServer("agent");
        Path sec1 = dir.resolve("sec1.key");
        ca.openssl("ec", "-in", pair[1].toString(), "-out", sec1.toString());
        assertTrue(refusal(pair[0], sec1, null).contains("openssl pkcs8 -topk8 -nocrypt"));

        Path[] expired = ca.issue("expired", false, -3, -1);
        assertTrue(refusal(expired[0], expired[1], null).contains("expired on"));
        Path[] future = ca.issue("future", false, 1, 3);
        assertTrue(refusal(future[0], future[1], null).contains("is not valid before"));

        Path garbage = dir.resolve("garbage.crt");
        Files.writeString(garbage, "not a certificate\n");
        assertTrue(refusal(garbage, pair[1], null).contains("holds no PEM certificate"));
        assertTrue(refusal(pair[0], dir.resolve("missing.key"), null).startsWith("cannot read the key file"));
        // A leaf is no CA: trusting it for callers would be a mistake, not a configuration.
        assertTrue(refusal(pair[0], pair[1], pair[0]).contains("is not a CA certificate"));
    }

    @Test
    void aSocketThatNeverStartsItsHandshakeHoldsNoWorkerForGood() throws Exception {
        TestCa ca = new TestCa(dir, "server");
        Path[] pair = ca.issueServer("agent");
        start(AgentTls.load(pair[0], pair[1], null), 1);
        for (int i = 0; i < 3; i++) {
            Socket silent = new Socket();
            sockets.add(silent);
            silent.connect(new InetSocketAddress("127.0.0.1", server.port()), READ_BOUND_MS);
        }
        SSLSocket s = connect(ca.certFile, null);
        s.setSoTimeout((AgentHttpServer.REQUEST_TIMEOUT_SEC + 5) * 1000);
        assertEquals("HTTP/1.1 200 OK", ask(s, GET));
    }

    private static String refusal(Path cert, Path key, Path ca) {
        return assertThrows(AgentTls.TlsException.class, () -> AgentTls.load(cert, key, ca)).getMessage();
    }

    /** Moves the files' modification time on, as a write a second later would. */
    private static void touch(Path[] files) throws IOException {
        for (Path f : files) Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 2_000));
    }
}
