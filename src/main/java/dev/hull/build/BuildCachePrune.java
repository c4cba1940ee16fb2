package dev.hull.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code hull builder prune} / {@code docker builder prune} with BuildKit's bounds: the until filter
 * (only what was last used before then goes), reserved space (keep-storage: never prune below it),
 * max used space and min free space (prune, oldest use first, until the cache is at most that big
 * and the filesystem has that much free). An entry's last use is its mtime: a cache hit touches it.
 */
public final class BuildCachePrune {
    /** What to prune: until null for any age; a space of 0 is no bound. */
    public record Options(Instant until, long reservedSpace, long maxUsedSpace, long minFreeSpace) {
        public static final Options ALL = new Options(null, 0, 0, 0);

        boolean bounded() {
            return reservedSpace > 0 || maxUsedSpace > 0 || minFreeSpace > 0;
        }
    }

    /** One entry of the cache: a step's record or a RUN --mount=type=cache directory. */
    record Item(Path path, String name, long size, Instant lastUsed, boolean inUse) {}

    private BuildCachePrune() {
    }

    /**
     * The entries to remove, oldest use first: those not in use and last used before until; with a
     * space bound, only as many as bring the whole cache (every entry's size) within it. free tells
     * the filesystem's free bytes (asked before each removal; it grows by what was removed).
     */
    static List<Item> select(List<Item> items, Options o, LongSupplier free) {
        long total = items.stream().mapToLong(Item::size).sum();
        List<Item> candidates = new ArrayList<>(items.stream()
                .filter(i -> !i.inUse() && (o.until() == null || i.lastUsed().isBefore(o.until()))).toList());
        candidates.sort(Comparator.comparing(Item::lastUsed).thenComparing(Item::name));
        List<Item> chosen = new ArrayList<>();
        long freed = 0;
        for (Item i : candidates) {
            if (o.bounded()) {
                if (o.reservedSpace() > 0 && total - i.size() < o.reservedSpace()) {
                    break; // never below the reserve
                }
                boolean targets = o.maxUsedSpace() > 0 || o.minFreeSpace() > 0;
                if (targets && (o.maxUsedSpace() == 0 || total <= o.maxUsedSpace())
                        && (o.minFreeSpace() == 0 || free.getAsLong() + freed >= o.minFreeSpace())) {
                    break;
                }
            }
            chosen.add(i);
            total -= i.size();
            freed += i.size();
        }
        return chosen;
    }

    /** Prunes home's build cache as o says; adds the names removed to removed; returns the bytes freed. */
    public static long prune(Path home, Options o, List<String> removed) throws IOException {
        Path build = home.resolve("build");
        List<Item> items = new ArrayList<>();
        for (String sub : new String[] {"cache", "mounts"}) {
            Path d = build.resolve(sub);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (var list = Files.list(d)) {
                for (Path p : list.toList()) {
                    String name = p.getFileName().toString();
                    if (name.endsWith(".lock")) {
                        continue;
                    }
                    boolean inUse = sub.equals("mounts") && BuildCache.inUse(d.resolve(name + ".lock"));
                    Instant used;
                    try {
                        used = Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toInstant();
                    } catch (java.nio.file.NoSuchFileException gone) {
                        continue;
                    }
                    items.add(new Item(p, name, BuildCache.size(p), used, inUse));
                }
            }
        }
        if (items.isEmpty()) {
            return 0;
        }
        var store = Files.getFileStore(build);
        long freed = 0;
        for (Item i : select(items, o, () -> {
            try {
                return store.getUsableSpace();
            } catch (IOException e) {
                return Long.MAX_VALUE;
            }
        })) {
            dev.hull.image.SnapshotStore.deleteTree(i.path());
            freed += i.size();
            removed.add(i.name());
        }
        return freed;
    }

    private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    /**
     * The until filter's time, as dockerd reads it: a duration back from now (Go's syntax: 24h, 1h30m,
     * 1.5h, 90s), a unix time (seconds, with an optional fraction) or an RFC 3339 time.
     */
    public static Instant until(String text, Instant now) {
        String s = text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("until: empty");
        }
        Matcher m = GO_DURATION.matcher(s);
        int at = 0;
        double nanos = 0;
        while (m.find() && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            nanos += n * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = m.end();
        }
        if (at == s.length()) {
            return now.minusNanos((long) nanos);
        }
        if (s.matches("\\d+(\\.\\d{1,9})?")) {
            String[] parts = s.split("\\.");
            long frac = parts.length == 2 ? Long.parseLong((parts[1] + "000000000").substring(0, 9)) : 0;
            return Instant.ofEpochSecond(Long.parseLong(parts[0]), frac);
        }
        try {
            return java.time.OffsetDateTime.parse(s).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("until " + text + ": use a duration (24h, 90m), a unix time or an"
                    + " RFC 3339 time");
        }
    }
}
