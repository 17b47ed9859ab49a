package io.mqttxds.agent.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * One read of a small /proc or cgroupfs file, as a value: its text, or missing, or a
 * problem sentence. Never throws. Reads are capped, since /proc files report size 0 and a
 * wrong path could point anywhere.
 */
final class SmallFile {
    /** cgroup control files and /proc/self/cgroup are a few hundred bytes. */
    static final int CAP_BYTES = 64 * 1024;
    /** mountinfo lists every mount: a busy host can have thousands (the lookup is cached). */
    static final int MOUNTINFO_CAP_BYTES = 1024 * 1024;

    private static final SmallFile MISSING = new SmallFile(null, null);

    /** The content, or null when the file is missing or could not be read. */
    final String text;
    /** Why the file could not be read, or null. */
    final String problem;

    private SmallFile(String text, String problem) {
        this.text = text;
        this.problem = problem;
    }

    boolean missing() {
        return text == null && problem == null;
    }

    static SmallFile read(Path path) {
        return read(path, CAP_BYTES);
    }

    static SmallFile read(Path path, int capBytes) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] bytes = in.readNBytes(capBytes + 1);
            if (bytes.length > capBytes) return new SmallFile(null, path + " is larger than " + capBytes + " bytes");
            return new SmallFile(new String(bytes, StandardCharsets.UTF_8), null);
        } catch (NoSuchFileException e) {
            return MISSING;
        } catch (IOException | RuntimeException e) {
            return new SmallFile(null, "cannot read " + path + ": " + e);
        }
    }
}
