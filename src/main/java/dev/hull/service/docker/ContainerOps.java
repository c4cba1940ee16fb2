package dev.hull.service.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerFiles;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.ContainerResources;
import dev.hull.engine.ContainerTop;
import dev.hull.engine.Engine;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.eclipse.jetty.io.Content;

/**
 * What is done to a container besides its lifecycle: pause, unpause, top, update, export, and
 * its files (/containers/{id}/archive GET, HEAD, PUT: docker cp), on the engine's
 * {@link ContainerResources}, {@link ContainerTop} and {@link ContainerFiles}.
 */
final class ContainerOps {
    private final ContainerStatsApi stats = new ContainerStatsApi();

    boolean route(Exchange x) throws Exception {
        if (x.path.size() != 3 || !x.seg(0).equals("containers")) {
            return false;
        }
        String ref = x.seg(1);
        switch (x.method + " " + x.seg(2)) {
            case "POST pause" -> {
                ContainerResources.pause(Engine.defaults(), id(ref));
                x.empty(204);
            }
            case "POST unpause" -> {
                ContainerResources.unpause(Engine.defaults(), id(ref));
                x.empty(204);
            }
            case "GET top" -> {
                String args = x.param("ps_args", "");
                x.json(200, ContainerTop.top(Engine.defaults(), id(ref), args.isBlank() ? List.of()
                        : Arrays.asList(args.strip().split("\\s+"))).json());
            }
            case "POST update" -> update(x, ref);
            case "GET export" -> export(x, ref);
            case "GET archive", "HEAD archive" -> archiveOut(x, ref);
            case "PUT archive" -> archiveIn(x, ref);
            case "GET stats" -> stats.stats(x, Containers.info(Engine.defaults(), ref));
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The container's id; an unknown one is dockerd's 404. */
    private static String id(String ref) throws IOException, ApiError {
        return Containers.info(Engine.defaults(), ref).id();
    }

    // ---------------------------------------------------------------- update

    /** The HostConfig fields update takes; any other one set is refused by name. */
    private static final List<String> UPDATABLE = List.of("Memory", "MemorySwap", "NanoCpus", "CpuShares",
            "CpusetCpus", "PidsLimit", "RestartPolicy");

    private void update(Exchange x, String ref) throws Exception {
        JsonNode b = x.body();
        if (!b.isObject()) {
            throw ApiError.badRequest("update needs a JSON object");
        }
        for (var f : b.properties()) {
            if (!UPDATABLE.contains(f.getKey()) && CreateTranslation.isSet(f.getValue())) {
                throw ApiError.badRequest(f.getKey() + " is not supported by Hull's update");
            }
        }
        Long memory = positive(b, "Memory");
        Long swap = b.path("MemorySwap").asLong(0) == 0 ? null : b.path("MemorySwap").asLong();
        Double cpus = b.path("NanoCpus").asLong(0) == 0 ? null : b.path("NanoCpus").asLong() / 1e9;
        Long shares = positive(b, "CpuShares");
        String cpuset = b.path("CpusetCpus").asText("").isEmpty() ? null : b.path("CpusetCpus").asText();
        Long pids = b.path("PidsLimit").isNumber() && b.path("PidsLimit").asLong() != 0
                ? b.path("PidsLimit").asLong() : null;
        String restart = null;
        String policy = b.path("RestartPolicy").path("Name").asText("");
        if (!policy.isEmpty()) {
            int max = b.path("RestartPolicy").path("MaximumRetryCount").asInt(0);
            restart = policy.equals("on-failure") && max > 0 ? policy + ":" + max : policy;
        }
        ContainerResources.update(Engine.defaults(), id(ref), new ContainerResources.Update(memory, swap, cpus,
                shares, cpuset, pids, restart));
        ObjectNode r = Exchange.JSON.createObjectNode();
        r.putArray("Warnings");
        x.json(200, r);
    }

    private static Long positive(JsonNode b, String field) {
        long v = b.path(field).asLong(0);
        return v > 0 ? v : null;
    }

    // ---------------------------------------------------------------- export and files

    private void export(Exchange x, String ref) throws Exception {
        String id = id(ref);
        x.tar(out -> new ContainerFiles(Engine.defaults()).exportFileSystem(id, out));
    }

    /** GET: the path as a tar (named by its base name), HEAD: only its stat; both in X-Docker-Container-Path-Stat. */
    private void archiveOut(Exchange x, String ref) throws Exception {
        String path = path(x);
        String id = id(ref);
        Engine e = Engine.defaults();
        ContainerFiles files = new ContainerFiles(e);
        ContainerFiles.PathStat st;
        try {
            st = files.stat(id, path);
        } catch (RuntimeError err) {
            if (err.kind() == RuntimeError.Kind.NOT_FOUND) {
                throw ApiError.notFound("Could not find the file " + path + " in container " + ref);
            }
            throw err;
        }
        x.response.getHeaders().put("X-Docker-Container-Path-Stat", pathStat(st));
        if (x.method.equals("HEAD")) {
            x.empty(200);
            return;
        }
        x.tar(out -> files.exportTar(id, path, out, new ContainerFiles.Options(false, true)));
    }

    /** PUT: a tar extracted into path, a directory that exists (owners kept with copyUIDGID, else root's). */
    private void archiveIn(Exchange x, String ref) throws Exception {
        String path = path(x);
        String id = id(ref);
        try (InputStream in = Content.Source.asInputStream(x.request)) {
            new ContainerFiles(Engine.defaults()).importTar(in, id, path,
                    new ContainerFiles.Options(false, x.flag("copyUIDGID")));
        } catch (RuntimeError err) {
            if (err.kind() == RuntimeError.Kind.NOT_FOUND) {
                throw ApiError.notFound("Could not find the file " + path + " in container " + ref);
            }
            throw err;
        }
        x.empty(200);
    }

    private static String path(Exchange x) throws ApiError {
        String p = x.param("path");
        if (p == null || p.isEmpty()) {
            throw ApiError.badRequest("path is required");
        }
        return p.startsWith("/") ? p : "/" + p;
    }

    /** docker's container path stat: base64 JSON with Go's os.FileMode bits (type flags above the permissions). */
    static String pathStat(ContainerFiles.PathStat st) throws IOException {
        int m = st.mode();
        long mode = m & 0777;
        mode |= switch (m & 0170000) {
            case 0040000 -> 1L << 31; // ModeDir
            case 0120000 -> 1L << 27; // ModeSymlink
            case 0010000 -> 1L << 25; // ModeNamedPipe
            case 0140000 -> 1L << 24; // ModeSocket
            case 0060000 -> 1L << 26; // ModeDevice
            case 0020000 -> (1L << 26) | (1L << 21); // ModeDevice | ModeCharDevice
            default -> 0;
        };
        if ((m & 04000) != 0) {
            mode |= 1L << 23;
        }
        if ((m & 02000) != 0) {
            mode |= 1L << 22;
        }
        if ((m & 01000) != 0) {
            mode |= 1L << 20;
        }
        ObjectNode n = Exchange.JSON.createObjectNode();
        n.put("name", st.name());
        n.put("size", st.size());
        n.put("mode", mode);
        n.put("mtime", Instant.ofEpochSecond(st.mtimeSec(), st.mtimeNsec()).toString());
        n.put("linkTarget", st.linkTarget());
        return Base64.getEncoder().encodeToString(Exchange.JSON.writeValueAsBytes(n));
    }
}
