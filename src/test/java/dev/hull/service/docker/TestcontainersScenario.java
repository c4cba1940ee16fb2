package dev.hull.service.docker;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;

/**
 * What a Testcontainers user writes, run in a JVM of its own against the Docker API that
 * DOCKER_HOST names ({@link TestcontainersTest} starts it): a container with an exposed port and
 * a log wait strategy, a file copied in, an exec, its logs, its end. Prints "key: value" lines.
 */
public final class TestcontainersScenario {
    public static void main(String[] args) throws Exception {
        try (Network net = Network.newNetwork();
                GenericContainer<?> web = new GenericContainer<>("busybox:latest")
                        .withCommand("sh", "-c", "mkdir -p /www && echo served-by-hull > /www/index.html && echo ready"
                                + " && exec httpd -f -p 8080 -h /www")
                        .withExposedPorts(8080)
                        .withEnv("FROM_TC", "yes")
                        .withLabel("tc-test", "1")
                        .withNetwork(net)
                        .withNetworkAliases("web")
                        .waitingFor(Wait.forLogMessage(".*ready.*\\n", 1))) {
            web.start();
            System.out.println("id: " + web.getContainerId());
            int port = web.getMappedPort(8080);
            System.out.println("mapped: " + (port > 0));
            try (Socket s = new Socket(web.getHost(), port)) {
                s.getOutputStream().write("GET /index.html HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                String body = r.lines().filter(l -> l.contains("served-by")).findFirst().orElse("none");
                System.out.println("http: " + body);
            }
            web.copyFileToContainer(Transferable.of("copied in\n"), "/tmp/copied.txt");
            Container.ExecResult cat = web.execInContainer("cat", "/tmp/copied.txt");
            System.out.println("exec: " + cat.getExitCode() + " " + cat.getStdout().strip());
            Container.ExecResult env = web.execInContainer("sh", "-c", "echo $FROM_TC");
            System.out.println("env: " + env.getStdout().strip());
            System.out.println("logs: " + web.getLogs().contains("ready"));

            // A second container on the same network reaches the first by its alias; Wait.forHttp on
            // its own mapped port; its output followed as it comes.
            StringBuffer followed = new StringBuffer();
            try (GenericContainer<?> client = new GenericContainer<>("busybox:latest")
                    .withCommand("sh", "-c", "wget -qO- http://web:8080/index.html; mkdir -p /w && echo ok > /w/ping"
                            + " && exec httpd -f -p 9090 -h /w")
                    .withExposedPorts(9090)
                    .withLabel("tc-test", "1")
                    .withNetwork(net)
                    .waitingFor(Wait.forHttp("/ping").forPort(9090).forStatusCode(200))) {
                client.start();
                client.followOutput(frame -> followed.append(frame.getUtf8String()));
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!followed.toString().contains("served-by-hull") && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                System.out.println("by alias: " + followed.toString().contains("served-by-hull"));
            }
        }
        System.out.println("done");
        System.exit(0);
    }
}
