package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docker events, system df and the prunes, with the docker CLI against a Hull service of this
 * class's own (its own store: what it prunes is its own; label filters keep each prune to the
 * objects the test made for it, and the test checks an unlabelled one survives).
 */
class DockerSystemApiTest extends ApiServiceTest {

    private static final String FORMAT = "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"
            + "{{with .Actor.Attributes.exitCode}} {{.}}{{end}}";

    @Test
    void eventsStreamedAndBetweenSinceAndUntil() throws Exception {
        long since = System.currentTimeMillis() / 1000 - 1;
        Path streamed = tmp.resolve("events.txt");
        // since: the stream replays from then on, so nothing is missed before it is connected
        Process stream = api.spawn(streamed, "events", "--since", Long.toString(since), "--filter",
                "container=ev-one", "--format", FORMAT);
        try {
            Result run = api.docker("run", "--name", "ev-one", "busybox", "sh", "-c", "exit 3");
            assertThat(run.exit()).as("%s", run).isEqualTo(3);
            ApiService.awaitFile(streamed, t -> t.contains("container die ev-one 3"), "the die event");
            ok(api.docker("rm", "ev-one"));
            ApiService.awaitFile(streamed, t -> t.contains("container destroy ev-one"), "the destroy event");
            assertThat(stream.isAlive()).as("without --until the stream goes on").isTrue();
        } finally {
            stream.destroy();
        }
        List<String> lines = Files.readAllLines(streamed).stream().map(String::strip).toList();
        assertThat(lines).containsExactly("container create ev-one", "container start ev-one",
                "container die ev-one 3", "container destroy ev-one");

        // a detached one seen live: its start, its end (read from its monitor), its removal
        Path live = tmp.resolve("live.txt");
        Process follow = api.spawn(live, "events", "--since", Long.toString(since), "--filter", "type=container",
                "--filter", "event=start", "--filter", "event=die", "--format", FORMAT);
        try {
            ok(api.docker("run", "-d", "--name", "ev-two", "busybox", "sleep", "1000"));
            ApiService.awaitFile(live, t -> t.contains("container start ev-two"), "ev-two's start");
            ok(api.docker("kill", "ev-two"));
            ApiService.awaitFile(live, t -> t.contains("container die ev-two 137"), "ev-two's die");
        } finally {
            follow.destroy();
        }
        assertThat(Files.readString(live)).doesNotContain("create", "kill");

        long until = System.currentTimeMillis() / 1000 + 1;
        ok(api.docker("network", "create", "ev-net"));
        ok(api.docker("network", "rm", "ev-net"));
        Thread.sleep(1100); // until must be past, as a wall-clock bound
        Result between = ok(api.docker("events", "--since", Long.toString(since), "--until",
                Long.toString(until + 1), "--filter", "container=ev-two", "--format", FORMAT));
        assertThat(between.out().lines().map(String::strip).toList()).containsExactly("container create ev-two",
                "container start ev-two", "container kill ev-two", "container die ev-two 137");
        Result networks = ok(api.docker("events", "--since", Long.toString(since), "--until",
                Long.toString(until + 1), "--filter", "type=network", "--filter", "network=ev-net", "--format",
                "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"));
        assertThat(networks.out().lines().toList()).containsExactly("network create ev-net", "network destroy ev-net");
        ok(api.docker("tag", "busybox", "ev/tagged:1"));
        ok(api.docker("rmi", "ev/tagged:1"));
        Thread.sleep(1100);
        Result images = ok(api.docker("events", "--since", Long.toString(since), "--until",
                Long.toString(System.currentTimeMillis() / 1000), "--filter", "type=image", "--format",
                "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"));
        String busybox = ok(api.docker("image", "inspect", "-f", "{{.Id}}", "busybox")).out().strip();
        // dockerd names an untagged image by its ID (DockerEventsTest checks the others)
        assertThat(images.out().lines().toList()).containsExactly("image tag ev/tagged:1", "image untag " + busybox);
        Result none = ok(api.docker("events", "--since", Long.toString(since - 10), "--until",
                Long.toString(since - 5)));
        assertThat(none.out()).isEmpty();
        // one engine: what the hull command line does is in the same log
        ok(api.hull("rm", "ev-two"));
        Thread.sleep(1100);
        Result byHull = ok(api.docker("events", "--since", Long.toString(since), "--until",
                Long.toString(System.currentTimeMillis() / 1000), "--filter", "type=container", "--filter", "event=destroy",
                "--format", FORMAT));
        assertThat(byHull.out().lines().map(String::strip).toList()).containsExactly("container destroy ev-one",
                "container destroy ev-two");
    }

