package dev.hull.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cold {@code bin/hull-runtime} (a JVM per call, as containerd calls it) loads no class it can
 * do without: no annotation proxy (picocli's annotations made 7, whose classes the AOT cache
 * cannot hold: the command line is declared in code) and no Jackson ObjectMapper. Checked in the
 * JVM's own class-load log, through the launcher itself, for a real container's life; no
 * BigDecimal or SecureRandom initialised, no FFM downcall linked by what needs none and at most one
 * downcall shape by what needs some.
 */
class RuntimeColdPathTest {
    static Path base;
    static Path root;

    @BeforeAll
    static void setUp() {
        base = Bundles.tempDir("cold");
        root = base.resolve("state");
    }

    @AfterAll
    static void tearDown() {
        Bundles.cleanUp(base);
    }

    /** loaded: the JVM's class-load log; initialized: its class-initialisation log. */
    record Run(int exit, String out, String err, List<String> loaded, List<String> initialized) {}

    /** bin/hull-runtime --root ROOT args, cold (HULL_NO_SERVICE=1), with the classes it loaded and initialised. */
    static Run cold(String... args) throws IOException, InterruptedException {
        Path log = Files.createTempFile(base, "classes-", ".log");
        Path init = Files.createTempFile(base, "init-", ".log");
        Path out = Files.createTempFile(base, "out-", ".txt");
        Path err = Files.createTempFile(base, "err-", ".txt");
        List<String> cmd = new ArrayList<>(List.of(Bundles.home().resolve("bin/hull-runtime").toString(),
                "--root", root.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("HULL_NO_SERVICE", "1");
        // this build's classes: the suite runs before the jar is packaged
        pb.environment().put("HULL_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().put("HULL_JAVA_OPTS", "-Xlog:class+load:file=" + log + " -Xlog:class+init=info:file=" + init);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("hull-runtime " + String.join(" ", args) + " did not finish in 120 s");
        }
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err), Files.readAllLines(log),
                Files.readAllLines(init));
    }

    /**
     * Asserts the call succeeded, loaded neither a dynamic proxy class nor an ObjectMapper, and
     * initialised no BigDecimal (its static initialiser computes 5^65536: ~30 ms of a cold call;
     * Jackson's parsers, which the runtime's JSON reader replaces, brought it in).
     */
    static Run lean(String... args) throws Exception {
        Run r = cold(args);
        String what = "hull-runtime " + String.join(" ", args);
        assertThat(r.exit()).as("%s: %s", what, r.err()).isZero();
        assertThat(r.loaded()).as("%s loaded classes (the log is the JVM's)", what).isNotEmpty()
                .anyMatch(l -> l.contains(" dev.hull.cli.Main "));
        assertThat(r.loaded()).as("%s: annotation proxies", what)
                .noneMatch(l -> l.contains("$Proxy") || l.contains("__dynamic_proxy__"));
        assertThat(r.loaded()).as("%s: Jackson's ObjectMapper", what)
                .noneMatch(l -> l.contains(" com.fasterxml.jackson.databind.ObjectMapper "));
        assertThat(r.initialized()).as("%s initialised classes (the log is the JVM's)", what)
                .anyMatch(l -> l.contains("Initializing 'dev/hull/cli/Main'"));
        assertThat(r.initialized()).as("%s: BigDecimal", what)
                .noneMatch(l -> l.contains("Initializing 'java/math/BigDecimal'"));
        // nor Jackson's JsonFactory (the runtime reads and writes its JSON itself; ~9 % of a cold state)
        assertThat(r.initialized()).as("%s: Jackson's JsonFactory", what)
                .noneMatch(l -> l.contains("Initializing 'com/fasterxml/jackson/core/JsonFactory'"));
        // nor a SecureRandom (its seeding and the security providers: ~10 ms; create's empty
        // directory for the executor's read-only overlay took its name from one)
        assertThat(r.initialized()).as("%s: SecureRandom", what)
                .noneMatch(l -> l.contains("Initializing 'java/security/SecureRandom'"));
        // at most one FFM downcall shape linked (linux.Native's shared one): each shape is a stub class
        // the JVM generates, with a dozen lambda forms, ~7 ms of a cold call that the AOT cache cannot
        // keep; a cold create linked 17 before its calls shared one
        assertThat(r.loaded().stream().filter(l -> l.contains(" jdk.internal.foreign.abi.DowncallStub/")).count())
                .as("%s: downcall shapes linked", what).isLessThanOrEqualTo(1);
        return r;
    }

