package dev.hull.build;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code hull build} asks for. context: the build context directory; dockerfile: the
 * Dockerfile's text and the name errors call it by; stdio: the descriptors RUN steps write to
 * (null: this process's own); out: where progress goes.
 */
public final class BuildRequest {
    public Path context;
    public String dockerfileName = "Dockerfile";
    public String dockerfileText;
    public List<String> tags = new ArrayList<>();
    public Map<String, String> buildArgs = new LinkedHashMap<>();
    public String target;
    public boolean noCache;
    /** --pull: every FROM image is pulled from its registry again, even when the store has it. */
    public boolean pull;
    public Map<String, String> labels = new LinkedHashMap<>();
    public boolean quiet;
    /** --progress tty: a view redrawn in place on err (a terminal) instead of plain lines on out. */
    public boolean tty;
    /** --platform: what the build makes (FROM images pulled for it, the config's architecture); null: this host's. */
    public dev.hull.image.Platform platform;
    public int[] stdio;
    public PrintStream out = System.out;
    public PrintStream err = System.err;
    /** --secret: id → the secret's bytes (RUN --mount=type=secret,id=ID sees them; no layer or history does). */
    public Map<String, byte[]> secrets = new LinkedHashMap<>();
    /** --ssh: the identity the git fetches (the context's, ADD's) may use; none by default. */
    public SshForward ssh = SshForward.NONE;
    /** --network: the network RUN steps join (bridge, host, none); RUN --network=default means this one. */
    public String network = "bridge";
    /**
     * Progress worded as dockerd's classic builder words it ("Step 1/5 : FROM busybox", " ---> Using
     * cache", " ---> ID"), for the Docker API's clients (docker build, docker-compose) and what parses
     * their output; else Hull's (STEP 1/5: ..., --> CACHED ID).
     */
    public boolean dockerWording;
    /** SOURCE_DATE_EPOCH (seconds): history and config times, and the clamp of every layer entry's mtime. */
    public Long sourceDateEpoch;
    /** How many stages may build side by side (HULL_BUILD_JOBS; 1: one after another, in file order). */
    public int jobs = Math.clamp(Runtime.getRuntime().availableProcessors(), 2, 4);

    /**
     * --platform OS/ARCH[/VARIANT] (hull build's flag, the Docker API's platform=): the platform
     * the build makes, one, linux.
     */
    public static dev.hull.image.Platform platform(String text) throws BuildException {
        if (text.contains(",")) {
            throw new BuildException("--platform " + text + ": hull build makes one platform at a time (build once per"
                    + " platform)");
        }
        dev.hull.image.Platform p;
        try {
            p = dev.hull.image.Platform.parse(text.strip());
        } catch (IllegalArgumentException e) {
            throw new BuildException(e.getMessage());
        }
        if (!p.os().equals("linux")) {
            throw new BuildException("--platform " + text + ": hull builds linux images only");
        }
        return p;
    }

    /** jobs from HULL_BUILD_JOBS's value (null or empty: the default, the host's CPUs, 2 to 4). */
    public void jobs(String setting) throws BuildException {
        if (setting == null || setting.isEmpty()) {
            return;
        }
        try {
            jobs = Integer.parseInt(setting);
        } catch (NumberFormatException e) {
            jobs = 0;
        }
        if (jobs < 1) {
            throw new BuildException("HULL_BUILD_JOBS=" + setting + ": not a number of stages (1 or more)");
        }
    }
}
