package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.Engine;
import dev.hull.image.ImageConfig;
import dev.hull.image.ImageNotFoundException;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.image.Platform;
import dev.hull.image.Reference;
import dev.hull.image.registry.DockerCredentials;
import dev.hull.image.registry.Puller;
import dev.hull.image.registry.RegistryClient;
import dev.hull.image.registry.RegistryException;
import dev.hull.image.registry.RegistryOptions;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** /images/...: list, inspect, pull (POST /images/create, streamed progress), tag, remove. */
final class Images {

    boolean route(Exchange x) throws Exception {
        if (x.is("GET", "images", "json")) {
            list(x);
            return true;
        }
        if (x.is("POST", "images", "create")) {
            create(x);
            return true;
        }
        if (x.path.size() < 2) {
            return false;
        }
        String last = x.path.getLast();
        if (x.method.equals("DELETE")) {
            remove(x, String.join("/", x.path.subList(1, x.path.size())));
            return true;
        }
        if (x.path.size() < 3) {
            return false;
        }
        String name = String.join("/", x.path.subList(1, x.path.size() - 1));
        switch (x.method + " " + last) {
            case "GET json", "HEAD json" -> x.json(200, DockerShapes.image(inspect(Engine.defaults(), name), x.version));
            case "POST tag" -> tag(x, name);
            case "GET history" -> history(x, name);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** An image's event in the engine's log, as dockerd's ({@link dev.hull.engine.EventLog#image}). */
    static void event(Engine e, String action, String actor, String name, ImageRecord image) {
        dev.hull.engine.ImageEvents.record(e, action, actor, name, image);
    }

    /** "busybox" → "busybox:latest", as dockerd's messages name an image. */
    static String withTag(String image) {
        try {
            Reference r = Reference.parse(image);
            return r.digest() != null ? image : r.familiar();
        } catch (RuntimeException e) {
            return image;
        }
    }

    static ImageRecord find(Engine e, String name) throws IOException, ApiError {
        try {
            return e.images().getOrBuildBuiltin(name);
        } catch (ImageNotFoundException nf) {
            throw ApiError.notFound("No such image: " + withTag(name));
        } catch (IllegalArgumentException bad) {
            throw ApiError.badRequest(bad.getMessage());
        }
    }

    private static String familiar(String name) {
        try {
            return Reference.parse(name).familiar();
        } catch (RuntimeException e) {
            return name;
        }
    }

    private static String familiarDigest(String repoDigest) {
        int at = repoDigest.indexOf('@');
        if (at < 0) {
            return repoDigest;
        }
        try {
            return Reference.parse(repoDigest.substring(0, at)).familiarName() + repoDigest.substring(at);
        } catch (RuntimeException e) {
            return repoDigest;
        }
    }

    static String sha(String id) {
        return id.startsWith("sha256:") ? id : "sha256:" + id;
    }

    private static long epoch(String iso) {
        try {
            return Instant.parse(iso).getEpochSecond();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private void list(Exchange x) throws Exception {
        Engine e = Engine.defaults();
        Map<String, List<String>> filters = x.filters();
        Map<String, List<String>> inUse = e.imagesInUse();
        ArrayNode out = Exchange.JSON.createArrayNode();
        for (ImageRecord r : e.images().list()) {
            List<String> tags = r.names().stream().map(Images::familiar).toList();
            if (!filters.getOrDefault("reference", List.of()).isEmpty() && filters.get("reference").stream()
                    .noneMatch(f -> tags.stream().anyMatch(t -> t.equals(f) || t.startsWith(f + ":")
                            || globMatch(f, t)))) {
                continue;
            }
            if (filters.getOrDefault("dangling", List.of()).contains("true") && !tags.isEmpty()) {
                continue;
            }
            out.add(DockerShapes.imageSummary(summary(e, r, r.size(), -1, inUse.getOrDefault(r.id(), List.of()).size()),
                    x.version));
        }
        x.json(200, out);
    }

    /** dockerd's ImageSummary (image list, system df). */
    static ObjectNode summary(Engine e, ImageRecord r, long size, long sharedSize, int containers) {
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("Id", sha(r.id()));
        n.put("ParentId", "");
        ArrayNode rt = n.putArray("RepoTags");
        r.names().stream().map(Images::familiar).forEach(rt::add);
        ArrayNode rd = n.putArray("RepoDigests");
        r.repoDigests().stream().map(Images::familiarDigest).forEach(rd::add);
        n.put("Created", epoch(r.created()));
        n.put("Size", size);
        n.put("SharedSize", sharedSize);
        ObjectNode labels = n.putObject("Labels");
        ImageConfig.Config c = config(e, r);
        if (c != null && c.labels() != null) {
            c.labels().forEach(labels::put);
        }
        n.put("Containers", containers);
        return n;
    }

    private static boolean globMatch(String glob, String text) {
        String re = glob.replace(".", "\\.").replace("*", "[^/]*").replace("?", ".");
        return text.matches(re) || text.matches(re + ":.*");
    }

    static ImageConfig.Config config(Engine e, ImageRecord r) {
        try {
            return e.images().config(r).config();
        } catch (IOException | RuntimeException ex) {
            return null;
        }
    }

    private static ObjectNode inspect(Engine e, String name) throws IOException, ApiError {
        ImageRecord r = find(e, name);
        ImageConfig ic = e.images().config(r);
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("Id", sha(r.id()));
        ArrayNode rt = n.putArray("RepoTags");
        r.names().stream().map(Images::familiar).forEach(rt::add);
        ArrayNode rd = n.putArray("RepoDigests");
        r.repoDigests().stream().map(Images::familiarDigest).forEach(rd::add);
        n.put("Parent", "");
        n.put("Comment", "");
        n.put("Created", ic.created() != null ? ic.created() : r.created());
        n.put("DockerVersion", "");
        n.put("Author", ic.author() == null ? "" : ic.author());
        n.set("Config", ic.config() == null ? Exchange.JSON.createObjectNode() : Exchange.JSON.valueToTree(ic.config()));
        n.put("Architecture", ic.architecture());
        n.put("Os", ic.os());
        if (ic.variant() != null) {
            n.put("Variant", ic.variant());
        }
        n.put("Size", r.size());
        ObjectNode gd = n.putObject("GraphDriver");
        gd.put("Name", "overlay2");
        gd.putObject("Data");
        ObjectNode rootfs = n.putObject("RootFS");
        rootfs.put("Type", "layers");
        ArrayNode layers = rootfs.putArray("Layers");
        r.diffIds().forEach(layers::add);
        n.putObject("Metadata").put("LastTagTime", "0001-01-01T00:00:00Z");
        return n;
    }

    private void history(Exchange x, String name) throws Exception {
        Engine e = Engine.defaults();
        ImageRecord r = find(e, name);
        ImageConfig ic = e.images().config(r);
        ArrayNode out = Exchange.JSON.createArrayNode();
        List<ImageConfig.History> h = ic.history() == null ? List.of() : new ArrayList<>(ic.history());
        java.util.Collections.reverse(h);
        boolean first = true;
        for (ImageConfig.History entry : h) {
            ObjectNode n = out.addObject();
            n.put("Id", first ? sha(r.id()) : "<missing>");
            n.put("Created", epoch(entry.created()));
            n.put("CreatedBy", entry.createdBy() == null ? "" : entry.createdBy());
            n.putArray("Tags");
            n.put("Size", 0);
            n.put("Comment", entry.comment() == null ? "" : entry.comment());
            first = false;
        }
        x.json(200, out);
    }

    private void tag(Exchange x, String name) throws Exception {
        String repo = x.param("repo");
        if (repo == null || repo.isEmpty()) {
            throw ApiError.badRequest("repository name (repo) not specified");
        }
        String tag = x.param("tag", "");
        Engine e = Engine.defaults();
        find(e, name);
        try {
            e.images().tag(name, repo + ":" + (tag.isEmpty() ? "latest" : tag));
        } catch (IllegalArgumentException bad) {
            throw ApiError.badRequest(bad.getMessage());
        }
        ImageRecord tagged = find(e, name);
        event(e, "tag", sha(tagged.id()), familiar(repo + ":" + (tag.isEmpty() ? "latest" : tag)), tagged);
        x.empty(201);
    }

    private void remove(Exchange x, String name) throws Exception {
        Engine e = Engine.defaults();
        find(e, name);
        var before = dev.hull.engine.ImageEvents.before(e, List.of(name));
        List<String> done;
        try {
            done = e.images().remove(List.of(name), x.flag("force"), e::imagesInUse);
        } catch (ImageNotFoundException nf) {
            throw ApiError.notFound("No such image: " + withTag(name));
        } catch (IOException io) {
            String m = io.getMessage() == null ? io.toString() : io.getMessage();
            if (m.contains("is used by container") || m.contains(" names (")) {
                throw ApiError.conflict(m);
            }
            throw io;
        }
        ArrayNode out = Exchange.JSON.createArrayNode();
        for (String line : done) {
            if (line.startsWith("Untagged: ")) {
                out.addObject().put("Untagged", line.substring(10));
            } else if (line.startsWith("Deleted: ")) {
                out.addObject().put("Deleted", sha(line.substring(9)));
            }
        }
        dev.hull.engine.ImageEvents.removed(e, done, before); // untag and delete, named by the image's ID
        x.json(200, out);
    }

    // ---------------------------------------------------------------- pull

    /**
     * POST /images/create?fromImage=NAME&tag=TAG: a pull, its progress streamed as dockerd's JSON
     * messages (one object a line). An error before anything was sent is a status code (404 for an
     * image the registry does not have); after, an {"errorDetail"} message, as dockerd does.
     */
    private void create(Exchange x) throws Exception {
        String from = x.param("fromImage");
        if (from == null || from.isEmpty()) {
            String src = x.param("fromSrc");
            if ("-".equals(src)) {
                ImageTransfers.importTar(x);
                return;
            }
            if (src != null) {
                throw ApiError.badRequest("fromSrc=" + src + ": only - (the tar as the request body) is supported by"
                        + " Hull; fetch the file first");
            }
            throw ApiError.badRequest("fromImage is required");
        }
        String tag = x.param("tag", "");
        String text = from;
        if (!tag.isEmpty()) {
            text = tag.startsWith("sha256:") ? from + "@" + tag : from + ":" + tag;
        }
        Reference ref;
        try {
            ref = Reference.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("invalid reference format: " + e.getMessage());
        }
        Platform platform = Platform.host();
        String p = x.param("platform");
        if (p != null && !p.isEmpty()) {
            try {
                platform = Platform.parse(p);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest(e.getMessage());
            }
        }
        Engine e = Engine.defaults();
        ImageService images = e.images();
        JsonProgress out = new JsonProgress(x, "Pulling fs layer", "Downloading");
        String id = ref.tag() != null ? ref.tag() : ref.digest().toString();
        try {
            out.first = Exchange.JSON.createObjectNode().put("status", "Pulling from " + ref.familiarName())
                    .put("id", id);
            ImageRecord image = pull(images, ref, platform, out);
            out.status("Digest: " + image.manifestDigest(), null);
            out.status("Status: Downloaded newer image for " + ref.familiar(), null);
            event(e, "pull", ref.familiar(), ref.familiar(), image);
        } catch (RegistryException err) {
            if (!out.started()) {
                int status = err.status() == 404 || err.status() == 401 || err.status() == 403 ? 404
                        : err.status() >= 400 && err.status() < 600 ? 500 : 500;
                throw new ApiError(status, err.status() == 404 || err.status() == 401
                        ? "pull access denied for " + ref.familiarName() + ", repository does not exist or may require"
                        + " 'docker login': " + err.getMessage() : err.getMessage());
            }
            out.error(err.getMessage());
        } catch (IOException err) {
            if (!out.started()) {
                throw new ApiError(500, err.getMessage() == null ? err.toString() : err.getMessage());
            }
            out.error(err.getMessage() == null ? err.toString() : err.getMessage());
        }
        out.finish();
    }

    /**
     * POST /auth (docker login): the credentials checked against the registry as dockerd checks
     * them (the registry's own challenge: a bearer token fetched with them, or basic); 200
     * {"Status":"Login Succeeded"}, or 401 with the registry's refusal. Nothing is stored: the
     * client keeps the credentials and sends them with each pull and push.
     */
    static void auth(Exchange x) throws Exception {
        JsonNode body = x.body();
        if (!body.isObject()) {
            throw ApiError.badRequest("the request body must be a JSON object (an AuthConfig)");
        }
        for (String f : body.properties().stream().map(Map.Entry::getKey).toList()) {
            if (!List.of("username", "password", "serveraddress", "email", "auth", "identitytoken",
                    "registrytoken").contains(f)) {
                throw ApiError.badRequest("unknown field \"" + f + "\" in the AuthConfig");
            }
        }
        String user = body.path("username").asText("");
        String pass = body.path("password").asText("");
        String auth = body.path("auth").asText("");
        if (user.isEmpty() && !auth.isEmpty()) {
            String decoded;
            try {
                decoded = new String(java.util.Base64.getDecoder().decode(auth), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("auth is not valid base64");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw ApiError.badRequest("auth is not base64 of user:password");
            }
            user = decoded.substring(0, colon);
            pass = decoded.substring(colon + 1);
        }
        if (user.isEmpty()) {
            throw ApiError.badRequest("username is required");
        }
        String server = body.path("serveraddress").asText("");
        String registry = DockerCredentials.normalizeKey(server.isEmpty() ? Reference.DOCKER_HUB : server);
        try (RegistryClient client = new RegistryClient(registryOptions(registry))) {
            client.checkLogin(registry, new dev.hull.image.registry.Credential(user, pass));
        } catch (RegistryException e) {
            if (e.status() == 401 || e.status() == 403) {
                throw new ApiError(401, e.getMessage());
            }
            throw new ApiError(500, e.getMessage());
        } catch (IOException e) {
            throw new ApiError(500, "login to " + registry + ": " + (e.getMessage() == null ? e : e.getMessage()));
        }
        ObjectNode ok = Exchange.JSON.createObjectNode();
        ok.put("Status", "Login Succeeded");
        ok.put("IdentityToken", "");
        x.json(200, ok);
    }

    /**
     * The pull of POST /images/create and of a build's FROM: from the registry with the service's
     * settings ({@link #registryOptions}), into the store, unpacked, under the store's lease.
     */
    static ImageRecord pull(ImageService images, Reference ref, Platform platform,
            dev.hull.image.registry.PullProgress progress) throws IOException, RegistryException {
        try (RegistryClient client = new RegistryClient(registryOptions(ref.registry()));
                Closeable lease = images.lease()) {
            ImageRecord image = new Puller(client, images.store()).pull(ref, platform, progress);
            images.unpack(image);
            return image;
        }
    }

    /**
     * Registry settings as dockerd's defaults have them: 127.0.0.0/8 is insecure (plain HTTP allowed),
     * plus /etc/hull/registries.json's insecure registries and mirrors, credentials from the
     * service's ~/.docker/config.json.
     */
    static RegistryOptions registryOptions(String registry) throws IOException {
        return registryOptions(registry, new DockerCredentials(DockerCredentials.resolvePath(null)));
    }

    static RegistryOptions registryOptions(String registry, dev.hull.image.registry.CredentialsSource credentials)
            throws IOException {
        RegistryOptions.Builder b = RegistryOptions.builder().credentials(credentials);
        String host = registry.contains(":") ? registry.substring(0, registry.lastIndexOf(':')) : registry;
        if (host.startsWith("127.") || host.equals("localhost") || host.equals("[::1]")) {
            b.insecure(registry);
        }
        String conf = dev.hull.runtime.Caller.environment().getOrDefault("HULL_REGISTRIES",
                "/etc/hull/registries.json");
        Path confPath = Path.of(conf);
        if (Files.isRegularFile(confPath)) {
            JsonNode root = Exchange.JSON.readTree(confPath.toFile());
            root.path("insecure").forEach(h -> b.insecure(h.asText()));
            for (var e : root.path("mirrors").properties()) {
                List<String> hosts = new ArrayList<>();
                e.getValue().forEach(h -> hosts.add(h.asText()));
                b.mirror(e.getKey(), hosts.toArray(String[]::new));
            }
        }
        return b.build();
    }
}
