package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI tests that run warm really go through the service in the test JVM; the cold ones do not. */
class TestServiceTest {
    @TempDir
    Path dir;

    JsonNode version(HullCommand hull) throws Exception {
        HullCommand.Result r = hull.run("version", "--format", "json");
        assertThat(r.exit()).as("%s", r).isZero();
        return new ObjectMapper().readTree(r.out());
    }

    @Test
    void warmCommandsRunInTheTestsServiceWithTheirOwnStore() throws Exception {
        HullCommand warm = HullCommand.warm(dir.resolve("home"), dir.resolve("state"), Map.of());
        JsonNode service = version(warm).path("Engine").path("Service");
        assertThat(service.path("Pid").asLong()).as("served by this JVM").isEqualTo(ProcessHandle.current().pid());
        long served = service.path("CommandsServed").asLong();
        // a command counts once its thread has finished, which may be just after its client read the answer
        long now = served;
        for (long deadline = System.nanoTime() + 60_000_000_000L; now <= served && System.nanoTime() < deadline; ) {
            now = version(warm).path("Engine").path("Service").path("CommandsServed").asLong();
        }
        assertThat(now).isGreaterThan(served);

        HullCommand.Result r = warm.run("volume", "create", "tst-own");
        assertThat(r.exit()).as("%s", r).isZero();
        assertThat(Files.isDirectory(dir.resolve("home"))).as("the command's HULL_HOME, not the service's").isTrue();
        assertThat(warm.run("volume", "ls", "-q").out()).isEqualTo("tst-own\n");
    }

    @Test
    void coldCommandsRunInAJvmOfTheirOwn() throws Exception {
        HullCommand cold = HullCommand.cold(dir.resolve("home"), dir.resolve("state"), Map.of());
        assertThat(version(cold).path("Engine").path("Service").isMissingNode()).isTrue();
    }
}
