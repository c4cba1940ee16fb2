package dev.hull.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.Engine;
import dev.hull.image.Descriptor;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.ImageStore;
import dev.hull.image.Reference;
import dev.hull.image.SnapshotRecord;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hull images}, {@code hull image …}, {@code hull rmi}, {@code hull tag}, {@code hull system check}. */
final class ImageCli {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ImageCli() {}

    /** Runs body, turning errors into "hull: message" and exit code 1, as docker's image commands do. */
    static int guarded(Callable<Integer> body) {
        try {
            return body.call();
        } catch (IllegalArgumentException e) {
            System.err.println("hull: " + e.getMessage());
            return 125;
        } catch (Exception e) {
            System.err.println("hull: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 1;
        }
    }

    @Command(name = "images", mixinStandardHelpOptions = true, description = {"List images.", "",
        "Filters (repeatable; values of one key: any; keys: all): dangling=true|false, reference=PATTERN (REPO or"
            + " REPO:TAG, * within a path part), label=KEY[=VALUE], before=IMAGE, since=IMAGE.", "",
        "Examples:", "  hull images", "  hull images --format json", "  hull images -q busybox",
        "  hull images -f dangling=true -q", "  hull images --filter 'reference=app*:1*'"}, sortOptions = false)
    static final class Images implements Callable<Integer> {
        @Option(names = {"-a", "--all"}, description = "Every image (Hull keeps no intermediate images: the same"
                + " list; accepted for docker's habit).")
        boolean all;
        @Option(names = {"-f", "--filter"}, paramLabel = "KEY=VALUE", description = "Filter (repeatable).")
        List<String> filters = new ArrayList<>();
        @Option(names = {"-q", "--quiet"}, description = "Only image ids.")
        boolean quiet;
        @Option(names = "--digests", description = "Show repo digests.")
        boolean digests;
        @Option(names = "--no-trunc", description = "Full image ids.")
        boolean noTrunc;
        @Option(names = "--format", defaultValue = "table", description = "table (default), table TEMPLATE, json (one"
                + " object per line) or a Go template over docker's fields: {{.ID}} {{.Repository}} {{.Tag}}"
                + " {{.Digest}} {{.CreatedSince}} {{.CreatedAt}} {{.Size}}.")
        String format;
        @Parameters(arity = "0..1", paramLabel = "REPOSITORY", description = "Only images of this repository.")
        String repository;

        @Override
        public Integer call() {
            return guarded(() -> {
                ImageService images = Engine.defaults().images();
                ImageStore.Metadata m = images.store().read();
                String repoFilter = repository == null ? null : Reference.parse(repository).name();
                ImageFilter filter = ImageFilter.of(filters, images);
                List<Row> rows = new ArrayList<>();
                for (ImageRecord r : m.images.values()) {
                    long size = unpackedSize(m, r);
                    if (r.names().isEmpty()) {
                        if (repoFilter == null && filter.test(r, null, images)) {
                            rows.add(new Row(r, "<none>", "<none>", digestOf(r, null), size));
                        }
                        continue;
                    }
                    for (String n : r.names()) {
                        Reference ref = Reference.parse(n);
                        if ((repoFilter == null || repoFilter.equals(ref.name()))
                                && filter.test(r, ref.familiarName() + ":" + ref.tag(), images)) {
                            rows.add(new Row(r, ref.familiarName(), ref.tag(), digestOf(r, ref.name()), size));
                        }
                    }
                }
                rows.sort((a, b) -> b.image.created() == null || a.image.created() == null ? 0
                        : b.image.created().compareTo(a.image.created()));
                PrintStream out = System.out;
                if (quiet) {
                    rows.stream().map(r -> noTrunc ? r.image.id() : r.image.digest().shortHex()).distinct()
                            .forEach(out::println);
                    return 0;
                }
                if (Listing.isJson(format)) {
                    for (Row row : rows) {
                        ObjectNode o = JSON.createObjectNode();
                        o.put("Id", row.image.id());
                        o.put("Repository", row.repo);
                        o.put("Tag", row.tag);
                        o.put("Digest", row.digest);
                        o.put("Created", row.image.created());
                        o.put("Size", row.size);
                        ArrayNode names = o.putArray("Names");
                        row.image.names().forEach(names::add);
                        out.println(JSON.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o));
                    }
                    return 0;
                }
                Listing listing = Listing.of(format, digests ? Rows.IMAGES_DIGESTS_TABLE : Rows.IMAGES_TABLE,
                        Rows.IMAGES_HEADERS);
                for (Row row : rows) {
                    String size = ImageService.humanSize(row.size);
                    listing.add(new dev.hull.cli.format.GoStruct("*formatter.ImageContext")
                            .value("ID", noTrunc ? row.image.id() : row.image.digest().shortHex())
                            .value("Repository", row.repo).value("Tag", row.tag)
                            .value("Digest", row.digest == null ? "<none>" : row.digest)
                            .value("CreatedSince", ago(row.image.created()))
                            .value("CreatedAt", Rows.goTime(row.image.created()))
                            .value("Size", size).value("VirtualSize", size).value("SharedSize", "N/A")
                            .value("UniqueSize", "N/A").value("Containers", "N/A"));
                }
                listing.print();
                return 0;
            });
        }

        private record Row(ImageRecord image, String repo, String tag, String digest, long size) {}

        private static String digestOf(ImageRecord r, String name) {
            for (String d : r.repoDigests()) {
                if (name == null || d.startsWith(name + "@")) {
                    return d.substring(d.indexOf('@') + 1);
                }
            }
            return null;
        }
    }

