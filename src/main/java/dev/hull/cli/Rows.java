package dev.hull.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hull.cli.format.GoStruct;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.TreeMap;

/** What docker's --format templates see of a row of each listing: its field names, headers and default columns. */
final class Rows {
    private Rows() {
    }

    static final String PS_TABLE = "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
    static final Map<String, String> PS_HEADERS = Map.ofEntries(Map.entry("ID", "CONTAINER ID"),
            Map.entry("Names", "NAMES"), Map.entry("Image", "IMAGE"), Map.entry("Command", "COMMAND"),
            Map.entry("CreatedAt", "CREATED AT"), Map.entry("RunningFor", "CREATED"), Map.entry("Ports", "PORTS"),
            Map.entry("State", "STATE"), Map.entry("Status", "STATUS"), Map.entry("Size", "SIZE"),
            Map.entry("Labels", "LABELS"), Map.entry("Mounts", "MOUNTS"), Map.entry("LocalVolumes", "LOCAL VOLUMES"),
            Map.entry("Networks", "NETWORKS"));

    static final String IMAGES_TABLE = "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    static final String IMAGES_DIGESTS_TABLE =
            "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    static final Map<String, String> IMAGES_HEADERS = Map.ofEntries(Map.entry("ID", "IMAGE ID"),
            Map.entry("Repository", "REPOSITORY"), Map.entry("Tag", "TAG"), Map.entry("Digest", "DIGEST"),
            Map.entry("CreatedSince", "CREATED"), Map.entry("CreatedAt", "CREATED AT"), Map.entry("Size", "SIZE"),
            Map.entry("SharedSize", "SHARED SIZE"), Map.entry("UniqueSize", "UNIQUE SIZE"),
            Map.entry("VirtualSize", "VIRTUAL SIZE"), Map.entry("Containers", "CONTAINERS"));

    static final String VOLUMES_TABLE = "{{.Driver}}\t{{.Name}}";
    static final Map<String, String> VOLUMES_HEADERS = Map.of("Name", "VOLUME NAME", "Driver", "DRIVER",
            "Scope", "SCOPE", "Mountpoint", "MOUNTPOINT", "Labels", "LABELS", "Links", "LINKS", "Size", "SIZE");

    static final String NETWORKS_TABLE = "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
    static final Map<String, String> NETWORKS_HEADERS = Map.of("ID", "NETWORK ID", "Name", "NAME",
            "Driver", "DRIVER", "Scope", "SCOPE", "IPv6", "IPV6", "Internal", "INTERNAL", "Labels", "LABELS",
            "CreatedAt", "CREATED AT");

    static final String STATS_TABLE =
            "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
    static final Map<String, String> STATS_HEADERS = Map.of("Container", "CONTAINER", "ID", "CONTAINER ID",
            "Name", "NAME", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT", "MemPerc", "MEM %",
            "NetIO", "NET I/O", "BlockIO", "BLOCK I/O", "PIDs", "PIDS");

    static final String DF_TABLE = "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
    static final Map<String, String> DF_HEADERS = Map.of("Type", "TYPE", "TotalCount", "TOTAL", "Active", "ACTIVE",
            "Size", "SIZE", "Reclaimable", "RECLAIMABLE");

    private static final DateTimeFormatter GO_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss Z 'UTC'")
            .withZone(ZoneOffset.UTC);

    /** Go's time.String() of a UTC time, as docker's CreatedAt columns print: "2026-12-06 23:40:00 +0000 UTC". */
    static String goTime(String iso) {
        try {
            return GO_TIME.format(Instant.parse(iso));
        } catch (RuntimeException e) {
            return iso == null ? "" : iso;
        }
    }

    /** docker's Labels column: k=v pairs joined with commas (sorted here, for a stable output). */
    static String labels(Map<String, String> labels) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(labels).forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ",").append(k).append('=').append(v));
        return sb.toString();
    }

    /** Adds docker's Labels and Label "key" to a row. */
    static GoStruct withLabels(GoStruct row, Map<String, String> labels) {
        return row.value("Labels", labels(labels)).method("Label", 1, args -> {
            String v = labels.get(String.valueOf(args.get(0)));
            return v == null ? "" : v;
        });
    }

    /** A row whose fields are a JSON object's (stats: docker's keys, and Hull's numbers under Hull). */
    static GoStruct fromJson(String typeName, JsonNode n) {
        GoStruct row = new GoStruct(typeName);
        n.properties().forEach(e -> row.value(e.getKey(), ImageCli.JSON.convertValue(e.getValue(), Object.class)));
        return row;
    }
}
