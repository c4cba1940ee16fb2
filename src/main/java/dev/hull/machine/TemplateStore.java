package dev.hull.machine;

import dev.hull.image.ContentStore;
import dev.hull.image.Descriptor;
import dev.hull.image.Digest;
import dev.hull.image.FileLocks;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageRecord;
import dev.hull.image.LocalImage;
import dev.hull.image.ImageService;
import dev.hull.image.ImageStore;
import dev.hull.image.MediaTypes;
import dev.hull.runtime.RuntimeError;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Machine templates: a distribution's root filesystem built once with Debian's mmdebstrap and kept
 * as a one-layer image in Hull's image store ({@link Distro#image()}), so each machine is an
 * overlay over its unpacked layer (copy-on-write: a second create is as fast as any container's).
 * The image is recorded only after the whole build and the layer's digest are done: a killed build
 * leaves no template (its partial tar is removed by the next one), never half of one.
 */
public final class TemplateStore {
    /** What a template has besides Debian's required packages. */
    static final List<String> PACKAGES = List.of("systemd", "systemd-sysv", "dbus", "iproute2", "iputils-ping",
            "openssh-server", "ca-certificates", "procps", "less");

    /** Mends the fresh root for a machine (run by mmdebstrap with the root as $1). */
    static final List<String> HOOKS = List.of(
            // each machine gets its own id (systemd takes container_uuid when the file is empty)
            ": > \"$1/etc/machine-id\"; rm -f \"$1/var/lib/dbus/machine-id\"",
            // each machine its own ssh host keys, made at its first boot
            "rm -f \"$1\"/etc/ssh/ssh_host_*_key*",
            "printf '%s\\n' '[Unit]' 'Description=SSH host keys for this machine' 'Before=ssh.service'"
                    + " 'ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key' '[Service]' 'Type=oneshot'"
                    + " 'ExecStart=/usr/bin/ssh-keygen -A' '[Install]' 'WantedBy=multi-user.target'"
                    + " > \"$1/etc/systemd/system/hull-ssh-keygen.service\"",
            "chroot \"$1\" systemctl enable hull-ssh-keygen.service",
            "echo LANG=C.UTF-8 > \"$1/etc/default/locale\"");

    private final ImageService images;
    private final Path dir;

    public TemplateStore(ImageService images, Path home) {
        this.images = images;
        this.dir = home.resolve("machine").resolve("templates");
    }

    /** The template image of distro, built first if the store has none. */
    public ImageRecord ensure(Distro distro, java.io.PrintStream progress) throws IOException, RuntimeError {
        var found = images.store().find(distro.image());
        if (found.isPresent()) {
            return found.get();
        }
        Files.createDirectories(dir);
        String key = distro.name() + "-" + distro.version();
        try (Closeable building = FileLocks.exclusive(dir.resolve(key + ".lock"))) {
            found = images.store().find(distro.image()); // built by another create meanwhile
            if (found.isPresent()) {
                return found.get();
            }
            Path tar = dir.resolve(key + ".tar.partial");
            Files.deleteIfExists(tar); // what a killed build left
            Path log = dir.resolve(key + ".log");
            progress.println("hull: building the " + distro + " template with mmdebstrap (once; log: " + log + ")");
            long t0 = System.nanoTime();
            try {
                mmdebstrap(distro, tar, log);
                ImageRecord r = importTar(distro, tar);
                progress.printf("hull: template %s built in %.0f s%n", distro, (System.nanoTime() - t0) / 1e9);
                return r;
            } finally {
                Files.deleteIfExists(tar);
            }
        }
    }

    private static void mmdebstrap(Distro distro, Path tar, Path log) throws IOException, RuntimeError {
        String mirror = AptSources.debianMirror(Path.of("/etc/apt"));
        List<String> cmd = new ArrayList<>(List.of("mmdebstrap", "--mode=root", "--format=tar", "--variant=apt",
                "--include=" + String.join(",", PACKAGES)));
        String proxy = AptSources.httpProxy();
        if (proxy != null) {
            cmd.add("--aptopt=Acquire::http::Proxy \"" + proxy + "\"");
        }
        for (String h : HOOKS) {
            cmd.add("--customize-hook=" + h);
        }
        cmd.add(distro.suite());
        cmd.add(tar.toString());
        cmd.add("deb " + mirror + " " + distro.suite() + " main");
        cmd.add("deb " + mirror + " " + distro.suite() + "-updates main");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        } catch (IOException e) {
            throw new RuntimeError(RuntimeError.Kind.FAILED, "--distro " + distro + ": cannot run mmdebstrap ("
                    + e.getMessage() + "): install it with apt-get install mmdebstrap");
        }
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new RuntimeError(RuntimeError.Kind.FAILED, "building the " + distro + " template: interrupted");
        }
        if (code != 0) {
            List<String> lines = Files.readAllLines(log);
            String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
            throw new RuntimeError(RuntimeError.Kind.FAILED, "building the " + distro + " template: mmdebstrap"
                    + " exited with " + code + " (mirror " + mirror + "; log " + log + "):\n" + tail);
        }
    }

    /** The tar as the one (uncompressed) layer of an image named distro.image(), running /sbin/init. */
    private ImageRecord importTar(Distro distro, Path tar) throws IOException {
        ImageStore store = images.store();
        try (Closeable lease = images.lease()) {
            MessageDigest md = Digest.sha256();
            try (InputStream in = Files.newInputStream(tar)) {
                byte[] buf = new byte[1 << 20];
                for (int n; (n = in.read(buf)) > 0;) {
                    md.update(buf, 0, n);
                }
            }
            Digest layer = Digest.of("sha256", md);
            long size = Files.size(tar);
            try (ContentStore.Writer w = store.content().writer(layer, size)) {
                if (!w.complete()) {
                    w.truncate();
                    Files.copy(tar, w.stream());
                    w.commit();
                }
            }
            return LocalImage.record(store, distro.image(), new Descriptor(MediaTypes.OCI_LAYER, layer, size), layer,
                    new ImageConfig.Config(null, null,
                            List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), null,
                            List.of("/sbin/init"), null, null, Map.of(Machines.LABEL_DISTRO, distro.toString()),
                            Machines.STOP_SIGNAL),
                    Instant.now().toString(), "hull: mmdebstrap " + distro.suite() + " with " + String.join(",", PACKAGES));
        }
    }
}
