package dev.hull.service.docker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hull.engine.ContainerInfo;
import dev.hull.engine.DiskUsage;
import dev.hull.engine.Engine;
import dev.hull.engine.Pruning;
import dev.hull.engine.VolumeStore;
import dev.hull.engine.network.NetworkInfo;
import dev.hull.image.ImageService;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GET /system/df and POST /{containers,images,networks,volumes}/prune: disk usage and what is no
 * longer used, on the engine's {@link DiskUsage}, {@link Pruning}, image and volume stores, in
 * dockerd's shapes (ContainersDeleted, ImagesDeleted, NetworksDeleted, VolumesDeleted,
 * SpaceReclaimed). Filters: label and label! everywhere, until for containers and networks,
 * dangling for images, all for volumes (API 1.42 on: without all=true only anonymous volumes are
 * pruned: those labelled com.docker.volume.anonymous, as dockerd labels them).
 */
final class Housekeeping {

    boolean route(Exchange x) throws Exception {
        if (x.is("GET", "system", "df")) {
            df(x);
            return true;
        }
        if (x.path.size() != 2 || !x.method.equals("POST") || !x.seg(1).equals("prune")) {
            return false;
        }
        switch (x.seg(0)) {
            case "containers" -> containers(x);
            case "images" -> images(x);
            case "networks" -> networks(x);
            case "volumes" -> volumes(x);
            default -> {
                return false;
            }
        }
        return true;
    }

    private static Map<String, List<String>> filters(Exchange x, Set<String> allowed) throws ApiError {
        Map<String, List<String>> f = x.filters();
        for (String k : f.keySet()) {
            if (!allowed.contains(k)) {
                throw ApiError.badRequest("invalid filter '" + k + "'");
            }
        }
        return f;
    }

    /** The until filter: a unix time, an RFC 3339 time, or a duration back from now (10m, 24h). */
    private static Instant until(Map<String, List<String>> f) throws ApiError {
        List<String> v = f.get("until");
        if (v == null || v.isEmpty()) {
            return null;
        }
        String s = v.getFirst();
        var m = java.util.regex.Pattern.compile("(\\d+)(s|m|h)").matcher(s);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return Instant.now().minusSeconds(switch (m.group(2)) {
                case "s" -> n;
                case "m" -> n * 60;
                default -> n * 3600;
            });
        }
        try {
            return Instant.ofEpochSecond(Long.parseLong(s));
        } catch (NumberFormatException e) {
            try {
                return Instant.parse(s);
            } catch (RuntimeException e2) {
                throw ApiError.badRequest("invalid until filter: " + s);
            }
        }
    }

    private static boolean before(String created, Instant until) {
        try {
            return until == null || Instant.parse(created).isBefore(until);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private void containers(Exchange x) throws Exception {
        Map<String, List<String>> f = filters(x, Set.of("label", "label!", "until"));
        Instant until = until(f);
        Engine e = Engine.defaults();
        Pruning.Containers p = Pruning.containers(e, c -> Exchange.labelsMatch(f, labels(c))
                && before(c.created(), until));
        ObjectNode r = Exchange.JSON.createObjectNode();
        ArrayNode ids = r.putArray("ContainersDeleted");
        p.removed().forEach(c -> ids.add(c.id()));
        r.put("SpaceReclaimed", p.bytes());
        x.json(200, r);
    }

    private static Map<String, String> labels(ContainerInfo c) {
        return c.options() == null || c.options().labels == null ? Map.of() : c.options().labels;
    }

    private void images(Exchange x) throws Exception {
        Map<String, List<String>> f = filters(x, Set.of("dangling", "label", "label!"));
        List<String> dangling = f.getOrDefault("dangling", List.of());
        boolean all = dangling.contains("false") || dangling.contains("0");
        Engine e = Engine.defaults();
        boolean byLabel = f.containsKey("label") || f.containsKey("label!");
        ImageService.Pruned p = e.images().prune(all, e::imagesInUse, !byLabel ? null : r -> {
            var c = Images.config(e, r);
            return Exchange.labelsMatch(f, c == null || c.labels() == null ? Map.of() : c.labels());
        });
        ObjectNode r = Exchange.JSON.createObjectNode();
        ArrayNode deleted = r.putArray("ImagesDeleted");
        p.ids().forEach(id -> deleted.addObject().put("Deleted", Images.sha(id)));
        r.put("SpaceReclaimed", p.bytes());
        x.json(200, r);
    }

    private void networks(Exchange x) throws Exception {
        Map<String, List<String>> f = filters(x, Set.of("label", "label!", "until"));
        Instant until = until(f);
        Engine e = Engine.defaults();
        List<String> removed = Pruning.networks(e, (NetworkInfo n) -> Exchange.labelsMatch(f, n.labels())
                && before(n.created(), until));
        ObjectNode r = Exchange.JSON.createObjectNode();
        ArrayNode names = r.putArray("NetworksDeleted");
        removed.forEach(names::add);
        x.json(200, r);
    }

    private void volumes(Exchange x) throws Exception {
        Map<String, List<String>> f = filters(x, Set.of("label", "label!", "all"));
        List<String> allValues = f.getOrDefault("all", List.of());
        boolean all = allValues.contains("true") || allValues.contains("1")
                || Router.compare(x.version, "1.42") < 0;
        Engine e = Engine.defaults();
        ObjectNode r = Exchange.JSON.createObjectNode();
        ArrayNode names = r.putArray("VolumesDeleted");
        VolumeStore.Pruned p = e.volumes().prune(e::volumesInUse, v -> Exchange.labelsMatch(f, v.labels())
                && (all || v.labels().containsKey(dev.hull.engine.AnonymousVolumes.LABEL))); // else only anonymous ones
        p.names().forEach(names::add);
        r.put("SpaceReclaimed", p.bytes());
        x.json(200, r);
    }

    // ---------------------------------------------------------------- system df

    private void df(Exchange x) throws Exception {
        Engine e = Engine.defaults();
        DiskUsage du = DiskUsage.of(e);
        ObjectNode r = Exchange.JSON.createObjectNode();
        r.put("LayersSize", du.imagesSize());
        ArrayNode images = r.putArray("Images");
        for (DiskUsage.ImageUsage i : du.images()) {
            images.add(Images.summary(e, i.image(), i.size(), i.sharedSize(), i.containers()));
        }
        ArrayNode containers = r.putArray("Containers");
        for (DiskUsage.ContainerUsage c : du.containers()) {
            ObjectNode n = ContainerViews.summary(e, c.info(), e.state(c.info()));
            n.put("SizeRw", c.size());
            long image = du.images().stream().filter(i -> i.image().id().equals(c.info().imageId()))
                    .mapToLong(DiskUsage.ImageUsage::size).findFirst().orElse(0);
            n.put("SizeRootFs", c.size() + image);
            containers.add(n);
        }
        ArrayNode volumes = r.putArray("Volumes");
        for (DiskUsage.VolumeUsage v : du.volumes()) {
            ObjectNode n = NetworksVolumes.volume(v.volume());
            ObjectNode usage = n.putObject("UsageData");
            usage.put("Size", v.size());
            usage.put("RefCount", v.links());
            volumes.add(n);
        }
        r.putArray("BuildCache");
        x.json(200, r);
    }
}