    static String status(String id) throws Exception {
        JsonNode s = Bundles.JSON.readTree(lean("state", id).out());
        assertThat(s.path("id").asText()).isEqualTo(id);
        return s.path("status").asText();
    }

    @Test
    void aContainersLifeLoadsNoProxyAndNoObjectMapper() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "b").args("sleep", "1000").write();
        String id = Bundles.id("cold");

        lean("create", "--bundle", b.dir.toString(), id);
        assertThat(status(id)).isEqualTo("created");
        lean("start", id);
        assertThat(status(id)).isEqualTo("running");
        lean("kill", id, "KILL");
        ContainerRuntime rt = new ContainerRuntime(root); // in-process polling; the CLI's answer is checked below
        Host.await(() -> {
            try {
                return rt.state(id).status().equals("stopped");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(status(id)).isEqualTo("stopped");
        lean("delete", id);
        assertThat(rt.store().ids()).doesNotContain(id);
    }

    /** The FFM linker's set-up is ~30 ms of a cold call: what needs no native call must link none. */
    static void linksNoDowncall(Run r, String what) {
        assertThat(r.initialized()).as("%s: FFM downcall linking", what)
                .noneMatch(l -> l.contains("Initializing 'jdk/internal/foreign/abi/DowncallLinker'"));
    }

    @Test
    void stateListAndVersionLinkNoDowncall() throws Exception {
        Bundles.Bundle b = Bundles.create(base, "d").args("sleep", "1000").write();
        String id = Bundles.id("cold-state");
        Run created = lean("create", "--bundle", b.dir.toString(), id);
        assertThat(created.initialized()).as("create links downcalls (the check below can fail)")
                .anyMatch(l -> l.contains("Initializing 'jdk/internal/foreign/abi/DowncallLinker'"));
        assertThat(created.loaded()).as("create links its one downcall shape (lean's count of them can fail)")
                .anyMatch(l -> l.contains(" jdk.internal.foreign.abi.DowncallStub/"));
        try {
            Run state = lean("state", id);
            assertThat(Bundles.JSON.readTree(state.out()).path("status").asText()).isEqualTo("created");
            linksNoDowncall(state, "state");
            Run list = lean("list");
            assertThat(list.out()).contains(id);
            linksNoDowncall(list, "list");
            Run missing = cold("state", "no-such-" + id);
            assertThat(missing.exit()).isNotZero();
            assertThat(missing.err()).contains("does not exist");
            linksNoDowncall(missing, "state of a missing container");
            linksNoDowncall(lean("--version"), "--version");
        } finally {
            lean("delete", "--force", id);
        }
    }

    @Test
    void versionAndHelpLoadNoProxy() throws Exception {
        assertThat(lean("--version").out()).startsWith("hull version ");
        assertThat(lean("--help").out()).contains("Usage: hull-runtime").contains("Exit codes:");
        assertThat(lean("help", "create").out()).contains("Usage: hull-runtime create");
    }

    @Test
    void aBadCommandLineIsStillExitTwo() throws Exception {
        Run r = cold("kill", "--bad", "x");
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option: '--bad'").contains("Usage: hull-runtime kill [-a] ID SIGNAL");
        assertThat(r.loaded()).noneMatch(l -> l.contains("__dynamic_proxy__"));
    }
}