    /** Unpacked size when every layer is unpacked, else the compressed size. */
    static long unpackedSize(ImageStore.Metadata m, ImageRecord r) {
        long total = 0;
        for (String chain : r.chainIds()) {
            SnapshotRecord s = m.snapshots.get(chain);
            if (s == null) {
                return r.size();
            }
            total += s.size();
        }
        return total;
    }

    /** "3 days ago", as docker prints times. */
    static String ago(String iso) {
        if (iso == null) {
            return "N/A";
        }
        try {
            Duration d = Duration.between(Instant.parse(iso), Instant.now());
            long s = d.getSeconds();
            if (s < 60) {
                return "Less than a minute ago";
            }
            if (s < 3600) {
                return (s / 60) + " minutes ago";
            }
            if (s < 86400 * 2) {
                return (s / 3600) + " hours ago";
            }
            if (s < 86400 * 14) {
                return (s / 86400) + " days ago";
            }
            if (s < 86400 * 60) {
                return (s / 86400 / 7) + " weeks ago";
            }
            if (s < 86400 * 730) {
                return (s / 86400 / 30) + " months ago";
            }
            return (s / 86400 / 365) + " years ago";
        } catch (RuntimeException e) {
            return iso;
        }
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true, description = {"Show images' details as JSON (docker's fields: Id, RepoTags,"
        + " RepoDigests, Created, Architecture, Os, Config, RootFS, Size; and Hull's Manifest and Layers)."})
    static final class Inspect implements Callable<Integer> {
        @Option(names = {"-f", "--format"}, description = "A Go template: {{.Id}}, {{json .Config.Env}}.")
        String format;
        @Parameters(arity = "1..*", paramLabel = "IMAGE")
        List<String> images;

        @Override
        public Integer call() {
            return guarded(() -> {
                ImageService svc = Engine.defaults().images();
                ImageStore.Metadata m = svc.store().read();
                return ContainerCli.printInspected(images, format, text -> {
                    try {
                        return inspect(svc, m, text);
                    } catch (dev.hull.image.ImageNotFoundException e) {
                        throw new dev.hull.runtime.RuntimeError(dev.hull.runtime.RuntimeError.Kind.NOT_FOUND,
                                e.getMessage());
                    }
                });
            });
        }
    }

    /** An image as docker's image inspect shows it (and Hull's manifest and layers under "Hull"). */
    static ObjectNode inspect(ImageService svc, ImageStore.Metadata m, String text) throws java.io.IOException {
        ImageRecord r = ImageStore.find(m, text).orElseThrow(() -> new dev.hull.image.ImageNotFoundException(text));
        ImageConfig c = svc.config(r);
        ObjectNode o = JSON.createObjectNode();
        o.put("Id", r.id());
        ArrayNode tags = o.putArray("RepoTags");
        r.names().forEach(n -> tags.add(Reference.parse(n).familiar()));
        ArrayNode rd = o.putArray("RepoDigests");
        r.repoDigests().forEach(rd::add);
        o.put("Created", c.created());
        o.put("Author", c.author());
        o.put("Architecture", c.architecture());
        if (c.variant() != null) {
            o.put("Variant", c.variant());
        }
        o.put("Os", c.os());
        o.put("Size", unpackedSize(m, r));
        o.set("Config", JSON.valueToTree(c.config()));
        ObjectNode rootfs = o.putObject("RootFS");
        rootfs.put("Type", "layers");
        ArrayNode layers = rootfs.putArray("Layers");
        r.diffIds().forEach(layers::add);
        ObjectNode hull = o.putObject("Hull");
        hull.put("ManifestDigest", r.manifestDigest());
        hull.put("ManifestMediaType", r.manifestMediaType());
        ArrayNode blobs = hull.putArray("Layers");
        for (Descriptor d : r.layers()) {
            blobs.add(JSON.valueToTree(d));
        }
        hull.put("Added", r.added());
        return o;
    }

