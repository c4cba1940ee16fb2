package dev.hull.build;

import dev.hull.build.Dockerfile.Instruction;
import dev.hull.image.ImageRecord;
import dev.hull.image.SnapshotStore;
import dev.hull.runtime.RuntimeError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * COPY and ADD: the sources matched in the context (or, with --from, in a stage's or image's root
 * filesystem), their content digest in the cache key, and on a miss a {@link CopyLayer} written
 * straight from them (no container) with --chown, --chmod and ADD's tar extraction.
 */
final class CopyStep {
    private static final Set<String> FLAGS = Set.of("from", "chown", "chmod", "link", "checksum", "parents");
    /** A source that is the instruction's heredoc number N: HEREDOC + N (no word can start with a NUL). */
    private static final String HEREDOC = "\0heredoc:";

    private CopyStep() {}

    static boolean run(BuildSession b, Stage s, Instruction in, Words words, BuildContext ctx, Sources sources)
            throws BuildException, IOException, RuntimeError {
        boolean add = in.keyword().equals("ADD");
        Map<String, String> vars = s.vars();
        for (String f : in.flags().keySet()) {
            if (!FLAGS.contains(f)) {
                throw in.error(in.keyword() + " --" + f + " is not supported yet");
            }
        }
        List<String> list = words(in, words, vars);
        if (list.size() < 2) {
            throw in.error(in.keyword() + " needs a source and a destination");
        }
        String dest = list.remove(list.size() - 1);
        String from = in.flags().get("from");
        String checksum = in.flags().get("checksum");
        if (checksum != null && (!add || list.size() != 1 || !RemoteSource.isUrl(list.get(0)))) {
            throw in.error(in.keyword() + " --checksum takes one http(s) source (ADD --checksum=sha256:HEX URL DEST)");
        }
        boolean urls = false;
        for (String src : list) {
            if (RemoteSource.isGit(src)) {
                if (!add || from != null) {
                    throw in.error(in.keyword() + " " + src + ": " + (add ? "ADD --from" : "COPY")
                            + " does not take git repositories (ADD clones them)");
                }
                urls = true;
                continue;
            }
            if (RemoteSource.isUrl(src)) {
                if (!add || from != null) {
                    throw in.error(in.keyword() + " " + src + ": " + (add ? "ADD --from" : "COPY")
                            + " does not take URLs (ADD downloads them)");
                }
                urls = true;
            }
        }
        if (from == null && ctx == null && list.stream().anyMatch(w -> !w.startsWith(HEREDOC)
                && !RemoteSource.isUrl(w) && !RemoteSource.isGit(w))) {
            throw in.error(in.keyword() + " needs a build context (the Dockerfile came on stdin without one)");
        }
        if (from == null) { // the key: a digest of what is copied (content, modes, owners)
            List<BuildContext.Match> matches = matches(b, in, words, vars, list, ctx);
            String extra = "context\n" + BuildContext.digest(matches);
            boolean extract = add && ctx != null && !urls; // a download is copied as it is
            return b.cached(s, in.text(), extra, () -> write(b, s, in, words, vars, matches, dest, extract, false,
                    extra));
        }
        // from a stage or image: its id fixes the content; its files are read only on a miss
        String f = in.expand(() -> words.word(from, vars));
        ImageRecord image = sources.image(f, s.index, in);
        String extra = image.id() + "\n" + String.join("\n", list);
        return b.cached(s, in.text(), extra, () -> {
            if (reuseLinked(b, s, in, extra)) {
                return;
            }
            List<Path> temps = new ArrayList<>();
            try {
                List<BuildContext.Match> direct = parents(in) ? null : direct(b, image, list, temps);
                if (direct == null) { // globs, --parents, a path through a symlink: the whole image, flattened
                    Path flat = b.flatten(image);
                    temps.add(flat);
                    direct = matches(b, in, words, vars, list, new BuildContext(flat, DockerIgnore.none()));
                } else {
                    direct = exclude(in, words, vars, direct);
                }
                write(b, s, in, words, vars, direct, dest, false, true, extra);
            } finally {
                for (Path t : temps) {
                    SnapshotStore.deleteTree(t);
                }
            }
        });
    }

