package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docker ps filters of dockerd's list that Hull lacked: before, since, volume, expose, publish,
 * isolation, is-task, through the docker CLI on created containers of this test's own.
 */
class DockerListFiltersTest extends ApiServiceTest {

    /** The names of this test's containers that docker ps -a lists with the filter, oldest first. */
    static List<String> listed(String filter) throws Exception {
        return ok(api.docker("ps", "-a", "--filter", "name=^/lf-", "--filter", filter, "--format", "{{.Names}}"))
                .out().lines().sorted().toList();
    }

    @Test
    void dockerdsOtherListFilters() throws Exception {
        ok(api.docker("create", "--name", "lf-a", "--network", "none", "--expose", "8080", "-v", "lf-vol:/data",
                "busybox", "true"));
        ok(api.docker("create", "--name", "lf-b", "-p", "127.0.0.1::80/udp", "--tmpfs", "/scratch", "busybox", "true"));
        ok(api.docker("create", "--name", "lf-c", "--network", "none", "busybox", "true"));
        assertThat(listed("before=lf-b")).containsExactly("lf-a");
        assertThat(listed("since=lf-a")).containsExactly("lf-b", "lf-c");
        assertThat(listed("volume=lf-vol")).containsExactly("lf-a");
        assertThat(listed("volume=/data")).containsExactly("lf-a");
        assertThat(listed("volume=/scratch")).containsExactly("lf-b");
        assertThat(listed("expose=8080")).containsExactly("lf-a");
        assertThat(listed("expose=8000-8100/tcp")).containsExactly("lf-a");
        assertThat(listed("expose=8080/udp")).isEmpty();
        assertThat(listed("publish=80/udp")).containsExactly("lf-b");
        assertThat(listed("publish=80")).isEmpty(); // tcp unless told
        assertThat(listed("isolation=default")).containsExactly("lf-a", "lf-b", "lf-c");
        assertThat(listed("is-task=true")).isEmpty();
        ApiService.Result unknown = api.docker("ps", "-a", "--filter", "since=lf-nosuch");
        assertThat(unknown.exit()).as("%s", unknown).isNotZero();
        assertThat(unknown.err()).containsIgnoringCase("no such container");
        ok(api.docker("rm", "lf-a", "lf-b", "lf-c"));
        ok(api.docker("volume", "rm", "lf-vol"));
    }
}
