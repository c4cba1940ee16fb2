package dev.hull.machine;

import dev.hull.engine.ContainerFiles;
import dev.hull.engine.Engine;
import dev.hull.runtime.RuntimeError;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * What {@code machine create} writes into a new machine's own layer before its first boot (through
 * the engine's {@link ContainerFiles}, which resolves every path inside the machine's root): root's
 * authorized ssh key, root's password (hashed on the host with {@code openssl passwd -6}).
 */
final class MachineSetup {
    private final ContainerFiles files;
    private final String id;

    MachineSetup(Engine engine, String id) {
        this.files = new ContainerFiles(engine);
        this.id = id;
    }

    /** /root/.ssh/authorized_keys (0600, in a 0700 directory) holding the public key file's lines. */
    void sshKey(Path keyFile) throws IOException, RuntimeError {
        String key = read(keyFile, "--ssh-key").strip();
        if (!key.matches("(?s)(ssh-|ecdsa-|sk-)\\S+ \\S+.*") || key.contains("PRIVATE KEY")) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--ssh-key " + keyFile + ": not an ssh public key"
                    + " (a line like: ssh-ed25519 AAAA... user@host)");
        }
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(tar)) {
            dir(out, "root/", 0700);
            dir(out, "root/.ssh/", 0700);
            file(out, "root/.ssh/authorized_keys", (key + "\n").getBytes(StandardCharsets.UTF_8), 0600, 0);
        }
        files.importTar(new ByteArrayInputStream(tar.toByteArray()), id, "/", new ContainerFiles.Options(false, true));
    }

    /** root's entry in /etc/shadow gets the file's first line as its password. */
    void rootPassword(Path passwordFile) throws IOException, RuntimeError {
        String password = read(passwordFile, "--root-password-file").lines().findFirst().orElse("");
        if (password.isEmpty()) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--root-password-file " + passwordFile
                    + ": the first line (the password) is empty");
        }
        String hash = hash(password);
        ByteArrayOutputStream current = new ByteArrayOutputStream();
        files.exportTar(id, "/etc/shadow", current, new ContainerFiles.Options(false, true));
        String shadow;
        int gid;
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(current.toByteArray()))) {
            TarArchiveEntry e = in.getNextEntry();
            gid = (int) e.getLongGroupId();
            shadow = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        StringBuilder next = new StringBuilder();
        for (String line : shadow.lines().toList()) {
            String[] f = line.split(":", -1);
            if (f[0].equals("root") && f.length > 2) {
                f[1] = hash;
                line = String.join(":", f);
            }
            next.append(line).append('\n');
        }
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(tar)) {
            file(out, "shadow", next.toString().getBytes(StandardCharsets.UTF_8), 0640, gid);
        }
        files.importTar(new ByteArrayInputStream(tar.toByteArray()), id, "/etc", new ContainerFiles.Options(false, true));
    }

    private static String hash(String password) throws IOException, RuntimeError {
        Process p = new ProcessBuilder("openssl", "passwd", "-6", "-stdin").start();
        p.getOutputStream().write((password + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (p.waitFor() != 0 || !out.startsWith("$6$")) {
                throw new RuntimeError(RuntimeError.Kind.FAILED, "--root-password-file: openssl passwd -6 failed: "
                        + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeError(RuntimeError.Kind.FAILED, "--root-password-file: interrupted");
        }
        return out;
    }

    private static String read(Path f, String flag) throws IOException, RuntimeError {
        try {
            return dev.hull.runtime.CallerFiles.readString(f, flag); // with the caller's rights
        } catch (NoSuchFileException e) {
            throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, flag + " " + f + ": no such file");
        }
    }

    private static void dir(TarArchiveOutputStream out, String name, int mode) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_DIR);
        e.setMode(mode | 040000);
        out.putArchiveEntry(e);
        out.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream out, String name, byte[] data, int mode, int gid)
            throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode | 0100000);
        e.setSize(data.length);
        e.setGroupId(gid);
        out.putArchiveEntry(e);
        out.write(data);
        out.closeArchiveEntry();
    }
}
