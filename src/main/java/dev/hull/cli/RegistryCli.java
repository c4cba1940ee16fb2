package dev.hull.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.engine.Engine;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import dev.hull.image.registry.DockerCredentials;
import dev.hull.image.registry.Puller;
import dev.hull.image.registry.Pusher;
import dev.hull.image.registry.RegistryClient;
import dev.hull.image.registry.RegistryOptions;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull pull}, {@code push}, {@code login}, {@code logout}. */
final class RegistryCli {
    private RegistryCli() {}

    /** How to reach registries: options shared by every command that talks to one. */
    static final class Access {
        @Option(names = "--tls-verify", arity = "0..1", fallbackValue = "true", defaultValue = "true",
                description = "Verify the registry's TLS certificate; false also allows plain HTTP (local registries).")
        boolean tlsVerify = true;
        @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]",
                description = "Treat this registry as insecure (plain HTTP allowed, TLS not verified); repeatable.")
        List<String> insecure = new ArrayList<>();
        @Option(names = "--authfile", description = "Credentials file (default: $REGISTRY_AUTH_FILE, else"
                + " ~/.docker/config.json).")
        String authfile;
        @Option(names = "--cert-dir", description = "Directory of HOST[:PORT]/*.crt CA certificates (besides"
                + " /etc/containers/certs.d and /etc/docker/certs.d).")
        Path certDir;

        /**
         * Options from the flags and /etc/hull/registries.json ($HULL_REGISTRIES), whose
         * {"insecure": ["host:port"], "mirrors": {"docker.io": ["mirror.example:5000"]}} apply to every command.
         */
        RegistryOptions options(String registry) throws IOException {
            RegistryOptions.Builder b = RegistryOptions.builder()
                    .credentials(new DockerCredentials(DockerCredentials.resolvePath(authfile)));
            insecure.forEach(b::insecure);
            if (!tlsVerify && registry != null) {
                b.insecure(registry);
            }
            if (certDir != null) {
                List<Path> dirs = new ArrayList<>(RegistryOptions.DEFAULT_CERTS_DIRS);
                dirs.add(certDir);
                b.certsDirs(dirs);
            }
            String conf = dev.hull.runtime.Caller.environment().getOrDefault("HULL_REGISTRIES",
                    dev.hull.engine.Rootless.active() ? dev.hull.engine.Rootless.config().resolve("registries.json").toString()
                            : "/etc/hull/registries.json");
            Path confPath = dev.hull.runtime.Caller.resolve(Path.of(conf));
            // a file the caller named (HULL_REGISTRIES) is read with its rights; the host's own as it is
            boolean named = dev.hull.runtime.Caller.environment().containsKey("HULL_REGISTRIES")
                    && dev.hull.runtime.CallerFiles.restricted();
            if (named || Files.isRegularFile(confPath)) {
                JsonNode root;
                byte[] bytes = named ? dev.hull.runtime.CallerFiles.readAllBytes(confPath, "HULL_REGISTRIES=")
                        : Files.readAllBytes(confPath);
                try {
                    root = ImageCli.JSON.readTree(bytes);
                } catch (IOException e) {
                    throw new IOException(confPath + ": not valid JSON: " + e.getMessage(), e);
                }
                root.path("insecure").forEach(h -> b.insecure(h.asText()));
                root.path("mirrors").properties().forEach(e -> {
                    List<String> hosts = new ArrayList<>();
                    e.getValue().forEach(h -> hosts.add(h.asText()));
                    b.mirror(e.getKey(), hosts.toArray(String[]::new));
                });
            }
            return b.build();
        }
    }

    /**
     * Pulls ref (download, verify, record) and unpacks its layers; progress to out.
     * Shared by hull pull and by hull run for an image that is not here yet.
     */
    static ImageRecord pull(ImageService images, Access access, String text, Platform platform, boolean quiet,
            PrintStream out) throws IOException {
        Reference ref = Reference.parse(text);
        dev.hull.runtime.Trace trace = dev.hull.runtime.Trace.start();
        try (RegistryClient client = new RegistryClient(access.options(ref.registry()));
                Closeable lease = images.lease()) {
            var progress = quiet ? null : ProgressDisplay.forPull(out);
            if (!quiet) {
                out.println((ref.digest() != null ? ref.digest().toString() : ref.tag()) + ": Pulling from "
                        + ref.familiarName());
            }
            // Layers unpack as soon as their blobs are in, while the others still download.
            java.util.concurrent.ExecutorService unpackers = java.util.concurrent.Executors.newFixedThreadPool(2,
                    r -> {
                        Thread t = new Thread(r, "hull-pull-unpack");
                        t.setDaemon(true);
                        return t;
                    });
            List<java.util.concurrent.Future<?>> early = java.util.Collections.synchronizedList(new ArrayList<>());
            ImageRecord image;
            try {
                image = new Puller(client, images.store()).pull(ref, platform,
                        progress == null ? NO_PROGRESS : progress, (draft, index) -> early.add(unpackers.submit(
                                () -> images.snapshots().prepareLayer(draft, index, "image " + ref.familiar()))),
                        (draft, index) -> images.snapshots().streamLayer(draft, index, "image " + ref.familiar()));
                trace.mark("pull.download");
                for (var f : List.copyOf(early)) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        // unpacked again below, which reports the error
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted");
                    }
                }
            } finally {
                unpackers.shutdownNow();
                try {
                    unpackers.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            trace.mark("pull.unpack-overlapped");
            images.unpack(image);
            trace.mark("pull.unpack-rest");
            if (!quiet) {
                out.println("Digest: " + image.manifestDigest());
                out.println("Status: Downloaded " + ref.familiar());
            }
            out.println(quiet ? image.id() : ref.toString());
            return image;
        }
    }

    static final dev.hull.image.registry.PullProgress NO_PROGRESS = new dev.hull.image.registry.PullProgress() {
        @Override
        public void started(dev.hull.image.Descriptor layer, String shortId) {}

        @Override
        public void progress(dev.hull.image.Descriptor layer, long done, long total) {}

        @Override
        public void done(dev.hull.image.Descriptor layer, String status) {}
    };

    @Command(name = "pull", mixinStandardHelpOptions = true, description = {"Download an image from a registry, verify it and unpack its layers.", "",
        "Examples:", "  hull pull 127.0.0.1:5000/tools/app:1 --tls-verify=false",
        "  hull pull --platform linux/arm64 registry.example/app@sha256:…", "",
        "Interrupted pulls resume: finished layers are kept, a partial layer continues where it stopped."},
            sortOptions = false)
    static final class Pull implements Callable<Integer> {
        @Option(names = "--platform", paramLabel = "OS/ARCH[/VARIANT]", description = "Which image of a"
                + " multi-platform index (default: this machine's, linux/amd64 here).")
        String platform;
        @Option(names = {"-q", "--quiet"}, description = "No progress; print only the image id.")
        boolean quiet;
        @Mixin
        Access access = new Access();
        @Parameters(paramLabel = "IMAGE", description = "[REGISTRY/]REPOSITORY[:TAG|@DIGEST]")
        String image;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                Engine engine = Engine.defaults();
                ImageRecord r = pull(engine.images(), access, image,
                        platform == null ? Platform.host() : Platform.parse(platform), quiet, System.out);
                String ref = Reference.parse(image).familiar();
                dev.hull.engine.ImageEvents.record(engine, "pull", ref, ref, r); // docker's pull event
                return 0;
            });
        }
    }

    @Command(name = "push", mixinStandardHelpOptions = true, description = {"Upload an image to a registry.", "", "Examples:",
        "  hull tag busybox 127.0.0.1:5000/tools/busybox:1",
        "  hull push --tls-verify=false 127.0.0.1:5000/tools/busybox:1",
        "  hull push --tls-verify=false busybox 127.0.0.1:5000/tools/busybox:2"}, sortOptions = false)
    static final class Push implements Callable<Integer> {
        @Option(names = {"-q", "--quiet"}, description = "No progress; print only the manifest digest.")
        boolean quiet;
        @Mixin
        Access access = new Access();
        @Parameters(index = "0", paramLabel = "IMAGE")
        String image;
        @Parameters(index = "1", arity = "0..1", paramLabel = "DESTINATION",
                description = "Where to push (default: IMAGE's own name).")
        String destination;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                Engine engine = Engine.defaults();
                ImageService images = engine.images();
                ImageRecord record = images.get(image);
                Reference target = Reference.parse(destination != null ? destination : image);
                try (RegistryClient client = new RegistryClient(access.options(target.registry()))) {
                    if (!quiet) {
                        System.out.println("The push refers to repository [" + target.name() + "]");
                    }
                    Digest d = new Pusher(client, images.store()).push(record, target,
                            quiet ? NO_PROGRESS : ProgressDisplay.forPush(System.out));
                    System.out.println(quiet ? d.toString() : (target.tag() != null ? target.tag() : "")
                            + ": digest: " + d);
                }
                dev.hull.engine.ImageEvents.record(engine, "push", target.familiar(), target.familiar(), record);
                return 0;
            });
        }
    }

    @Command(name = "login", mixinStandardHelpOptions = true, description = {"Store credentials for a registry, after checking them against it.", "",
        "Example:", "  printf '%s' \"$TOKEN\" | hull login -u ci --password-stdin registry.example:5000"},
            sortOptions = false)
    static final class Login implements Callable<Integer> {
        @Option(names = {"-u", "--username"}, required = true)
        String user;
        @Option(names = {"-p", "--password"}, description = "The password (prefer --password-stdin: argv is visible"
                + " to other users).")
        String password;
        @Option(names = "--password-stdin", description = "Read the password from stdin.")
        boolean passwordStdin;
        @Mixin
        Access access = new Access();
        @Parameters(paramLabel = "REGISTRY")
        String registry;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                String pass = password;
                if (passwordStdin) {
                    pass = new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
                }
                if (pass == null) {
                    var console = System.console();
                    if (console == null) {
                        throw new IllegalArgumentException("no password: give --password-stdin or -p");
                    }
                    char[] p = console.readPassword("Password: ");
                    pass = p == null ? "" : new String(p);
                }
                DockerCredentials creds = new DockerCredentials(DockerCredentials.resolvePath(access.authfile));
                try (RegistryClient client = new RegistryClient(access.options(registry))) {
                    creds.login(client, registry, user, pass);
                }
                System.out.println("Login Succeeded (credentials in " + creds.file() + ")");
                return 0;
            });
        }
    }

    @Command(name = "logout", mixinStandardHelpOptions = true, description = "Remove stored credentials for a registry.")
    static final class Logout implements Callable<Integer> {
        @Option(names = "--authfile")
        String authfile;
        @Parameters(paramLabel = "REGISTRY")
        String registry;

        @Override
        public Integer call() {
            return ImageCli.guarded(() -> {
                DockerCredentials creds = new DockerCredentials(DockerCredentials.resolvePath(authfile));
                if (!creds.logout(registry)) {
                    System.err.println("hull: not logged in to " + registry);
                    return 1;
                }
                System.out.println("Removing login credentials for " + registry);
                return 0;
            });
        }
    }
}
