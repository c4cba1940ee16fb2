package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.Engine;
import dev.hull.engine.ImageFiles;
import dev.hull.image.Digest;
import dev.hull.image.ImageRecord;
import dev.hull.image.Reference;
import dev.hull.image.registry.Credential;
import dev.hull.image.registry.CredentialsSource;
import dev.hull.image.registry.DockerCredentials;
import dev.hull.image.registry.Pusher;
import dev.hull.image.registry.RegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.eclipse.jetty.io.Content;

/**
 * Images in and out: GET /images/get and /images/{name}/get (docker save: a docker-archive),
 * POST /images/load (docker load: the archive as the body; {"stream": "Loaded image: ..."}), POST
 * /images/{name}/push (dockerd's streamed push progress, the registry's credentials from
 * X-Registry-Auth or the service's ~/.docker/config.json).
 */
final class ImageTransfers {

    boolean route(Exchange x) throws Exception {
        if (x.is("GET", "images", "get")) {
            save(x, x.params("names"));
            return true;
        }
        if (x.is("POST", "images", "load")) {
            load(x);
            return true;
        }
        if (x.path.size() < 3 || !x.seg(0).equals("images")) {
            return false;
        }
        String name = String.join("/", x.path.subList(1, x.path.size() - 1));
        switch (x.method + " " + x.path.getLast()) {
            case "GET get" -> save(x, List.of(name));
            case "POST push" -> push(x, name);
            default -> {
                return false;
            }
        }
        return true;
    }

    private void save(Exchange x, List<String> names) throws Exception {
        if (names.isEmpty()) {
            throw ApiError.badRequest("no image names given (names=...)");
        }
        Engine e = Engine.defaults();
        for (String n : names) {
            Images.find(e, n); // 404 before the 200
        }
        ImageFiles.Selection s = ImageFiles.select(e, names);
        x.tar(out -> ImageFiles.saveDockerArchive(e, s, out));
        for (ImageRecord r : s.images()) {
            Images.event(e, "save", Images.sha(r.id()), Images.sha(r.id()), r);
        }
    }

    /**
     * POST /images/create?fromSrc=- (docker import): the body is a filesystem tar (plain or
     * compressed), the image's one layer, as hull import makes it; repo and tag name it, changes
     * and message set its config. dockerd's answer: {"status": "sha256:ID"}.
     */
    static void importTar(Exchange x) throws Exception {
        String repo = x.param("repo", "");
        String tag = x.param("tag", "");
        String ref = repo.isEmpty() ? null : tag.isEmpty() ? repo : repo + ":" + tag;
        var meta = new dev.hull.build.ContainerImages.Meta(x.param("message"), null, x.params("changes"));
        ImageRecord r;
        try (InputStream in = Content.Source.asInputStream(x.request)) {
            r = new dev.hull.build.ContainerImages(Engine.defaults()).importTar(in, "-", ref, meta);
        } catch (dev.hull.build.BuildException | IOException | IllegalArgumentException bad) {
            throw ApiError.badRequest("importing the tar: " + (bad.getMessage() == null ? bad : bad.getMessage()));
        }
        JsonProgress out = new JsonProgress(x, null, null);
        out.send(Exchange.JSON.createObjectNode().put("status", Images.sha(r.id())));
        out.finish();
    }

    private void load(Exchange x) throws Exception {
        boolean quiet = x.flag("quiet");
        Engine e = Engine.defaults();
        java.util.Map<String, List<String>> before = new java.util.HashMap<>(); // names the images had already
        for (ImageRecord r : e.images().list()) {
            before.put(r.id(), r.names());
        }
        List<ImageRecord> loaded;
        try (InputStream in = Content.Source.asInputStream(x.request)) {
            loaded = ImageFiles.load(e, null, in, null);
        } catch (IOException | RuntimeException bad) {
            throw ApiError.badRequest("loading the archive: " + (bad.getMessage() == null ? bad : bad.getMessage()));
        }
        JsonProgress out = new JsonProgress(x, null, null);
        for (ImageRecord r : loaded) {
            List<String> names = r.names().stream().filter(n -> !before.getOrDefault(r.id(), List.of()).contains(n))
                    .toList();
            if (names.isEmpty()) {
                names = r.names();
            }
            List<String> lines = names.isEmpty() ? List.of("Loaded image ID: " + Images.sha(r.id()))
                    : names.stream().map(n -> "Loaded image: " + Reference.parse(n).familiar()).toList();
            for (String line : lines) {
                out.send(Exchange.JSON.createObjectNode().put("stream", line + "\n"));
            }
        }
        if (quiet && loaded.isEmpty()) {
            out.send(Exchange.JSON.createObjectNode().put("stream", ""));
        }
        out.finish();
    }

    private void push(Exchange x, String name) throws Exception {
        String tag = x.param("tag", "");
        Reference target;
        try {
            target = Reference.parse(tag.isEmpty() ? name : name + ":" + tag);
        } catch (IllegalArgumentException bad) {
            throw ApiError.badRequest("invalid reference format: " + bad.getMessage());
        }
        Engine e = Engine.defaults();
        ImageRecord image = Images.find(e, target.toString());
        JsonProgress out = new JsonProgress(x, "Preparing", "Pushing");
        out.status("The push refers to repository [" + target.name() + "]", null);
        try (RegistryClient client = new RegistryClient(Images.registryOptions(target.registry(), credentials(x)))) {
            Digest d = new Pusher(client, e.images().store()).push(image, target, out);
            long size = e.images().store().content().has(d) ? e.images().store().content().size(d) : 0;
            String t = target.tag() != null ? target.tag() : "latest";
            out.status(t + ": digest: " + d + " size: " + size, null);
            ObjectNode aux = Exchange.JSON.createObjectNode();
            aux.putObject("progressDetail");
            aux.putObject("aux").put("Tag", t).put("Digest", d.toString()).put("Size", size);
            out.send(aux);
            Images.event(e, "push", target.familiar(), target.familiar(), image);
        } catch (IOException err) {
            out.error(err.getMessage() == null ? err.toString() : err.getMessage());
        }
        out.finish();
    }

    /** X-Registry-Auth (base64url JSON: username, password, identitytoken), else the service's own. */
    private static CredentialsSource credentials(Exchange x) {
        String header = x.request.getHeaders().get("X-Registry-Auth");
        if (header != null && !header.isBlank()) {
            try {
                JsonNode a = Exchange.JSON.readTree(Base64.getUrlDecoder().decode(header.strip()));
                String user = a.path("username").asText("");
                String token = a.path("identitytoken").asText("");
                if (!user.isEmpty() || !token.isEmpty()) {
                    Credential c = new Credential(user, a.path("password").asText(""), token.isEmpty() ? null : token);
                    return registry -> Optional.of(c);
                }
            } catch (IOException | IllegalArgumentException ignored) {
                // not credentials: the service's own
            }
        }
        return new DockerCredentials(DockerCredentials.resolvePath(null));
    }
}