    @Test
    void systemDfAndPrunesOfWhatTheFiltersName() throws Exception {
        ok(api.docker("run", "--name", "pr-gone", "-l", "suite=prune", "busybox", "sh", "-c",
                "head -c 300000 /dev/zero > /filler"));
        ok(api.docker("run", "--name", "pr-kept", "busybox", "true"));
        ok(api.docker("volume", "create", "--label", "suite=prune", "pr-vol"));
        ok(api.docker("volume", "create", "pr-vol-kept"));
        ok(api.docker("network", "create", "--label", "suite=prune", "pr-net"));
        ok(api.docker("network", "create", "pr-net-kept"));

        // the image counts as active: stopped containers use it too (as docker counts)
        Result df = ok(api.docker("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"));
        assertThat(df.out().lines().toList()).containsExactly("Images 1 1", "Containers 2 0", "Local Volumes 2 0",
                "Build Cache 0 0");
        Result verbose = ok(api.docker("system", "df", "-v"));
        assertThat(verbose.out()).contains("pr-gone", "pr-kept", "pr-vol", "busybox");
        assertThat(verbose.out().lines().filter(l -> l.contains("pr-gone")).findFirst().orElseThrow())
                .contains("300kB");

        Result containers = ok(api.docker("container", "prune", "-f", "--filter", "label=suite=prune"));
        assertThat(containers.out()).startsWith("Deleted Containers:\n").contains("Total reclaimed space: 300");
        assertThat(ok(api.docker("ps", "-a", "--format", "{{.Names}}")).out()).isEqualTo("pr-kept\n");
        assertThat(ok(api.hull("ps", "-a", "-q")).out().lines()).hasSize(1); // one engine: hull sees the same

        Result networks = ok(api.docker("network", "prune", "-f", "--filter", "label=suite=prune"));
        assertThat(networks.out()).isEqualTo("Deleted Networks:\npr-net\n\n");
        assertThat(ok(api.docker("network", "ls", "--format", "{{.Name}}")).out()).contains("pr-net-kept")
                .doesNotContain("pr-net\n");

        // API 1.42 on: without --all only anonymous volumes go (none of these is)
        Result anonymousOnly = ok(api.docker("volume", "prune", "-f", "--filter", "label=suite=prune"));
        assertThat(anonymousOnly.out()).contains("Total reclaimed space: 0B");
        assertThat(ok(api.docker("volume", "ls", "-q")).out()).isEqualTo("pr-vol\npr-vol-kept\n");
        Result volumes = ok(api.docker("volume", "prune", "-a", "-f", "--filter", "label=suite=prune"));
        assertThat(volumes.out()).startsWith("Deleted Volumes:\npr-vol\n");
        assertThat(ok(api.docker("volume", "ls", "-q")).out()).isEqualTo("pr-vol-kept\n");

        // images: dangling only (none here), then -a: every image no container uses (pr-kept uses busybox)
        ok(api.docker("tag", "busybox", "pr/copy:1"));
        assertThat(ok(api.docker("image", "prune", "-f")).out()).isEqualTo("Total reclaimed space: 0B\n");
        ok(api.docker("rm", "pr-kept"));
        Result images = ok(api.docker("image", "prune", "-a", "-f"));
        assertThat(images.out()).startsWith("Deleted Images:\ndeleted: sha256:");
        assertThat(ok(api.docker("images", "-q")).out()).isEmpty();
        ok(api.docker("volume", "rm", "pr-vol-kept"));
        ok(api.docker("network", "rm", "pr-net-kept"));
    }
}