    /**
     * COPY --from's sources read in place from the image's layers, without flattening it whole: a
     * file from the layer that shows it, a directory flattened alone (into a temp dir, added to
     * temps). Null when a source is a glob, the image's root or not plainly there, or with
     * --parents (the whole image is flattened then, as before).
     */
    private static List<BuildContext.Match> direct(BuildSession b, ImageRecord image, List<String> list,
            List<Path> temps) throws IOException, RuntimeError {
        if (list.stream().anyMatch(w -> w.startsWith(HEREDOC) || w.indexOf('*') >= 0 || w.indexOf('?') >= 0
                || w.indexOf('[') >= 0)) {
            return null;
        }
        List<Path> layers = null;
        List<BuildContext.Match> out = new ArrayList<>();
        for (String src : list) {
            String rel;
            try {
                rel = BuildContext.clean(src);
            } catch (IllegalArgumentException e) {
                return null;
            }
            if (rel.isEmpty()) {
                return null;
            }
            if (layers == null) {
                layers = b.images.unpack(image);
            }
            Path p = dev.hull.image.unpack.LayerFlattener.locate(layers, rel);
            if (p == null) {
                return null;
            }
            if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Path dir = Files.createTempDirectory(b.tmp, "from-");
                temps.add(dir);
                if (!dev.hull.image.unpack.LayerFlattener.flattenSubtree(layers, rel, dir)) {
                    return null;
                }
                out.addAll(new BuildContext(dir, DockerIgnore.none()).match("."));
            } else {
                Path root = p;
                for (int i = 0; i < rel.split("/").length; i++) {
                    root = root.getParent();
                }
                out.add(new BuildContext.Match(root, rel, false, List.of(rel)));
            }
        }
        return out;
    }

    /** The sources' matches in source (heredocs as files of their own). */
    private static List<BuildContext.Match> matches(BuildSession b, Instruction in, Words words,
            Map<String, String> vars, List<String> list, BuildContext source) throws BuildException, IOException {
        List<BuildContext.Match> matches = new ArrayList<>();
        for (String src : list) {
            if (src.startsWith(HEREDOC)) {
                Heredoc h = in.heredocs().get(Integer.parseInt(src.substring(HEREDOC.length())));
                matches.addAll(heredocFile(b, in, h, words, vars));
                continue;
            }
            if (RemoteSource.isGit(src)) { // the repository's files (at #REF:DIR), cloned for every build
                Path repo;
                try {
                    repo = GitSource.fetch(src, b.tmp, "ADD", b.req.ssh);
                } catch (BuildException e) {
                    throw in.error(e.getMessage());
                }
                matches.addAll(new BuildContext(repo, DockerIgnore.none()).match("."));
                continue;
            }
            if (RemoteSource.isUrl(src)) {
                matches.addAll(RemoteSource.fetch(in, src, b.tmp, in.flags().get("checksum")));
                continue;
            }
            try {
                matches.addAll(source.match(src, parents(in)));
            } catch (IllegalArgumentException e) {
                throw in.error(in.keyword() + " " + src + ": " + e.getMessage());
            }
        }
        return exclude(in, words, vars, matches);
    }

    /** Whether the step has --parents (--parents=false: no). */
    static boolean parents(Instruction in) {
        return in.flags().containsKey("parents") && !"false".equalsIgnoreCase(in.flags().get("parents"));
    }

    /**
     * The matches less what --exclude patterns match (.dockerignore's pattern rules), each path
     * taken from where the match names its files: below a directory source, a file by its name,
     * with --parents from the pivot. A directory excluded takes what is below it.
     */
    private static List<BuildContext.Match> exclude(Instruction in, Words words, Map<String, String> vars,
            List<BuildContext.Match> matches) throws BuildException {
        if (in.excludes().isEmpty()) {
            return matches;
        }
        StringBuilder text = new StringBuilder();
        for (String x : in.excludes()) {
            text.append(in.expand(() -> words.word(x, vars))).append('\n');
        }
        DockerIgnore patterns = DockerIgnore.parse(text.toString());
        List<BuildContext.Match> kept = new ArrayList<>();
        for (BuildContext.Match m : matches) {
            String self = m.name(m.rel());
            if (!self.isEmpty() && patterns.ignored(self)) {
                continue;
            }
            List<String> files = m.files().stream().filter(f -> {
                String n = m.name(f);
                return n.isEmpty() || f.equals(m.rel()) || !patterns.ignored(n);
            }).toList();
            kept.add(new BuildContext.Match(m.root(), m.rel(), m.dir(), files, m.pivot()));
        }
        return kept;
    }

    /** The sources and the destination: the exec form's strings (variables replaced) or the words. */
    private static List<String> words(Instruction in, Words words, Map<String, String> vars) throws BuildException {
        if (in.json() == null) {
            List<String> list = new ArrayList<>();
            int heredoc = 0;
            for (String raw : in.expand(() -> words.splitRaw(in.args()))) {
                if (heredoc < in.heredocs().size() && Heredoc.marker(raw) != null) {
                    list.add(HEREDOC + heredoc++);
                } else {
                    list.add(in.expand(() -> words.word(raw, vars)));
                }
            }
            return list;
        }
        List<String> list = new ArrayList<>();
        for (String w : in.json()) {
            list.add(in.expand(() -> words.word(w.replace("\"", "\\\"").replace("'", "\\'"), vars)));
        }
        return list;
    }

    /** Whether the step has --link (--link=false: no). */
    static boolean link(Instruction in) {
        return in.flags().containsKey("link") && !"false".equalsIgnoreCase(in.flags().get("link"));
    }

    /**
     * A --link step's key without its parent: the instruction, what it copies (extra), where
     * relative paths start (WORKDIR) and the ARGs in scope.
     */
    private static String linkKey(Stage s, Instruction in, String extra) {
        StringBuilder scope = new StringBuilder();
        new java.util.TreeMap<>(s.args).forEach((k, v) -> scope.append(k).append('=').append(v).append('\n'));
        return BuildCache.key("link", in.text(), extra, s.workdir(), scope.toString());
    }

    /**
     * Whether a --link layer may serve any parent: not when --chown names a user or group (the
     * parent's /etc/passwd and /etc/group say which numbers they are).
     */
    private static boolean reusable(Instruction in) {
        String chown = in.flags().get("chown");
        return link(in) && (chown == null || chown.matches("[0-9]+(:[0-9]+)?"));
    }

    /** A --link step whose layer some parent already made: committed on s as it is; false if none. */
    private static boolean reuseLinked(BuildSession b, Stage s, Instruction in, String extra) throws IOException {
        if (!reusable(in) || b.req.noCache) {
            return false;
        }
        LayerTar.Stored layer = b.cache.linked(linkKey(s, in, extra));
        if (layer == null) {
            return false;
        }
        s.commit(b.content, in.text(), layer, b.epoch);
        return true;
    }

    /**
     * Writes the step's layer and commits it on s. With --link the layer is made as if on an empty
     * image (the image's symlinks on the destination's way are not followed, directories on it are
     * made 0755 root), so it does not depend on the layers below and is cached without them: after
     * a change below, the same files give the same layer blob again without being copied.
     */
    private static void write(BuildSession b, Stage s, Instruction in, Words words, Map<String, String> vars,
            List<BuildContext.Match> matches, String dest, boolean extract, boolean fromImage, String extra)
            throws BuildException, IOException, RuntimeError {
        if (reuseLinked(b, s, in, extra)) {
            return;
        }
        List<Path> lower = b.unpack(s);
        CopyLayer layer = new CopyLayer(link(in) ? List.of() : lower, b.epoch);
        Integer chmod = null;
        if (in.flags().containsKey("chmod")) {
            String m = in.flags().get("chmod");
            if (m == null || !m.matches("[0-7]{3,4}")) {
                throw in.error(in.keyword() + " --chmod=" + m + ": use an octal mode like 755 or 0644");
            }
            chmod = Integer.parseInt(m, 8);
        }
        long[] owner = null;
        if (in.flags().containsKey("chown")) {
            String c = in.expand(() -> words.word(String.valueOf(in.flags().get("chown")), vars));
            try {
                owner = Owners.resolve(c, lower);
            } catch (IllegalArgumentException e) {
                throw in.error(in.keyword() + " --chown=" + c + ": " + e.getMessage());
            }
        }
        String target = dest.startsWith("/") ? dest : s.workdir() + "/" + dest;
        boolean toDir = dest.endsWith("/") || dest.endsWith("/.") || dest.equals(".") || parents(in);
        if (matches.size() > 1 && !toDir) {
            throw in.error(in.keyword() + " with more than one source file: the destination must be a"
                    + " directory and end with a / (" + dest + ")");
        }
        try {
            layer.copy(matches, target, toDir, extract, chmod, owner, fromImage, b.tmp);
        } catch (IllegalArgumentException e) {
            throw in.error(in.keyword() + ": " + e.getMessage());
        }
        LayerTar.Stored stored = layer.tar().store(b.content, b.tmp, b.epoch);
        if (reusable(in)) {
            b.cache.putLinked(linkKey(s, in, extra), stored);
        }
        s.commit(b.content, in.text(), stored, b.epoch);
    }

    /**
     * A heredoc source as a file named after it (0644, root) in the build's temp dir: its content with
     * <<-'s tabs stripped and, unless its name was quoted, variables replaced.
     */
    private static List<BuildContext.Match> heredocFile(BuildSession b, Instruction in, Heredoc h, Words words,
            Map<String, String> vars) throws BuildException, IOException {
        String data = h.expand() ? in.expand(() -> words.replaceVariables(h.data(), vars)) : h.data();
        if (h.name().contains("/") || h.name().equals("..") || h.name().equals(".")) {
            throw in.error(in.keyword() + " <<" + h.name() + ": not a file name");
        }
        Path dir = Files.createTempDirectory(b.tmp, "heredoc-");
        Path f = dir.resolve(h.name());
        Files.writeString(f, data);
        dev.hull.linux.Syscalls.lchmod(f.toString(), 0644);
        return new BuildContext(dir, DockerIgnore.none()).match(h.name());
    }

    /** Where --from=REF takes files from: an earlier stage (by name or number) or an image. */
    @FunctionalInterface
    interface Sources {
        ImageRecord image(String ref, int stageIndex, Instruction in) throws BuildException, IOException, RuntimeError;
    }
}
