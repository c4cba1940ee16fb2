package dev.hull.cli;

import dev.hull.image.ImageConfig;
import dev.hull.image.ImageRecord;
import dev.hull.image.ImageService;
import dev.hull.runtime.RuntimeError;
import java.util.List;
import java.util.Map;

/**
 * {@code hull images --filter}: docker's image list filters. dangling=true|false (no name or a name),
 * reference=PATTERN (REPO or REPO:TAG, * and ? within a path part), label=KEY[=VALUE],
 * before=IMAGE and since=IMAGE (created before or after that image). Values of one key: any; keys: all.
 */
final class ImageFilter {
    private final Map<String, List<String>> filters;
    private final String beforeTime;
    private final String sinceTime;

    private ImageFilter(Map<String, List<String>> filters, String beforeTime, String sinceTime) {
        this.filters = filters;
        this.beforeTime = beforeTime;
        this.sinceTime = sinceTime;
    }

    static ImageFilter of(List<String> given, ImageService images) throws Exception {
        Map<String, List<String>> f = new java.util.LinkedHashMap<>();
        for (String s : given) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "--filter " + s + ": use KEY=VALUE");
            }
            String k = s.substring(0, eq);
            String v = s.substring(eq + 1);
            if (!List.of("dangling", "reference", "label", "before", "since").contains(k)) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid filter '" + k + "'");
            }
            if (k.equals("dangling") && !v.matches("(?i)true|false|1|0")) {
                throw new RuntimeError(RuntimeError.Kind.BAD_INPUT, "invalid filter 'dangling=" + v + "'");
            }
            f.computeIfAbsent(k, x -> new java.util.ArrayList<>()).add(v);
        }
        return new ImageFilter(f, created(f, "before", images), created(f, "since", images));
    }

    /** The creation time of the image a before= or since= filter names (the last one given). */
    private static String created(Map<String, List<String>> f, String key, ImageService images) throws Exception {
        List<String> v = f.get(key);
        if (v == null) {
            return null;
        }
        ImageRecord r = images.get(v.getLast());
        if (r == null) {
            throw new RuntimeError(RuntimeError.Kind.NOT_FOUND, "No such image: " + v.getLast());
        }
        return r.created() == null ? "" : r.created();
    }

    /** Whether a row of the listing passes: image r under name (familiar REPO:TAG; null for a nameless one). */
    boolean test(ImageRecord r, String name, ImageService images) {
        for (String d : filters.getOrDefault("dangling", List.of())) {
            boolean dangling = d.equalsIgnoreCase("true") || d.equals("1");
            if (dangling != (name == null)) {
                return false;
            }
        }
        List<String> refs = filters.get("reference");
        if (refs != null && (name == null || refs.stream().noneMatch(p -> referenceMatches(p, name)))) {
            return false;
        }
        String created = r.created() == null ? "" : r.created();
        if (beforeTime != null && compare(created, beforeTime) >= 0
                || sinceTime != null && compare(created, sinceTime) <= 0) {
            return false;
        }
        if (filters.containsKey("label")) {
            Map<String, String> labels = Map.of();
            try {
                ImageConfig.Config c = images.config(r).config();
                if (c != null && c.labels() != null) {
                    labels = c.labels();
                }
            } catch (java.io.IOException | RuntimeException e) {
                // no config readable: no labels
            }
            return dev.hull.engine.EventMessages.labelsMatch(filters, labels);
        }
        return true;
    }

    private static int compare(String a, String b) {
        try {
            return java.time.Instant.parse(a).compareTo(java.time.Instant.parse(b));
        } catch (RuntimeException e) {
            return a.compareTo(b);
        }
    }

    /** docker's reference filter: the pattern against REPO:TAG, or against REPO when it has no tag. */
    static boolean referenceMatches(String pattern, String name) {
        int colon = name.lastIndexOf(':');
        String repo = colon > name.lastIndexOf('/') ? name.substring(0, colon) : name;
        String re = glob(pattern);
        return name.matches(re) || repo.matches(re);
    }

    private static String glob(String pattern) {
        StringBuilder s = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> s.append("[^/]*");
                case '?' -> s.append("[^/]");
                default -> s.append(java.util.regex.Pattern.quote(Character.toString(c)));
            }
        }
        return s.toString();
    }
}
