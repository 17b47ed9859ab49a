package io.mqttxds.agent.api;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The agent's TLS: a server certificate chain and its key, and optionally the CA that every
 * caller's certificate must chain to (mTLS). Files are PEM as cert-manager and openssl 3
 * write them: the key unencrypted PKCS#8 ("BEGIN PRIVATE KEY"). Everything is checked before
 * it is served (parses, key matches certificate, in its validity period, CA is a CA), so a
 * bad file is refused with a sentence naming it.
 *
 * <p>{@link #reloadIfChanged} re-reads the files when they change: new handshakes get the
 * new pair and CA, connections already open keep theirs, and a bad replacement is refused
 * while the last good one stays served.
 */
public final class AgentTls {
    /** Larger than any real chain: a file this big is not PEM material. */
    static final int MAX_PEM_BYTES = 1024 * 1024;
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

    /** Why TLS material was refused, as a sentence for HiveMQ's log. */
    public static final class TlsException extends Exception {
        TlsException(String message) {
            super(message);
        }
    }

    private final Path certFile;
    private final Path keyFile;
    private final Path clientCaFile;
    private final Delegating delegating = new Delegating();
    private final SSLContext context;
    private String stamp;

    private AgentTls(Path certFile, Path keyFile, Path clientCaFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.clientCaFile = clientCaFile;
        try {
            context = SSLContext.getInstance("TLS");
            context.init(new KeyManager[] {delegating.keys},
                    clientCaFile == null ? null : new TrustManager[] {delegating.trust}, new SecureRandom());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no TLS: " + e.getMessage(), e);
        }
    }

    /** Reads and checks the files; throws with a sentence naming the file and what is wrong. */
    public static AgentTls load(Path certFile, Path keyFile, Path clientCaFile) throws TlsException {
        AgentTls tls = new AgentTls(Objects.requireNonNull(certFile), Objects.requireNonNull(keyFile), clientCaFile);
        tls.stamp = tls.stampOfFiles();
        tls.delegating.install(tls.read(System.currentTimeMillis()));
        return tls;
    }

    public SSLContext context() {
        return context;
    }

    /** True when callers must present a certificate from the client CA. */
    public boolean requiresClientCertificate() {
        return clientCaFile != null;
    }

    /** What is served now, for the log: the leaf's subject, serial and expiry. */
    public String describe() {
        return delegating.current().description;
    }

    /**
     * Re-reads the files if any of them changed since the last read (modification time or
     * size). Returns the new description, or null when nothing changed. A bad new set
     * throws, the last good one stays served, and the same bad set is not reported again.
     */
    public synchronized String reloadIfChanged() throws TlsException {
        String now = stampOfFiles();
        if (now.equals(stamp)) return null;
        stamp = now;
        Material m = read(System.currentTimeMillis());
        delegating.install(m);
        return m.description;
    }

    private String stampOfFiles() {
        StringBuilder b = new StringBuilder();
        for (Path p : clientCaFile == null ? List.of(certFile, keyFile) : List.of(certFile, keyFile, clientCaFile)) {
            try {
                b.append(Files.getLastModifiedTime(p).toMillis()).append('/').append(Files.size(p)).append(';');
            } catch (IOException e) {
                b.append("missing;");
            }
        }
        return b.toString();
    }

    private Material read(long nowMs) throws TlsException {
        List<X509Certificate> chain = certificates(certFile, "certificate file");
        X509Certificate leaf = chain.get(0);
        try {
            leaf.checkValidity(new java.util.Date(nowMs));
        } catch (CertificateExpiredException e) {
            throw new TlsException("the certificate in " + certFile + " expired on " + leaf.getNotAfter().toInstant());
        } catch (CertificateNotYetValidException e) {
            throw new TlsException("the certificate in " + certFile + " is not valid before " + leaf.getNotBefore().toInstant());
        }
        PrivateKey key = privateKey(keyFile, leaf);
        char[] none = new char[0];
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("agent", key, none, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("NewSunX509");
            kmf.init(ks, none);
            X509ExtendedKeyManager keys = (X509ExtendedKeyManager) kmf.getKeyManagers()[0];
            X509ExtendedTrustManager trust = null;
            if (clientCaFile != null) {
                List<X509Certificate> cas = certificates(clientCaFile, "client CA file");
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                for (int i = 0; i < cas.size(); i++) {
                    if (cas.get(i).getBasicConstraints() < 0) {
                        throw new TlsException("certificate " + i + " in " + clientCaFile + " (" + cas.get(i).getSubjectX500Principal()
                                + ") is not a CA certificate (no basicConstraints CA:TRUE)");
                    }
                    ts.setCertificateEntry("ca-" + i, cas.get(i));
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
                tmf.init(ts);
                trust = (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
            }
            String description = "certificate " + leaf.getSubjectX500Principal() + " serial " + leaf.getSerialNumber().toString(16)
                    + " valid until " + leaf.getNotAfter().toInstant()
                    + (clientCaFile == null ? "" : "; callers need a certificate from " + clientCaFile);
            return new Material(keys, trust, description);
        } catch (IOException | GeneralSecurityException e) {
            throw new TlsException("cannot build TLS from " + certFile + " and " + keyFile + ": " + e.getMessage());
        }
    }

    /** Every certificate in a PEM file, in order; at least one. */
    static List<X509Certificate> certificates(Path file, String what) throws TlsException {
        String text = readPem(file, what);
        List<X509Certificate> certs = new ArrayList<>();
        Matcher m = PEM.matcher(text);
        CertificateFactory factory;
        try {
            factory = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
        while (m.find()) {
            if (!m.group(1).equals("CERTIFICATE")) continue;
            try {
                certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der(m.group(2)))));
            } catch (CertificateException | IllegalArgumentException e) {
                throw new TlsException("certificate " + certs.size() + " in the " + what + " " + file + " is not a valid certificate: " + e.getMessage());
            }
        }
        if (certs.isEmpty()) throw new TlsException("the " + what + " " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return certs;
    }

    /** The PKCS#8 key of {@code leaf}; refuses other PEM key forms with the command that converts them. */
    static PrivateKey privateKey(Path file, X509Certificate leaf) throws TlsException {
        String text = readPem(file, "key file");
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            if (type.equals("ENCRYPTED PRIVATE KEY")) {
                throw new TlsException("the key in " + file + " is encrypted; the agent reads an unencrypted PKCS#8 key "
                        + "(openssl pkcs8 -topk8 -nocrypt -in " + file + "), kept in a Secret");
            }
            if (type.endsWith(" PRIVATE KEY")) {
                throw new TlsException("the key in " + file + " is \"" + type + "\" PEM; the agent reads PKCS#8 (\"PRIVATE KEY\"): "
                        + "convert it with openssl pkcs8 -topk8 -nocrypt -in " + file);
            }
            if (!type.equals("PRIVATE KEY")) continue;
            String algorithm = leaf.getPublicKey().getAlgorithm();
            PrivateKey key;
            try {
                key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der(m.group(2))));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new TlsException("the key in " + file + " is not a " + algorithm + " key for the certificate: " + e.getMessage());
            }
            checkMatch(key, leaf, file);
            return key;
        }
        throw new TlsException("the key file " + file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    }

    /** Signs with the key and verifies with the certificate: a key from another pair fails here, not in a caller's handshake. */
    private static void checkMatch(PrivateKey key, X509Certificate leaf, Path file) throws TlsException {
        String algorithm;
        switch (key.getAlgorithm()) {
            case "RSA":
                algorithm = "SHA256withRSA";
                break;
            case "EC":
                algorithm = "SHA256withECDSA";
                break;
            case "Ed25519":
            case "EdDSA":
                algorithm = "Ed25519";
                break;
            default:
                return;
        }
        byte[] probe = "mqtt-xds agent key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(probe);
            if (verifier.verify(signature)) return;
        } catch (GeneralSecurityException e) {
            // a key of another curve or size fails the same way
        }
        throw new TlsException("the key in " + file + " does not belong to the certificate " + leaf.getSubjectX500Principal()
                + "; give the key that was issued with it");
    }

    private static String readPem(Path file, String what) throws TlsException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_PEM_BYTES + 1);
            if (bytes.length > MAX_PEM_BYTES) throw new TlsException("the " + what + " " + file + " is over " + MAX_PEM_BYTES + " bytes: not PEM material");
            return new String(bytes, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new TlsException("cannot read the " + what + " " + file + ": " + e.getMessage());
        }
    }

    private static byte[] der(String base64) {
        return Base64.getMimeDecoder().decode(base64);
    }

    /** One generation of served material. */
    private static final class Material {
        final X509ExtendedKeyManager keys;
        final X509ExtendedTrustManager trust;
        final String description;

        Material(X509ExtendedKeyManager keys, X509ExtendedTrustManager trust, String description) {
            this.keys = keys;
            this.trust = trust;
            this.description = description;
        }
    }

    /**
     * The key and trust managers the SSLContext holds for good; they ask the current
     * generation. A handshake picks an alias and then asks for that alias's chain and key, so
     * aliases carry their generation and the last few generations stay reachable: a swap
     * between the two calls cannot pair one generation's chain with another's key.
     */
    private static final class Delegating {
        private static final int KEPT = 4;
        private final Map<Integer, Material> generations = new LinkedHashMap<>();
        private volatile Material current;
        private volatile int generation;

        synchronized void install(Material m) {
            generation++;
            generations.put(generation, m);
            while (generations.size() > KEPT) generations.remove(generations.keySet().iterator().next());
            current = m;
        }

        Material current() {
            return current;
        }

        private synchronized Material of(String alias) {
            if (alias == null) return null;
            int colon = alias.indexOf(':');
            if (colon < 0) return null;
            try {
                return generations.get(Integer.parseInt(alias.substring(0, colon)));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        private static String inner(String alias) {
            return alias.substring(alias.indexOf(':') + 1);
        }

        private String tag(String alias) {
            return alias == null ? null : generation + ":" + alias;
        }

        final X509ExtendedKeyManager keys = new X509ExtendedKeyManager() {
            @Override
            public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                synchronized (Delegating.this) {
                    return tag(current.keys.chooseEngineServerAlias(keyType, issuers, engine));
                }
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                synchronized (Delegating.this) {
                    return tag(current.keys.chooseServerAlias(keyType, issuers, socket));
                }
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                Material m = of(alias);
                return m == null ? null : m.keys.getCertificateChain(inner(alias));
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                Material m = of(alias);
                return m == null ? null : m.keys.getPrivateKey(inner(alias));
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return null;
            }

            @Override
            public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
                return null;
            }
        };

        final X509ExtendedTrustManager trust = new X509ExtendedTrustManager() {
            private X509ExtendedTrustManager now() throws CertificateException {
                X509ExtendedTrustManager t = current.trust;
                if (t == null) throw new CertificateException("no client CA is configured");
                return t;
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                now().checkClientTrusted(chain, authType, engine);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                now().checkClientTrusted(chain, authType, socket);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                now().checkClientTrusted(chain, authType);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                throw new CertificateException("the agent is never a TLS client");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                throw new CertificateException("the agent is never a TLS client");
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("the agent is never a TLS client");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                X509TrustManager t = current.trust;
                return t == null ? new X509Certificate[0] : t.getAcceptedIssuers();
            }
        };
    }
}
