package dev.hull.service.docker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.Engine;
import dev.hull.engine.SystemInfo;
import dev.hull.runtime.RuntimeError;
import dev.hull.service.BuildInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Dispatches API requests: the version prefix (/v1.24 ... /v1.51, or none: the newest), then
 * the resource. Errors are dockerd's {"message": ...} with its status codes.
 */
final class Router {
    private final DockerApiServer api;
    private final Containers containers;
    private final Images images;
    private final NetworksVolumes objects;
    private final EventsApi events = new EventsApi();
    private final Housekeeping housekeeping = new Housekeeping();
    private final ImageTransfers transfers = new ImageTransfers();
    private final ContainerOps containerOps = new ContainerOps();
    private final Builds builds = new Builds();

    Router(DockerApiServer api) {
        this.api = api;
        this.containers = new Containers(api);
        this.images = new Images();
        this.objects = new NetworksVolumes();
    }

    void handle(Request request, Response response, Callback callback) {
        String raw = Request.getPathInContext(request);
        DockerApiServer.traceRequest(request.getMethod(), raw);
        List<String> segs = new ArrayList<>();
        for (String s : raw.split("/")) {
            if (!s.isEmpty()) {
                segs.add(java.net.URLDecoder.decode(s, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        headers(response);
        String version = DockerApiServer.MAX_VERSION;
        Exchange x;
        if (!segs.isEmpty() && segs.getFirst().matches("v[0-9]+\\.[0-9]+")) {
            version = segs.removeFirst().substring(1);
            x = new Exchange(request, response, callback, version, segs, api);
            if (compare(version, DockerApiServer.MIN_VERSION) < 0) {
                x.error(400, "client version " + version + " is too old. Minimum supported API version is "
                        + DockerApiServer.MIN_VERSION + ", please upgrade your client to a newer version");
                return;
            }
            if (compare(version, DockerApiServer.MAX_VERSION) > 0) {
                x.error(400, "client version " + version + " is too new. Maximum supported API version is "
                        + DockerApiServer.MAX_VERSION);
                return;
            }
        } else {
            x = new Exchange(request, response, callback, version, segs, api);
        }
        try {
            if (!route(x) && !x.answered()) {
                x.error(404, "page not found");
            }
        } catch (ApiError e) {
            x.error(e.status, e.getMessage());
        } catch (RuntimeError e) {
            ApiError a = ApiError.of(e);
            x.error(a.status, a.getMessage());
        } catch (dev.hull.image.ImageNotFoundException e) {
            x.error(404, e.getMessage());
        } catch (Exception e) {
            x.error(500, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** dockerd's headers on every answer. */
    static void headers(Response response) {
        var h = response.getHeaders();
        h.put("Api-Version", DockerApiServer.MAX_VERSION);
        h.put("Docker-Experimental", "false");
        h.put("Ostype", "linux");
        h.put("Server", "Hull/" + BuildInfo.id() + " (linux)");
    }

    static int compare(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int p = i < x.length ? Integer.parseInt(x[i]) : 0;
            int q = i < y.length ? Integer.parseInt(y[i]) : 0;
            if (p != q) {
                return Integer.compare(p, q);
            }
        }
        return 0;
    }

    private boolean route(Exchange x) throws Exception {
        if (x.path.isEmpty()) {
            return false;
        }
        if (housekeeping.route(x) || events.route(x) || transfers.route(x) || containerOps.route(x)) {
            return true;
        }
        switch (x.seg(0)) {
            case "_ping" -> {
                if (x.path.size() != 1) {
                    return false;
                }
                x.response.getHeaders().put("Cache-Control", "no-cache, no-store, must-revalidate");
                x.response.getHeaders().put("Pragma", "no-cache");
                if (x.method.equals("HEAD")) {
                    x.response.getHeaders().put("Content-Type", "text/plain; charset=utf-8");
                    x.response.getHeaders().put("Content-Length", "0");
                    x.empty(200);
                } else {
                    x.text(200, "text/plain; charset=utf-8", "OK");
                }
                return true;
            }
            case "version" -> {
                if (x.is("GET", "version")) {
                    x.json(200, version());
                    return true;
                }
                return false;
            }
            case "auth" -> {
                if (x.is("POST", "auth")) {
                    Images.auth(x);
                    return true;
                }
                return false;
            }
            case "info" -> {
                if (x.is("GET", "info")) {
                    x.json(200, DockerShapes.info(info()));
                    return true;
                }
                return false;
            }
            case "containers", "exec" -> {
                return containers.route(x);
            }
            case "images" -> {
                return images.route(x);
            }
            case "networks", "volumes" -> {
                return objects.route(x);
            }
            case "build" -> {
                return builds.route(x);
            }
            default -> {
                return false;
            }
        }
    }

    static String hullVersion() {
        String id = BuildInfo.id();
        int dash = id.indexOf("-SNAPSHOT");
        return dash > 0 ? id.substring(0, dash) : id;
    }

    private static ObjectNode version() {
        ObjectNode v = Exchange.JSON.createObjectNode();
        v.putObject("Platform").put("Name", "Hull");
        ArrayNode comps = v.putArray("Components");
        ObjectNode engine = comps.addObject();
        engine.put("Name", "Engine");
        engine.put("Version", hullVersion());
        ObjectNode d = engine.putObject("Details");
        d.put("ApiVersion", DockerApiServer.MAX_VERSION);
        d.put("MinAPIVersion", DockerApiServer.MIN_VERSION);
        d.put("Arch", goArch());
        d.put("Os", "linux");
        d.put("KernelVersion", kernel());
        d.put("BuildTime", BuildInfo.id());
        d.put("GitCommit", "");
        d.put("GoVersion", "java " + System.getProperty("java.version"));
        d.put("Experimental", "false");
        v.put("Version", hullVersion());
        v.put("ApiVersion", DockerApiServer.MAX_VERSION);
        v.put("MinAPIVersion", DockerApiServer.MIN_VERSION);
        v.put("GitCommit", "");
        v.put("GoVersion", "java " + System.getProperty("java.version"));
        v.put("Os", "linux");
        v.put("Arch", goArch());
        v.put("KernelVersion", kernel());
        v.put("BuildTime", BuildInfo.id());
        return v;
    }

    static String goArch() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> System.getProperty("os.arch");
        };
    }

    private static String kernel() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static ObjectNode info() throws IOException {
        Engine engine = Engine.defaults();
        ObjectNode h = SystemInfo.collect(engine, hullVersion());
        ObjectNode n = Exchange.JSON.createObjectNode();
        String host = hostname();
        n.put("ID", "hull-" + host);
        n.setAll(h);
        n.remove(List.of("HullRootDir", "StateDir", "Rootless", "CgroupLayout", "JavaVersion", "Config", "Defaults",
                "WritableLayerLimit", "Disks", "Volumes"));
        n.putArray("DriverStatus");
        ObjectNode plugins = n.putObject("Plugins");
        plugins.putArray("Volume").add("local");
        plugins.putArray("Network").add("bridge").add("host").add("null");
        plugins.putArray("Log").add("json-file");
        n.put("MemoryLimit", true);
        n.put("SwapLimit", true);
        n.put("CpuCfsPeriod", true);
        n.put("CpuCfsQuota", true);
        n.put("CPUShares", true);
        n.put("CPUSet", true);
        n.put("PidsLimit", true);
        n.put("OomKillDisable", false);
        n.put("IPv4Forwarding", true);
        n.put("Debug", false);
        n.put("NFd", 0);
        n.put("NGoroutines", Thread.activeCount());
        n.put("SystemTime", java.time.OffsetDateTime.now().toString());
        n.put("NEventsListener", 0);
        n.put("IndexServerAddress", "https://index.docker.io/v1/");
        ObjectNode reg = n.putObject("RegistryConfig");
        reg.putArray("InsecureRegistryCIDRs").add("127.0.0.0/8");
        reg.putObject("IndexConfigs");
        n.put("DockerRootDir", engine.home().toAbsolutePath().toString());
        n.put("Name", host);
        n.putArray("Labels");
        n.put("ExperimentalBuild", false);
        n.putObject("Runtimes").putObject("hull").put("path", "hull-runtime");
        n.put("DefaultRuntime", "hull");
        ObjectNode swarm = n.putObject("Swarm");
        swarm.put("LocalNodeState", "inactive");
        swarm.put("NodeID", "");
        swarm.put("NodeAddr", "");
        n.put("LiveRestoreEnabled", true); // containers belong to their monitors, not to the service
        n.put("Isolation", "");
        n.put("InitBinary", "hull-executor");
        n.putArray("Warnings");
        return n;
    }

    private static String hostname() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
