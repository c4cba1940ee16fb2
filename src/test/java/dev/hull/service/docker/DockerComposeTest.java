package dev.hull.service.docker;

import static dev.hull.service.docker.ApiService.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.hull.service.docker.ApiService.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Debian's docker-compose (1.29, docker-py) against Hull's Docker API (DOCKER_HOST): a two-service
 * project with a user network, a named volume, depends_on and environment comes up, its services
 * reach each other by name, and {@code down -v} removes every container, network and volume it made;
 * a service's {@code build:} goes through POST /build.
 */
class DockerComposeTest extends ApiServiceTest {
    private static final Path COMPOSE = Path.of("/usr/bin/docker-compose");

    @BeforeAll
    static void needsCompose() {
        Assumptions.assumeTrue(Files.isExecutable(COMPOSE), "docker-compose is not installed (Debian's docker-compose)");
    }

    private static Result compose(Path project, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(COMPOSE.toString(), "-p", "hullpair"));
        cmd.addAll(List.of(args));
        return api.run(null, cmd, project);
    }

    @Test
    void twoServicesOnANetworkWithAVolumeUpAndDown() throws Exception {
        Path project = Files.createDirectories(tmp.resolve("pair"));
        Files.writeString(project.resolve("docker-compose.yml"), """
                version: "3.8"
                services:
                  db:
                    image: busybox
                    command: ["sh", "-c", "echo \\"$$GREETING from db\\" > /data/index.html && exec httpd -f -v -h /data -p 8080"]
                    environment:
                      GREETING: hello
                    volumes:
                      - store:/data
                    networks: [back]
                  web:
                    image: busybox
                    depends_on: [db]
                    command: ["sleep", "1000"]
                    environment:
                      PEER: db
                    networks: [back]
                volumes:
                  store: {}
                networks:
                  back: {}
                """);
        try {
            Result up = compose(project, "up", "-d");
            assertThat(up.exit()).as("%s", up).isZero();
            assertThat(up.err()).contains("Creating network \"hullpair_back\"", "Creating volume \"hullpair_store\"");
            // depends_on: db was created (and started) before web
            assertThat(created("hullpair_db_1")).isBeforeOrEqualTo(created("hullpair_web_1"));

            Result ps = ok(compose(project, "ps"));
            assertThat(ps.out()).contains("hullpair_db_1", "hullpair_web_1").contains("Up");

            // web reaches db by its service name, on the project's network; db's file is on the named volume
            String page = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (page == null) {
                Result get = compose(project, "exec", "-T", "web", "sh", "-c", "wget -qO- http://$PEER:8080/");
                if (get.exit() == 0) {
                    page = get.out();
                } else if (System.nanoTime() > deadline) {
                    throw new AssertionError("web never reached db: " + get);
                } else {
                    Thread.sleep(200);
                }
            }
            assertThat(page).isEqualTo("hello from db\n");
            assertThat(ok(api.docker("volume", "inspect", "-f", "{{.Labels}}", "hullpair_store")).out())
                    .contains("com.docker.compose.project:hullpair");
            Result logs = ok(compose(project, "logs", "db"));
            assertThat(logs.out()).contains("db_1", "response:200"); // busybox httpd -v logs the request web made

            Result down = compose(project, "down", "-v");
            assertThat(down.exit()).as("%s", down).isZero();
            assertThat(ok(api.docker("ps", "-a", "--filter", "label=com.docker.compose.project=hullpair", "-q"))
                    .out()).isEmpty();
            assertThat(ok(api.docker("network", "ls", "--format", "{{.Name}}")).out()).doesNotContain("hullpair");
            assertThat(ok(api.docker("volume", "ls", "--format", "{{.Name}}")).out()).doesNotContain("hullpair");
        } finally {
            compose(project, "down", "-v");
        }
    }

    /**
     * A service with {@code build:} (context, args): docker-compose build sends it to POST /build
     * (docker-py, the classic builder's protocol) and prints the steps Hull streams back; the image
     * is tagged PROJECT_SERVICE, and docker-compose run uses it.
     */
    @Test
    void buildOfAServiceGoesThroughTheBuildEndpoint() throws Exception {
        Path project = Files.createDirectories(tmp.resolve("built"));
        Path app = Files.createDirectories(project.resolve("app"));
        Files.writeString(app.resolve("msg.txt"), "from the context\n");
        Files.writeString(app.resolve("Dockerfile"), """
                FROM busybox
                ARG WHO=nobody
                COPY msg.txt /
                RUN echo "built for $WHO" > /built
                CMD ["cat", "/msg.txt", "/built"]
                """);
        Files.writeString(project.resolve("docker-compose.yml"), """
                version: "3.8"
                services:
                  app:
                    build:
                      context: ./app
                      args:
                        WHO: compose
                """);
        List<String> base = List.of(COMPOSE.toString(), "-p", "hullbuilt");
        try {
            Result build = api.run(null, concat(base, "build", "--no-cache"), project);
            assertThat(build.exit()).as("%s", build).isZero();
            assertThat(build.out() + build.err()).contains("Step 1/5 : FROM busybox", "Step 4/5 : RUN echo",
                    "Successfully tagged hullbuilt_app:latest");
            Result run = api.run(null, concat(base, "run", "--rm", "app"), project);
            assertThat(run.exit()).as("%s", run).isZero();
            assertThat(run.out()).isEqualTo("from the context\nbuilt for compose\n");
            Result again = ok(api.run(null, concat(base, "build"), project));
            assertThat(again.out() + again.err()).contains("Using cache");
        } finally {
            api.run(null, concat(base, "down", "--rmi", "local"), project);
        }
        assertThat(ok(api.docker("images", "-q", "hullbuilt_app")).out()).isEmpty();
    }

    private static List<String> concat(List<String> a, String... more) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

    private static java.time.Instant created(String container) throws Exception {
        return java.time.Instant.parse(ok(api.docker("inspect", "-f", "{{.Created}}", container)).out().strip());
    }
}
