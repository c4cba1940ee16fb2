package dev.hull.service;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client's request: which command line ({@code hull} or {@code hull-runtime}), whether the
 * client starts executors when asked ({@link ClientLauncher}), the client's build, its cwd, argv
 * and environment. On the wire: NUL-terminated fields {@code @PROGRAM[+launch]}, {@code #BUILD},
 * cwd, argc, argv..., envc, env... (older clients send neither or only the first of the two
 * tagged fields; their build is then unknown).
 */
public record Request(boolean hull, boolean launches, String build, Path cwd, String[] argv, Map<String, String> env) {

    /** The program field's suffix of a client that starts the executor when asked. */
    static final String LAUNCH = "+launch";

    public String program() {
        return hull ? "hull" : "hull-runtime";
    }

    static Request parse(List<String> fields) throws IOException {
        int i = 0;
        String program = "hull-runtime";
        boolean launches = false;
        String build = null;
        if (i < fields.size() && fields.get(i).startsWith("@")) {
            launches = fields.get(i).endsWith(LAUNCH);
            program = programName(fields.get(i).substring(1));
            i++;
        }
        if (i < fields.size() && fields.get(i).startsWith("#")) {
            build = fields.get(i).substring(1);
            i++;
        }
        if (!program.equals("hull") && !program.equals("hull-runtime")) {
            throw new IOException("request for an unknown program " + program);
        }
        try {
            Path cwd = Path.of(fields.get(i));
            int argc = Integer.parseInt(fields.get(i + 1));
            String[] argv = fields.subList(i + 2, i + 2 + argc).toArray(String[]::new);
            Map<String, String> env = new HashMap<>();
            int e = i + 2 + argc;
            if (e < fields.size()) {
                int envc = Integer.parseInt(fields.get(e));
                for (String kv : fields.subList(e + 1, Math.min(fields.size(), e + 1 + envc))) {
                    int eq = kv.indexOf('=');
                    if (eq > 0) {
                        env.putIfAbsent(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                }
            }
            return new Request(program.equals("hull"), launches, build, cwd, argv, env);
        } catch (RuntimeException x) {
            throw new IOException("malformed request: " + x, x);
        }
    }

    /** The program a "@PROGRAM[+launch]" field (without the '@') names. */
    static String programName(String field) {
        return field.endsWith(LAUNCH) ? field.substring(0, field.length() - LAUNCH.length()) : field;
    }
}
