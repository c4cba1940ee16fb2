package dev.hull.service.docker;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * Testcontainers' health wait strategy (it polls inspect's State.Health.Status until healthy) against
 * the Docker API that DOCKER_HOST names ({@link DockerHealthcheckTest} runs it in a JVM of its own):
 * the container is made healthy 2 s after its start; prints "key: value" lines.
 */
public final class TestcontainersHealthScenario {
    public static void main(String[] args) throws Exception {
        try (GenericContainer<?> c = new GenericContainer<>("busybox:latest")
                .withCommand("sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 1000")
                .withCreateContainerCmdModifier(cmd -> cmd.withHealthcheck(new com.github.dockerjava.api.model.HealthCheck()
                        .withTest(java.util.List.of("CMD-SHELL", "test -e /tmp/ready"))
                        .withInterval(1_000_000_000L).withRetries(1000)))
                .withLabel("tc-health-test", "1")
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(java.time.Duration.ofMinutes(3)))) {
            c.start();
            System.out.println("ready file: " + c.execInContainer("ls", "/tmp/ready").getExitCode());
            System.out.println("health: " + c.getCurrentContainerInfo().getState().getHealth().getStatus());
        }
        System.out.println("done");
    }
}
