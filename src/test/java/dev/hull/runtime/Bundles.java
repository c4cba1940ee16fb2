package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.BusyboxRootfs;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Test bundles: a config.json from {@link DefaultSpec} (terminal off; the default confinement kept:
 * capabilities, noNewPrivileges, rlimits, maskedPaths, readonlyPaths) whose root.path is
 * the absolute path of one shared busybox rootfs under target/test-rootfs. Tests must never write
 * into that rootfs: by default it is used with "readonly": true and only existing directories are
 * mount targets (/mnt/a, /mnt/b, /out are made when the rootfs is built); {@link Bundle#overlay()}
 * puts a per-bundle overlay (annotation run.hull.rootfs.overlay) on top for tests that create
 * files or mount points. Every bundle bind-mounts its own host directory {@code out} (mode 0777)
 * on /out; {@link Bundle#script} runs {@code sh -c} with stdout and stderr sent to /out.
 */
final class Bundles {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static Path rootfs;

    private Bundles() {}

    static Path home() {
        return Path.of(System.getProperty("hull.home", System.getProperty("user.dir"))).toAbsolutePath();
    }

    /** The shared busybox rootfs (built once, reused across runs). */
    static synchronized Path rootfs() {
        if (rootfs == null) {
            try {
                Path dir = home().resolve("target/test-rootfs/busybox");
                BusyboxRootfs.ensure(dir);
                for (String d : new String[] {"mnt/a", "mnt/b", "out"}) {
                    Files.createDirectories(dir.resolve(d));
                }
                rootfs = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return rootfs;
    }

    /** A fresh directory under /tmp, traversable by everyone (user-namespace tests need that). */
    static Path tempDir(String prefix) {
        try {
            Path d = Files.createTempDirectory(Path.of("/tmp"), "hull-rt-" + prefix + "-");
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A unique container id. */
    static String id(String prefix) {
        return prefix + "-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
    }

    static Bundle create(Path parent, String name) {
        return new Bundle(parent.resolve(name + "-" + SEQ.incrementAndGet()));
    }

    /**
     * Removes a test class's directory; first force-deletes every container still recorded in its
     * state root (a failed test must not leave processes or cgroups behind).
     */
    static void cleanUp(Path base) {
        Path root = base.resolve("state");
        try {
            ContainerRuntime rt = new ContainerRuntime(root);
            for (String id : rt.store().ids()) {
                try {
                    rt.delete(id, true);
                } catch (RuntimeError | IOException e) {
                    System.err.println("cleanup of container " + id + " failed: " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        deleteTree(base);
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final class Bundle {
        final Path dir;
        final Path out;
        final ObjectNode config;

        Bundle(Path dir) {
            this.dir = dir;
            this.out = dir.resolve("out");
            try {
                Files.createDirectories(out);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
                Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            config = DefaultSpec.create(false);
            ObjectNode process = (ObjectNode) config.get("process");
            process.put("terminal", false);
            ObjectNode root = (ObjectNode) config.get("root");
            root.put("path", rootfs().toString());
            root.put("readonly", true);
            mount("/out", "bind", out.toString(), "rbind", "rw");
        }

        ObjectNode process() {
            return (ObjectNode) config.get("process");
        }

        ObjectNode linux() {
            return (ObjectNode) config.get("linux");
        }

        ArrayNode mounts() {
            return (ArrayNode) config.get("mounts");
        }

        ArrayNode namespaces() {
            return (ArrayNode) linux().get("namespaces");
        }

        Bundle args(String... args) {
            ArrayNode a = process().putArray("args");
            for (String s : args) {
                a.add(s);
            }
            return this;
        }

        /** Runs {@code script} with sh; its stdout and stderr go to out/stdout and out/stderr. */
        Bundle script(String script) {
            return args("sh", "-c", "exec </dev/null >/out/stdout 2>/out/stderr; " + script);
        }

        Bundle mount(String destination, String type, String source, String... options) {
            ObjectNode m = mounts().addObject();
            m.put("destination", destination);
            if (type != null) {
                m.put("type", type);
            }
            if (source != null) {
                m.put("source", source);
            }
            ArrayNode o = m.putArray("options");
            for (String s : options) {
                o.add(s);
            }
            return this;
        }

        Bundle withoutMount(String destination) {
            ArrayNode m = mounts();
            for (int i = m.size() - 1; i >= 0; i--) {
                if (m.get(i).path("destination").asText().equals(destination)) {
                    m.remove(i);
                }
            }
            return this;
        }

        /** Adds capabilities to the bounding, effective and permitted sets of the default spec. */
        Bundle addCaps(String... caps) {
            ObjectNode c = (ObjectNode) process().get("capabilities");
            for (String set : new String[] {"bounding", "effective", "permitted"}) {
                ArrayNode a = (ArrayNode) c.get(set);
                for (String cap : caps) {
                    a.add(cap);
                }
            }
            // The default seccomp profile follows the bounding capabilities (as the engine's does).
            ObjectNode linux = linux();
            if (linux.has("seccomp")) {
                java.util.List<String> bounding = new java.util.ArrayList<>();
                c.get("bounding").forEach(b -> bounding.add(b.asText()));
                linux.set("seccomp", dev.hull.linux.seccomp.DefaultSeccomp.profile(bounding));
            }
            return this;
        }

        Bundle namespace(String type, String path) {
            ObjectNode n = namespaces().addObject();
            n.put("type", type);
            if (path != null) {
                n.put("path", path);
            }
            return this;
        }

        /** Replaces the namespace entry of this type (or adds one); path null means a new namespace. */
        Bundle replaceNamespace(String type, String path) {
            ArrayNode ns = namespaces();
            for (int i = ns.size() - 1; i >= 0; i--) {
                if (ns.get(i).path("type").asText().equals(type)) {
                    ns.remove(i);
                }
            }
            return namespace(type, path);
        }

        /** A writable per-bundle overlay on top of the shared rootfs (root no longer read-only). */
        Bundle overlay() {
            try {
                Path upper = Files.createDirectories(dir.resolve("upper"));
                Path work = Files.createDirectories(dir.resolve("work"));
                (config.has("annotations") ? (ObjectNode) config.get("annotations") : config.putObject("annotations")).put(Annotations.ROOTFS_OVERLAY,
                        "lowerdir=" + rootfs() + ",upperdir=" + upper + ",workdir=" + work);
                ((ObjectNode) config.get("root")).put("readonly", false);
                return this;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Path upper() {
            return dir.resolve("upper");
        }

        Bundle write() {
            try {
                Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
                return this;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        String stdout() {
            return read("stdout");
        }

        String stderr() {
            return read("stderr");
        }

        private String read(String name) {
            try {
                Path p = out.resolve(name);
                assertThat(p).as("the container wrote %s", p).exists();
                return Files.readString(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
