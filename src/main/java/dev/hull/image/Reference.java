package dev.hull.image;

import java.util.regex.Pattern;

/**
 * An image reference, {@code [registry/]repository[:tag][@digest]}, normalized
 * the way docker does it: no registry means docker.io, a one-part docker.io
 * repository gets {@code library/}, no tag and no digest means {@code :latest}.
 */
public record Reference(String registry, String repository, String tag, Digest digest) {
    public static final String DOCKER_HUB = "docker.io";
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern REGISTRY = Pattern.compile(
            "(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
                    + "|\\[[0-9A-Fa-f:.]+\\](?::[0-9]+)?");

    /** Parses and normalizes; IllegalArgumentException names the text and what is wrong with it. */
    public static Reference parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("empty image reference");
        }
        String rest = text;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            try {
                digest = Digest.parse(rest.substring(at + 1));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("image reference \"" + text + "\": " + e.getMessage());
            }
            rest = rest.substring(0, at);
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw new IllegalArgumentException("image reference \"" + text + "\": invalid tag \"" + tag + "\"");
            }
        }
        String registry = DOCKER_HUB;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || first.startsWith("[")
                    || !first.equals(first.toLowerCase())) {
                registry = first;
                rest = rest.substring(slash + 1);
                if (!REGISTRY.matcher(registry).matches()) {
                    throw new IllegalArgumentException("image reference \"" + text + "\": invalid registry \""
                            + registry + "\"");
                }
            }
        }
        if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) {
            registry = DOCKER_HUB;
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("image reference \"" + text + "\": missing repository name");
        }
        for (String part : rest.split("/", -1)) {
            if (!COMPONENT.matcher(part).matches()) {
                throw new IllegalArgumentException("image reference \"" + text + "\": invalid repository name \""
                        + rest + "\" (lowercase letters, digits and . _ - separators)");
            }
        }
        if (registry.equals(DOCKER_HUB) && !rest.contains("/")) {
            rest = "library/" + rest;
        }
        if (rest.length() + registry.length() + 1 > 255) {
            throw new IllegalArgumentException("image reference \"" + text + "\": name longer than 255 characters");
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        return new Reference(registry, rest, tag, digest);
    }

    /** registry/repository, without tag or digest. */
    public String name() {
        return registry + "/" + repository;
    }

    /** The same repository with this tag and no digest. */
    public Reference withTag(String newTag) {
        return new Reference(registry, repository, newTag, null);
    }

    public Reference withDigest(Digest d) {
        return new Reference(registry, repository, null, d);
    }

    /** What the registry API is asked for: the digest if there is one, else the tag. */
    public String manifestReference() {
        return digest != null ? digest.toString() : tag;
    }

    /** The short form users type: docker.io/library/ and docker.io/ left out. */
    public String familiarName() {
        if (registry.equals(DOCKER_HUB)) {
            return repository.startsWith("library/") ? repository.substring(8) : repository;
        }
        return name();
    }

    public String familiar() {
        return familiarName() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }

    @Override
    public String toString() {
        return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
