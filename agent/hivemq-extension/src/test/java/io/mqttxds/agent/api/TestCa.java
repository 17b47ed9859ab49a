package io.mqttxds.agent.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** A CA made by openssl for one test, and the leaf certificates it signs. Nothing is committed. */
final class TestCa {
    final Path dir;
    final Path certFile;
    private final Path keyFile;
    private int serial = 1;

    TestCa(Path dir, String name) throws IOException {
        this.dir = dir;
        this.certFile = dir.resolve(name + "-ca.crt");
        this.keyFile = dir.resolve(name + "-ca.key");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile.toString(),
                "-out", certFile.toString(), "-days", "30", "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Files.writeString(dir.resolve("index-" + name + ".txt"), "");
        Files.writeString(dir.resolve(name + ".cnf"), String.join("\n", "[ca]", "default_ca = d", "[d]", "database = index-" + name + ".txt",
                "new_certs_dir = .", "serial = serial-" + name, "default_md = sha256", "policy = p", "unique_subject = no",
                "copy_extensions = none", "[p]", "commonName = supplied", ""));
        this.name = name;
    }

    private final String name;

    /** A leaf for 127.0.0.1 valid from {@code startDays} to {@code endDays} from now; its files are {@code <leaf>.crt} and {@code <leaf>.key}. */
    Path[] issue(String leaf, boolean client, double startDays, double endDays) throws IOException {
        Path key = dir.resolve(leaf + ".key");
        Path csr = dir.resolve(leaf + ".csr");
        Path cert = dir.resolve(leaf + ".crt");
        Path ext = dir.resolve(leaf + ".ext");
        Files.writeString(ext, "basicConstraints=CA:FALSE\nextendedKeyUsage=" + (client ? "clientAuth" : "serverAuth")
                + "\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.toString(), "-out", csr.toString(),
                "-subj", "/CN=" + leaf);
        Files.writeString(dir.resolve("serial-" + name), String.format("%04x%n", 0x1000 + serial++));
        openssl("ca", "-batch", "-config", name + ".cnf", "-in", csr.toString(), "-out", cert.toString(), "-cert", certFile.toString(),
                "-keyfile", keyFile.toString(), "-extfile", ext.toString(), "-startdate", stamp(startDays), "-enddate", stamp(endDays), "-notext");
        return new Path[] {cert, key};
    }

    Path[] issueServer(String leaf) throws IOException {
        return issue(leaf, false, -1.0 / 1440, 7);
    }

    private static String stamp(double days) {
        return DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC)
                .format(Instant.now().plusSeconds((long) (days * 86_400)));
    }

    /** Runs openssl in the CA's folder; its error output becomes the exception's message. */
    void openssl(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) throw new IOException("openssl " + String.join(" ", args) + " failed: " + out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