    @Command(name = "rmi", mixinStandardHelpOptions = true, description = {"Remove images.", "",
        "A name of an image that has other names is only untagged. An image a container uses is refused;"
            + " --force untags it and keeps its layers for the container. Blobs and layers no image uses are"
            + " deleted."})
    static final class Remove implements Callable<Integer> {
        @Option(names = {"-f", "--force"}, description = "Untag images that containers use; remove by id an image with several names.")
        boolean force;
        @Parameters(arity = "1..*", paramLabel = "IMAGE")
        List<String> images;

        @Override
        public Integer call() {
            return guarded(() -> {
                Engine engine = Engine.defaults();
                var before = dev.hull.engine.ImageEvents.before(engine, images);
                List<String> done = engine.images().remove(images, force, engine::imagesInUse);
                done.forEach(System.out::println);
                dev.hull.engine.ImageEvents.removed(engine, done, before); // docker's untag and delete events
                return 0;
            });
        }
    }

    @Command(name = "tag", mixinStandardHelpOptions = true, description = {"Give an image another name.", "", "Example:",
        "  hull tag busybox 127.0.0.1:5000/tools/busybox:1"})
    static final class Tag implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SOURCE")
        String source;
        @Parameters(index = "1", paramLabel = "TARGET")
        String target;

        @Override
        public Integer call() {
            return guarded(() -> {
                Engine engine = Engine.defaults();
                engine.images().tag(source, target);
                dev.hull.image.ImageRecord r = engine.images().getOrBuildBuiltin(target);
                dev.hull.engine.ImageEvents.record(engine, "tag", dev.hull.engine.ImageEvents.sha(r.id()),
                        dev.hull.image.Reference.parse(target).familiar(), r); // docker's tag event
                return 0;
            });
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true, description = {"Remove images without a name (all images no container uses with -a),"
        + " unused blobs and layers, and what interrupted pulls left behind."})
    static final class Prune implements Callable<Integer> {
        @Option(names = {"-a", "--all"}, description = "Remove every image no container uses.")
        boolean all;
        @Option(names = {"-f", "--force"}, description = "Don't ask (Hull never asks; accepted for docker habits).")
        boolean force;

        @Override
        public Integer call() {
            return guarded(() -> {
                Engine engine = Engine.defaults();
                engine.images().prune(all, engine::imagesInUse).forEach(System.out::println);
                return 0;
            });
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = {"Check the image store: every blob's content against its digest, every"
        + " image's blobs and layers; list leftovers of interrupted work.", "",
        "Exit status 0: consistent (leftovers are not damage); 1: problems found (--repair removes corrupt blobs,"
            + " stale records and leftovers; then pull damaged images again)."})
    static final class Check implements Callable<Integer> {
        @Option(names = "--repair", description = "Remove what is corrupt or left over.")
        boolean repair;
        @Option(names = "--format", defaultValue = "text", description = "text (default) or json.")
        String format;

        @Override
        public Integer call() {
            return guarded(() -> {
                ImageService.CheckReport r = Engine.defaults().images().check(repair);
                if (format.equals("json")) {
                    System.out.println(JSON.writeValueAsString(r));
                } else {
                    System.out.println("checked " + r.images() + " images, " + r.blobs() + " blobs, " + r.snapshots()
                            + " layers");
                    r.problems().forEach(p -> System.out.println("problem: " + p));
                    r.leftovers().forEach(p -> System.out.println("leftover: " + p));
                    System.out.println(r.problems().isEmpty() ? "no problems found" : r.problems().size() + " problems");
                }
                return r.problems().isEmpty() || repair ? 0 : 1;
            });
        }
    }

    @Command(name = "image", mixinStandardHelpOptions = true, description = "Manage images.")
    static final class ImageGroup {}

    /** hull image ls|inspect|rm|tag|prune: the same commands as the top-level ones, under docker's names. */
    static picocli.CommandLine imageGroup() {
        picocli.CommandLine group = new picocli.CommandLine(new ImageGroup());
        group.addSubcommand("ls", new picocli.CommandLine(new Images()));
        group.addSubcommand("inspect", new picocli.CommandLine(new Inspect()));
        group.addSubcommand("rm", new picocli.CommandLine(new Remove()));
        group.addSubcommand("tag", new picocli.CommandLine(new Tag()));
        group.addSubcommand("prune", new picocli.CommandLine(new Prune()));
        group.addSubcommand("pull", new picocli.CommandLine(new RegistryCli.Pull()));
        group.addSubcommand("push", new picocli.CommandLine(new RegistryCli.Push()));
        group.addSubcommand("load", new picocli.CommandLine(new ArchiveCli.Load()));
        group.addSubcommand("save", new picocli.CommandLine(new ArchiveCli.Save()));
        return group;
    }

    @Command(name = "system", mixinStandardHelpOptions = true, description = "Hull as a whole.", subcommands = {Check.class})
    static final class SystemGroup {}
}
