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
    private static final Set<String> FLAGS = Set.of("from", "chown", "chmod", "link");
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
        if (from == null && ctx == null && list.stream().anyMatch(w -> !w.startsWith(HEREDOC))) {
            throw in.error(in.keyword() + " needs a build context (the Dockerfile came on stdin without one)");
        }
        for (String src : list) {
            if (src.matches("(?i)(https?|git)://.*") || src.startsWith("git@")) {
                throw in.error(in.keyword() + " " + src + ": remote URLs are not supported by hull build"
                        + (add ? " (download it with RUN wget, or COPY a file you downloaded into the context)" : ""));
            }
        }
        if (from == null) { // the key: a digest of what is copied (content, modes, owners)
            List<BuildContext.Match> matches = matches(b, in, words, vars, list, ctx);
            String extra = "context\n" + BuildContext.digest(matches);
            boolean extract = add && ctx != null;
            return b.cached(s, in.text(), extra, () -> write(b, s, in, words, vars, matches, dest, extract, false));
        }
        // from a stage or image: its id fixes the content; its files are read only on a miss
        String f = in.expand(() -> words.word(from, vars));
        ImageRecord image = sources.image(f, s.index, in);
        return b.cached(s, in.text(), image.id() + "\n" + String.join("\n", list), () -> {
            Path flat = b.flatten(image);
            try {
                BuildContext source = new BuildContext(flat, DockerIgnore.none());
                write(b, s, in, words, vars, matches(b, in, words, vars, list, source), dest, false, true);
            } finally {
                SnapshotStore.deleteTree(flat);
            }
        });
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
            try {
                matches.addAll(source.match(src));
            } catch (IllegalArgumentException e) {
                throw in.error(in.keyword() + " " + src + ": " + e.getMessage());
            }
        }
        return matches;
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

    private static void write(BuildSession b, Stage s, Instruction in, Words words, Map<String, String> vars,
            List<BuildContext.Match> matches, String dest, boolean extract, boolean fromImage)
            throws BuildException, IOException, RuntimeError {
        List<Path> lower = b.unpack(s);
        CopyLayer layer = new CopyLayer(lower, b.epoch);
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
        boolean toDir = dest.endsWith("/") || dest.endsWith("/.") || dest.equals(".");
        if (matches.size() > 1 && !toDir) {
            throw in.error(in.keyword() + " with more than one source file: the destination must be a"
                    + " directory and end with a / (" + dest + ")");
        }
        try {
            layer.copy(matches, target, toDir, extract, chmod, owner, fromImage, b.tmp);
        } catch (IllegalArgumentException e) {
            throw in.error(in.keyword() + ": " + e.getMessage());
        }
        s.commit(b.content, in.text(), layer.tar().store(b.content, b.tmp, b.epoch), b.epoch);
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
