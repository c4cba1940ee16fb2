package dev.hull.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.image.BusyboxRootfs;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.Annotations;
import dev.hull.runtime.ContainerRuntime;
import dev.hull.runtime.RuntimeError;
import dev.hull.runtime.spec.DefaultSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The escape tests' OCI-runtime fixture, for attacks that need a config.json the engine would not
 * write (a rootfs without Hull's /dev tmpfs, a sysctl): bundles on the shared busybox rootfs
 * (target/test-rootfs/busybox, never written: each bundle has its own overlay upper, where the
 * test puts the hostile image content), run in the foreground with {@link ContainerRuntime}. The
 * config is Hull's default spec (runc's: masked and read-only paths, 3 capabilities,
 * no_new_privs, the default seccomp profile). A {@link Canary} sits next to the bundles.
 */
final class RuntimeBox implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger SEQ = new AtomicInteger();
    final Path dir;
    final ContainerRuntime rt;
    final Canary canary;

    RuntimeBox(String name) throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "hull-escape-rt-" + name + "-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        rt = new ContainerRuntime(dir.resolve("state"));
        canary = new Canary(dir.resolve("canary"));
    }

    static synchronized Path rootfs() throws IOException {
        Path home = Path.of(System.getProperty("hull.home", System.getProperty("user.dir"))).toAbsolutePath();
        Path d = home.resolve("target/test-rootfs/busybox");
        BusyboxRootfs.ensure(d);
        return d;
    }

    Bundle bundle(String name) throws IOException {
        return new Bundle(dir.resolve(name + "-" + SEQ.incrementAndGet()));
    }

    String id(String prefix) {
        return prefix + "-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet();
    }

    /** Runs the bundle in the foreground: its exit code, or the RuntimeError that refused it. */
    Object run(Bundle b) throws IOException {
        b.write();
        try {
            return rt.run(id("esc"), b.dir, null, false, null);
        } catch (RuntimeError e) {
            return e;
        }
    }

    /** Creates and starts the bundle's container in the background (deleted at close); its id. */
    String detached(Bundle b) throws IOException, RuntimeError {
        b.write();
        String id = id("bg");
        rt.run(id, b.dir, null, true, null);
        return id;
    }

    final class Bundle {
        final Path dir;
        final Path out;
        final Path upper;
        final ObjectNode config;

        Bundle(Path dir) throws IOException {
            this.dir = dir;
            out = Files.createDirectories(dir.resolve("out"));
            upper = Files.createDirectories(dir.resolve("upper"));
            Path work = Files.createDirectories(dir.resolve("work"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxrwxrwx"));
            config = DefaultSpec.create(false);
            ((ObjectNode) config.get("process")).put("terminal", false);
            ObjectNode root = (ObjectNode) config.get("root");
            root.put("path", rootfs().toString());
            root.put("readonly", false);
            config.putObject("annotations").put(Annotations.ROOTFS_OVERLAY,
                    "lowerdir=" + rootfs() + ",upperdir=" + upper + ",workdir=" + work);
            mount("/out", "bind", out.toString(), "rbind", "rw");
        }

        ObjectNode linux() {
            return (ObjectNode) config.get("linux");
        }

        /** sh -c script, stdout and stderr to out/stdout, out/stderr. */
        Bundle script(String script) {
            ArrayNode a = ((ObjectNode) config.get("process")).putArray("args");
            a.add("sh").add("-c").add("exec </dev/null >/out/stdout 2>/out/stderr; " + script);
            return this;
        }

        Bundle mount(String destination, String type, String source, String... options) {
            ObjectNode m = ((ArrayNode) config.get("mounts")).addObject();
            m.put("destination", destination);
            m.put("type", type);
            m.put("source", source);
            ArrayNode o = m.putArray("options");
            for (String s : options) {
                o.add(s);
            }
            return this;
        }

        Bundle withoutMount(String destination) {
            ArrayNode m = (ArrayNode) config.get("mounts");
            for (int i = m.size() - 1; i >= 0; i--) {
                if (m.get(i).path("destination").asText().equals(destination)) {
                    m.remove(i);
                }
            }
            return this;
        }

        void write() throws IOException {
            Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
        }

        String stdout() throws IOException {
            Path p = out.resolve("stdout");
            return Files.exists(p) ? Files.readString(p) : "";
        }

        String stderr() throws IOException {
            Path p = out.resolve("stderr");
            return Files.exists(p) ? Files.readString(p) : "";
        }

        String describe() {
            try {
                return "--- stdout:\n" + stdout() + "--- stderr:\n" + stderr();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            for (String id : rt.store().ids()) {
                try {
                    rt.delete(id, true);
                } catch (RuntimeError | IOException e) {
                    System.err.println("cleanup of container " + id + ": " + e.getMessage());
                }
            }
        } finally {
            SnapshotStore.deleteTree(dir);
        }
    }
}
