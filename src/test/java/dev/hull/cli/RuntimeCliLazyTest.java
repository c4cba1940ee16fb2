package dev.hull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A cold hull-runtime builds picocli's model of the command it runs only, found past runc's global options. */
class RuntimeCliLazyTest {
    @Test
    void theCommandIsFoundPastRuncsGlobalOptions() {
        assertThat(RuntimeCli.named(new String[] {"--root", "/run/x", "--log", "/l.json", "--log-format", "json",
            "--systemd-cgroup", "create", "--bundle", "b", "id"})).isEqualTo("create");
        assertThat(RuntimeCli.named(new String[] {"--debug", "--criu", "criu", "--rootless", "false", "state", "x"}))
                .isEqualTo("state");
        assertThat(RuntimeCli.named(new String[] {"--root=/run/x", "exec", "--tty", "id", "sh"}))
                .isEqualTo("exec");
        assertThat(RuntimeCli.named(new String[] {"--root", "update", "update", "id"}))
                .as("a value that names a command is still the option's").isEqualTo("update");
        assertThat(RuntimeCli.named(new String[] {"ps", "id"})).isEqualTo("ps");
    }

    @Test
    void helpTyposAndNoCommandGetEveryCommand() {
        assertThat(RuntimeCli.named(new String[] {"--help"})).isNull();
        assertThat(RuntimeCli.named(new String[] {"help", "create"})).isNull();
        assertThat(RuntimeCli.named(new String[] {"--root", "/x", "lst"})).isNull();
        assertThat(RuntimeCli.named(new String[] {})).isNull();
        assertThat(RuntimeCli.named(new String[] {"--root"})).isNull();
    }
}
